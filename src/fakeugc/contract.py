"""The post-export contract (``../shared/contract/EXPORT.md``) as data.

One place names every table, column, type and requirement, so the reader, the
synthetic platform, the feature builders and the tests all agree on the shape.
The contract is a floor: columns it does not name are kept as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Column kinds understood by the reader.
STRING = "string"
TIMESTAMP = "timestamp"
BOOL = "bool"
COUNT = "count"  # int >= 0
LABEL = "label"  # int 0/1
STRING_LIST = "string_list"


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    required: bool = False
    non_empty: bool = False  # a required string that may not be ""


@dataclass(frozen=True)
class Table:
    name: str
    required: bool
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # columns that must be unique together
    #: columns of which at least one must be present (exposure counts)
    one_of: tuple[str, ...] = field(default_factory=tuple)
    #: the table's rows refer to ``posts.post_id`` and are set aside when it is unknown
    refers_to_posts: bool = False
    #: "export": the key is unique within each export (an account or brand snapshot is
    #: repeated in every night's export); "all": unique across every export read together
    key_scope: str = "all"

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]


POSTS = Table(
    "posts",
    required=True,
    key=("post_id",),
    columns=(
        Column("post_id", STRING, required=True, non_empty=True),
        Column("account_id", STRING, required=True, non_empty=True),
        Column("published_at", TIMESTAMP, required=True),
        Column("title", STRING, required=True),
        Column("body", STRING, required=True),
        Column("brand_tags", STRING_LIST),
        Column("disclosed_partnership", BOOL),
        Column("image_count", COUNT),
    ),
)

ACCOUNTS = Table(
    "accounts",
    required=False,
    key=("account_id",),
    key_scope="export",
    columns=(
        Column("account_id", STRING, required=True, non_empty=True),
        Column("created_at", TIMESTAMP, required=True),
        Column("followers", COUNT, required=True),
        Column("following", COUNT, required=True),
        Column("posts_total", COUNT, required=True),
        Column("verified", BOOL),
        Column("is_brand", BOOL),
        Column("device_cluster", STRING),
        Column("bio", STRING),
    ),
)

EXPOSURE_COUNTS = ("impressions", "likes", "collects", "comments", "shares")

EXPOSURE = Table(
    "exposure",
    required=False,
    key=("post_id", "hour"),
    refers_to_posts=True,
    one_of=EXPOSURE_COUNTS,
    columns=(
        Column("post_id", STRING, required=True, non_empty=True),
        Column("hour", COUNT, required=True),
        *(Column(c, COUNT) for c in EXPOSURE_COUNTS),
    ),
)

REPORTS = Table(
    "reports",
    required=False,
    key=(),
    refers_to_posts=True,
    columns=(
        Column("post_id", STRING, required=True, non_empty=True),
        Column("reported_at", TIMESTAMP, required=True),
        Column("reason", STRING),
    ),
)

BRANDS = Table(
    "brands",
    required=False,
    key=("brand_id",),
    key_scope="export",
    columns=(
        Column("brand_id", STRING, required=True, non_empty=True),
        Column("name", STRING, required=True),
        Column("aliases", STRING_LIST),
    ),
)

LABELS = Table(
    "labels",
    required=False,
    key=("post_id",),
    refers_to_posts=True,
    columns=(
        Column("post_id", STRING, required=True, non_empty=True),
        Column("label", LABEL, required=True),
        Column("labelled_at", TIMESTAMP),
        Column("fraud_type", STRING),
        Column("split", STRING),
    ),
)

#: Tables in the order they must be read: posts first, since other tables refer to it.
TABLES: dict[str, Table] = {
    t.name: t for t in (POSTS, ACCOUNTS, EXPOSURE, REPORTS, BRANDS, LABELS)
}

#: Reasons a row is set aside. Machine-readable; the part after ":" names the column.
REASON_MISSING = "missing_required"
REASON_EMPTY = "empty_required"
REASON_BAD_TIMESTAMP = "bad_timestamp"
REASON_BAD_INT = "bad_integer"
REASON_NEGATIVE = "negative_count"
REASON_BAD_BOOL = "bad_boolean"
REASON_BAD_LABEL = "bad_label"
REASON_DUPLICATE = "duplicate_key"
REASON_UNKNOWN_POST = "unknown_post"
REASON_NO_COUNTS = "no_counts"
