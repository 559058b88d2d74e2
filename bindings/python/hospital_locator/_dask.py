"""nearest_dask: nearest_frame over every partition of a Dask DataFrame.

Dask is imported when the function is called, not when hospital_locator is imported.
"""

from __future__ import annotations

from ._frame import nearest_frame

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing slows the package's import
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    import pandas

    from ._core import Index

    # Dask's DataFrame has no type information mypy can use: to a type checker it is Any.
    DaskDataFrame = Any


def nearest_dask(index: "Index", ddf: "DaskDataFrame",
                 postcode_column: str | None = None, *, k: int = 3,
                 treatment: str | None = None, max_miles: float | None = None,
                 max_km: float | None = None, keep_columns: bool = True,
                 threads: int = 1) -> "DaskDataFrame":
    """nearest_frame for a Dask DataFrame: a lazy Dask DataFrame of the same partitions, each
    answered by nearest_frame on whichever worker holds it (ddf.map_partitions, with the
    result's columns and dtypes as meta, so nothing is computed to learn them).

    The arguments are nearest_frame's, and each partition's rows are exactly what
    nearest_frame gives for them. k, treatment and the distance limits are checked here,
    once, raising as nearest_frame would, before any task runs.

    The Index travels to the workers by pickle, as its path and payload checksum: every
    worker must see the same file at that path (one machine, or a shared file system), and a
    worker that finds another file there fails its task with BadIndex.

    threads: engine threads per partition. 1 by default, as Dask already runs one task per
    worker thread; 0 for all cores when each worker runs one task at a time.
    """
    options: dict[str, Any] = dict(k=k, treatment=treatment, max_miles=max_miles, max_km=max_km,
                                   keep_columns=keep_columns, threads=threads)
    # The answer to no rows: its columns and dtypes are every partition's (and the arguments
    # are validated here, in the caller's process).
    meta = nearest_frame(index, ddf._meta, postcode_column, **options)
    return ddf.map_partitions(_answer_partition, index, postcode_column, meta=meta,
                              align_dataframes=False, **options)


def _answer_partition(partition: "pandas.DataFrame", index: "Index", postcode_column: str | None,
                      **options: Any) -> "pandas.DataFrame":
    """One partition's task (map_partitions gives the partition first)."""
    return nearest_frame(index, partition, postcode_column, **options)
