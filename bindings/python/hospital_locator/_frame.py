"""nearest_frame: Index.nearest_many as a pandas DataFrame in the batch report's columns, for
postcodes, or for the points of a GeoDataFrame; sites_frame: the sites as a GeoDataFrame.

pandas and GeoPandas are imported when a function is called, not when hospital_locator is.
"""

from __future__ import annotations

from ._core import _ROW_STATUS, _round_to
from ._errors import STATUS_NAMES, InvalidParameter, Match, Status

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing slows the package's import
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    import geopandas
    import numpy.typing as npt
    import pandas

    from ._core import Index, NearestBatch

_METRES_PER_MILE = 1609.344  # as engine/include/hloc/geodesy.hpp, so miles round alike

#: Engine status -> the batch report's status column, as the contract maps them for every
#: shell (engine/contract/include/hloc/contract/status.hpp): "ok", "not_found" (also for a
#: non-geographic postcode), "not_covered" or "invalid". An answered row from a sector or
#: district centroid is "approximate" instead of "ok".
NEAREST_FRAME_STATUS = {Status(code): name for code, name in _ROW_STATUS.items()}


def nearest_frame(index: "Index", df: "pandas.DataFrame", postcode_column: str | None = None, *,
                  k: int = 3, treatment: str | None = None,
                  max_miles: float | None = None, max_km: float | None = None,
                  keep_columns: bool = True, threads: int = 0) -> "pandas.DataFrame":
    """The k nearest sites for every row of df, as a DataFrame with the batch CSV's columns.

    df: a pandas DataFrame with a column of postcodes (``postcode_column``, "postcode" when
    None), or a GeoDataFrame of points in any CRS. A GeoDataFrame is answered from its active
    geometry, transformed to WGS84 by GeoPandas (``to_crs``), unless ``postcode_column`` is
    given; it must have a CRS (InvalidParameter if not). The answer is then a GeoDataFrame in
    df's CRS, keeping df's geometry. A row whose geometry is missing, empty or not a Point is
    "invalid" (error_code "invalid_parameter", error_message says what the geometry is).

    Columns: df's own columns first (unless keep_columns=False, which keeps only a
    GeoDataFrame's geometry; one whose name is also a result column's, in any case, is
    renamed ``input_<name>`` as the batch CSV does), then ``status``, ``match``,
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
        import pandas as pd
    except ImportError as e:  # pragma: no cover - pandas is a Debian package dependency
        raise ImportError("nearest_frame needs pandas (Debian: apt install python3-pandas)") from e

    options: dict[str, Any] = dict(k=k, treatment=treatment, max_miles=max_miles, max_km=max_km,
                                   threads=threads)
    geometry = _geometry_name(df)
    problems: dict[int, str] = {}
    if geometry is not None and postcode_column is None:
        lat, lon, problems = _wgs84_points(df)
        batch = index.nearest_many(lat=lat, lon=lon, **options)
    else:
        postcode_column = "postcode" if postcode_column is None else postcode_column
        if postcode_column not in df.columns:
            raise KeyError(f"no column {postcode_column!r} in the DataFrame; its columns are "
                           f"{', '.join(map(repr, map(str, df.columns)))}")
        batch = index.nearest_many(df[postcode_column], **options)

    out = pd.DataFrame(_answer_columns(batch, problems), index=df.index)
    results = {str(c).lower() for c in out.columns}

    def renamed(c: Any) -> Any:
        return f"input_{c}" if str(c).lower() in results else c

    if keep_columns:
        inputs = df.rename(columns=renamed)
    elif geometry is not None:
        inputs = df[[geometry]].rename(columns=renamed)
    else:
        return out
    # By position, not by label: an index with repeated labels must not multiply rows.
    out = pd.concat([pd.DataFrame(inputs).reset_index(drop=True), out.reset_index(drop=True)],
                    axis=1)
    out.index = df.index
    if geometry is None:
        return out
    import geopandas
    return geopandas.GeoDataFrame(out, geometry=renamed(geometry), crs=df.crs)


def _answer_columns(batch: NearestBatch, problems: dict[int, str]) -> dict[str, object]:
    """The batch CSV's columns of a NearestBatch; ``problems`` (row -> message) are rows the
    caller found invalid before asking (a geometry that is not a point)."""
    import numpy as np

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
    for row, message in problems.items():
        columns["status"][row] = "invalid"  # type: ignore[index]
        error_code[row] = InvalidParameter.code
        error_message[row] = message
    columns["error_code"] = error_code
    columns["error_message"] = error_message
    return columns


def _geometry_name(df: Any) -> str | None:
    """The active geometry column of a GeoDataFrame; None for any other frame. GeoPandas is
    not imported for a plain DataFrame."""
    if "geopandas" not in type(df).__module__:
        return None
    import geopandas
    if not isinstance(df, geopandas.GeoDataFrame):  # pragma: no cover - a GeoSeries, say
        return None
    name: str | None = df.geometry.name
    return name


def _wgs84_points(df: Any) -> tuple[npt.NDArray[Any], npt.NDArray[Any], dict[int, str]]:
    """lat, lon (WGS84 degrees) of a GeoDataFrame's points, NaN where a row has no point, and
    row -> why for those rows."""
    import numpy as np

    if df.crs is None:
        raise InvalidParameter(
            "the GeoDataFrame has no CRS, so its points cannot be put in WGS84: set the one its "
            "coordinates are in, e.g. gdf.set_crs('EPSG:27700') for British National Grid "
            "eastings and northings, or gdf.set_crs('EPSG:4326') for WGS84 longitude and "
            "latitude")
    geometry = df.geometry
    kinds = np.asarray(geometry.geom_type, dtype=object)
    missing = np.asarray(geometry.isna())
    empty = np.asarray(geometry.is_empty) & ~missing
    point = (kinds == "Point") & ~empty & ~missing
    lat = np.full(len(df), np.nan)
    lon = np.full(len(df), np.nan)
    if point.any():
        wgs84 = geometry[point].to_crs(4326)  # GeoPandas' (pyproj's) own transformation
        lon[point] = np.asarray(wgs84.x, dtype=float)
        lat[point] = np.asarray(wgs84.y, dtype=float)
    problems: dict[int, str] = {}
    for row in np.flatnonzero(~point):
        if missing[row]:
            problems[int(row)] = "the row has no geometry; a Point is needed"
        elif empty[row]:
            problems[int(row)] = "the geometry is empty; a Point is needed"
        else:
            problems[int(row)] = f"the geometry is a {kinds[row]}, not a Point"
    return lat, lon, problems


def sites_frame(index: "Index") -> "geopandas.GeoDataFrame":
    """Every site of the index as a GeoDataFrame in WGS84 (EPSG:4326), one row per site in
    Index.sites() order, indexed by Site.index (the values of NearestBatch.site): id, name,
    street, locality, town, postcode, located_by, postcode_quality, treatments (comma
    separated), then for each treatment T of the index phone_T (national display form),
    phone_T_e164, phone_T_uri and phone_T_source ("" where the site does not offer T), and
    the site's point as geometry."""
    import geopandas
    import pandas as pd

    sites = index.sites()
    treatments = [t.name for t in index.treatments()]
    columns: dict[str, list[Any]] = {
        name: [getattr(s, name) for s in sites]
        for name in ("id", "name", "street", "locality", "town", "postcode", "located_by",
                     "postcode_quality")
    }
    columns["treatments"] = [",".join(s.treatments) for s in sites]
    phones = [s.phones for s in sites]
    for t in treatments:
        for field, suffix in (("display", ""), ("e164", "_e164"), ("uri", "_uri"),
                              ("source", "_source")):
            columns[f"phone_{t}{suffix}"] = [getattr(p[t], field) if t in p else ""
                                             for p in phones]
    points = geopandas.points_from_xy([s.lon for s in sites], [s.lat for s in sites],
                                      crs="EPSG:4326")
    return geopandas.GeoDataFrame(columns, geometry=points,
                                  index=pd.RangeIndex(len(sites), name="site"))
