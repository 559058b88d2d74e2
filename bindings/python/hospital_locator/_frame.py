"""nearest_frame: Index.nearest_many as a pandas DataFrame in the batch report's columns.

pandas is imported when the function is called, not when hospital_locator is imported.
"""

from __future__ import annotations

from ._core import _ROW_STATUS, _round_to
from ._errors import STATUS_NAMES, Match, Status

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing slows the package's import
if TYPE_CHECKING:  # pragma: no cover
    import pandas

    from ._core import Index

_METRES_PER_MILE = 1609.344  # as engine/include/hloc/geodesy.hpp, so miles round alike

#: Engine status -> the batch report's status column, as the contract maps them for every
#: shell (engine/contract/include/hloc/contract/status.hpp): "ok", "not_found" (also for a
#: non-geographic postcode), "not_covered" or "invalid". An answered row from a sector or
#: district centroid is "approximate" instead of "ok".
NEAREST_FRAME_STATUS = {Status(code): name for code, name in _ROW_STATUS.items()}


def nearest_frame(index: "Index", df: "pandas.DataFrame", postcode_column: str = "postcode", *,
                  k: int = 3, treatment: str | None = None,
                  max_miles: float | None = None, max_km: float | None = None,
                  keep_columns: bool = True, threads: int = 0) -> "pandas.DataFrame":
    """The k nearest sites for every row of df, as a DataFrame with the batch CSV's columns.

    Columns: df's own columns first (unless keep_columns=False; one whose name is also a
    result column's, in any case, is renamed ``input_<name>`` as the batch CSV does), then
    ``status``, ``match``,
    ``lat``, ``lon``, then for n = 1..k ``site_n_id``, ``site_n_name``, ``site_n_phone``,
    ``site_n_metres``, ``site_n_miles``, then ``error_code`` and ``error_message``. One row
    per input row, same order, same index.

    status is "ok", "approximate" (answered from the sector or district centroid),
    "not_found" (also for non-geographic postcodes such as GIR 0AA), "not_covered" or
    "invalid" (error_code and error_message always say which code and why; the
    message is the CLI's). Numbers are rounded as the CSV prints them: lat/lon to 7
    decimals, metres to 0.1, miles to 0.001; NaN where there is no value, "" for text.
    A bad row never raises; k, treatment and the distance limit are checked once and raise
    as Index.nearest would.
    """
    try:
        import numpy as np
        import pandas as pd
    except ImportError as e:  # pragma: no cover - pandas is a Debian package dependency
        raise ImportError("nearest_frame needs pandas (Debian: apt install python3-pandas)") from e

    if postcode_column not in df.columns:
        raise KeyError(f"no column {postcode_column!r} in the DataFrame; its columns are "
                       f"{', '.join(map(repr, map(str, df.columns)))}")
    batch = index.nearest_many(df[postcode_column], k=k, treatment=treatment,
                               max_miles=max_miles, max_km=max_km, threads=threads)
    n = len(batch)

    match = batch.match_names()
    match[batch.match == Match.NONE] = ""
    columns: dict[str, object] = {
        "status": batch._row_status(),
        "match": match,
        "lat": _round_to(batch.lat, 7),
        "lon": _round_to(batch.lon, 7),
    }
    # Per-site text by site index, with a last entry "" for the -1 of "no site".
    sites = batch.sites
    ids = np.array([s.id for s in sites] + [""], dtype=object)
    names = np.array([s.name for s in sites] + [""], dtype=object)
    phones = np.array(list(batch.phones) + [""], dtype=object)
    site = np.where(batch.site < 0, len(sites), batch.site)
    metres = _round_to(batch.distance_m, 1)
    miles = _round_to(batch.distance_m / _METRES_PER_MILE, 3)
    for j in range(batch.k):
        p = f"site_{j + 1}_"
        columns[p + "id"] = ids[site[:, j]]
        columns[p + "name"] = names[site[:, j]]
        columns[p + "phone"] = phones[site[:, j]]
        columns[p + "metres"] = metres[:, j]
        columns[p + "miles"] = miles[:, j]
    error_code = np.full(n, "", dtype=object)
    error_message = np.full(n, "", dtype=object)
    for row, message in batch.messages.items():
        error_code[row] = STATUS_NAMES.get(int(batch.status[row]), "internal")
        error_message[row] = message
    columns["error_code"] = error_code
    columns["error_message"] = error_message

    out = pd.DataFrame(columns, index=df.index)
    if keep_columns:
        results = {str(c).lower() for c in out.columns}
        inputs = df.rename(columns=lambda c: f"input_{c}" if str(c).lower() in results else c)
        # By position, not by label: an index with repeated labels must not multiply rows.
        out = pd.concat([inputs.reset_index(drop=True), out.reset_index(drop=True)], axis=1)
        out.index = df.index
    return out
