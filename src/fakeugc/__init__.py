"""fakeugc: find fake user-generated content (paid seeding, 种草) in post exports."""

__version__ = "0.1.0"
