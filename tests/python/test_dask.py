"""nearest_dask on a real distributed cluster: two worker processes on this machine, each
opening the index from the pickled Index, give nearest_frame's answer row for row."""

import logging
import os
import shutil

import dask
import dask.base
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
from distributed import Client, LocalCluster, get_task_stream

import hospital_locator as hl


@pytest.fixture(scope="module")
def client():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                      silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
        yield client


def _frame(all_postcodes):
    """109,000 real postcodes from all over GB, with rows that fail in between."""
    postcodes = list(all_postcodes[::16])
    for at, bad in ((0, "nonsense"), (50_000, "BT1 1AA"), (70_000, None), (90_000, "CM15 8ZZ")):
        postcodes.insert(at, bad)
    postcodes.append("GIR 0AA")
    return pd.DataFrame({"ref": np.arange(len(postcodes)) * 3,
                         "postcode": np.array(postcodes, dtype=object)},
                        index=pd.RangeIndex(len(postcodes)) + 1000)


def test_two_worker_processes_answer_as_one_process_does(gb, all_postcodes, client):
    df = _frame(all_postcodes)
    assert len(df) >= 100_000
    lazy = hl.nearest_dask(gb, dd.from_pandas(df, npartitions=8), k=3)
    assert list(lazy.columns) == list(hl.nearest_frame(gb, df.head(0), k=3).columns)
    with get_task_stream(client) as tasks:
        answered = client.compute(lazy).result()
    workers = {t["worker"] for t in tasks.data}
    assert len(workers) == 2  # both worker processes answered partitions
    assert os.getpid() not in set(client.run(os.getpid).values())
    expected = hl.nearest_frame(gb, df, k=3)
    pd.testing.assert_frame_equal(answered, expected)  # row for row: values, dtypes, index
    assert list(answered["status"].iloc[[0, 50_000, 70_000, 90_000, len(df) - 1]]) == \
        ["invalid", "not_covered", "invalid", "approximate", "not_found"]
    assert (answered["status"] == "ok").sum() == len(df) - 5


def test_the_same_call_on_the_same_index_file_is_the_same_graph(gb, gb_path, tiny, all_postcodes):
    ddf = dd.from_pandas(_frame(all_postcodes[:1000]), npartitions=2)
    with dask.config.set({"tokenize.ensure-deterministic": True}):
        assert dask.base.tokenize(gb) == dask.base.tokenize(hl.Index(gb_path))
        assert dask.base.tokenize(gb) != dask.base.tokenize(tiny)
        assert dask.base.tokenize(gb) != dask.base.tokenize(hl.Index(gb_path, verify=True))
        keys = hl.nearest_dask(gb, ddf).__dask_keys__()
        assert hl.nearest_dask(hl.Index(gb_path), ddf).__dask_keys__() == keys
        assert hl.nearest_dask(gb, ddf, k=2).__dask_keys__() != keys


def test_parameters_are_checked_once_before_any_task_runs(gb, all_postcodes):
    ddf = dd.from_pandas(_frame(all_postcodes[:1000]), npartitions=2)
    with pytest.raises(hl.InvalidParameter, match="k must be a whole number between 1 and 1000"):
        hl.nearest_dask(gb, ddf, k=0)
    with pytest.raises(KeyError, match="no column 'pc'"):
        hl.nearest_dask(gb, ddf, "pc")


def test_a_worker_refuses_an_index_file_replaced_after_the_call(tiny_path, gb_path, work,
                                                                 all_postcodes, client):
    path = work / "index.hlx"
    shutil.copyfile(tiny_path, path)
    lazy = hl.nearest_dask(hl.Index(path), dd.from_pandas(_frame(all_postcodes[:1000]), 2),
                           treatment="kyphoplasty")
    shutil.copyfile(gb_path, work / "new.hlx")
    os.replace(work / "new.hlx", path)
    with pytest.raises(hl.BadIndex, match="the file was rebuilt or replaced since it was pickled"):
        client.compute(lazy).result()
