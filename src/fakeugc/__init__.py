"""fakeugc: find fake user-generated content (paid seeding, 种草) in post exports."""

import os as _os

# LightGBM's OpenMP threads spin while waiting; beside jieba workers or Spark tasks on
# a small machine that turns seconds into minutes (engineering.md pitfall 29). Passive
# waiting must be set before the OpenMP runtime loads, hence here.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
