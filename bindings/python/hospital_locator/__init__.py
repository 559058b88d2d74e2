"""hospital_locator: which hospitals offering a treatment are nearest to a UK postcode.

The hospital-locator engine in-process: open an index (.hlx) once, then ask.

    >>> import hospital_locator as hl
    >>> index = hl.Index("build/hospitals.hlx")
    >>> answer = index.nearest("CH4 7QP")
    >>> answer[0].site.id, answer[0].distance_m
    ('chester', 0.0)
    >>> answer.to_dict()["results"][0]["phone"]["display"]   # the CLI's JSON shape
    '01244 680444'

Scalar calls (lookup, nearest, reverse) return small typed objects whose to_dict() is the
DESIGN.md JSON shape of `hospital-locator ... --format json`. Vectorised calls
(nearest_many, lookup_many, reverse_many) take NumPy arrays or sequences, release the GIL,
spread the rows over all cores and return NumPy arrays; a bad row gets a status code in its
row instead of raising. nearest_frame() gives a pandas DataFrame with the batch CSV columns
(a GeoDataFrame for a GeoDataFrame of points); nearest_dask() the same over a Dask DataFrame.

Engine errors raise subclasses of hospital_locator.Error (InvalidPostcode, PostcodeNotFound,
NotCovered, InvalidParameter, UnknownTreatment, BadIndex, ...) with .code and the CLI's
message.
"""

from ._errors import (
    MATCH_NAMES,
    STATUS_NAMES,
    BadIndex,
    BadInput,
    Error,
    IndexIOError,
    InternalError,
    InvalidParameter,
    InvalidPostcode,
    Match,
    NonGeographicPostcode,
    NotCovered,
    PostcodeNotFound,
    Status,
    UnknownSite,
    UnknownTreatment,
)
from ._core import (
    MAX_K,
    MAX_THREADS,
    Index,
    IndexInfo,
    LookupBatch,
    Nearest,
    NearestBatch,
    Neighbour,
    Phone,
    Postcode,
    Query,
    Reverse,
    ReverseBatch,
    ReverseHit,
    Site,
    Treatment,
)
from ._dask import nearest_dask
from ._frame import NEAREST_FRAME_STATUS, nearest_frame

__version__ = "0.1.0"

__all__ = [
    "BadIndex", "BadInput", "Error", "IndexIOError", "InternalError", "InvalidParameter",
    "InvalidPostcode", "NonGeographicPostcode", "NotCovered", "PostcodeNotFound",
    "UnknownSite", "UnknownTreatment", "Status", "Match", "STATUS_NAMES", "MATCH_NAMES",
    "MAX_K", "MAX_THREADS", "Index", "IndexInfo", "LookupBatch", "Nearest", "NearestBatch",
    "Neighbour", "Phone", "Postcode", "Query", "Reverse", "ReverseBatch", "ReverseHit", "Site",
    "Treatment", "nearest_frame", "NEAREST_FRAME_STATUS", "nearest_dask",
]
