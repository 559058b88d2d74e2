"""Pickling: an Index as its path and payload checksum (re-opened, and refused when the file
changed), answers and batches as plain data; and a real process pool (spawn) using both."""

import concurrent.futures
import copy
import multiprocessing
import os
import pickle
import shutil

import numpy as np
import pytest

import hospital_locator as hl


def _copy(src, dst):
    shutil.copyfile(src, dst)
    return str(dst)


def test_an_index_pickles_as_its_path_and_checksum_not_its_bytes(gb, gb_path):
    data = pickle.dumps(gb)
    assert len(data) < 500  # the GB index is 45 MB
    assert os.path.abspath(gb_path).encode() in data
    assert gb.info().checksum.encode() in data
    again = pickle.loads(data)
    assert isinstance(again, hl.Index) and again is not gb
    assert again.info().checksum == gb.info().checksum
    assert again.nearest("CH4 7QP").to_dict() == gb.nearest("CH4 7QP").to_dict()


def test_a_relative_path_reopens_from_another_working_directory(tiny_path, work, monkeypatch):
    _copy(tiny_path, work / "tiny.hlx")
    monkeypatch.chdir(work)
    data = pickle.dumps(hl.Index("tiny.hlx"))
    monkeypatch.chdir("/")
    again = pickle.loads(data)
    assert again.path == str(work / "tiny.hlx")
    assert again.nearest("CH4 7QP", treatment="kyphoplasty")[0].site.id == "chester"


def test_a_file_replaced_since_pickling_is_refused_with_bad_index(tiny_path, gb_path, gb, work):
    path = _copy(tiny_path, work / "index.hlx")
    tiny_checksum = hl.Index(path).info().checksum
    data = pickle.dumps(hl.Index(path))
    os.replace(_copy(gb_path, work / "new.hlx"), path)  # rebuilt in place, as `build` does
    with pytest.raises(hl.BadIndex) as e:
        pickle.loads(data)
    assert str(e.value) == (
        f"cannot unpickle the Index of {path!r}: the file's payload checksum is "
        f"{gb.info().checksum}, the pickled Index's {tiny_checksum} (the file was rebuilt or "
        "replaced since it was pickled)")
    assert e.value.code == "bad_index"
    os.remove(path)
    with pytest.raises(hl.BadIndex, match="No such file or directory"):
        pickle.loads(data)


def test_an_index_opened_with_verify_is_verified_again_when_unpickled(tiny_path, work):
    path = _copy(tiny_path, work / "index.hlx")
    checked, unchecked = pickle.dumps(hl.Index(path, verify=True)), pickle.dumps(hl.Index(path))
    with open(path, "r+b") as f:  # damage the payload, not the header that holds the checksum
        f.seek(-1, os.SEEK_END)
        last = f.read(1)
        f.seek(-1, os.SEEK_END)
        f.write(bytes([last[0] ^ 0xFF]))
    with pytest.raises(hl.BadIndex, match="checksum"):
        pickle.loads(checked)
    assert isinstance(pickle.loads(unchecked), hl.Index)  # the header's checksum still matches


def test_a_state_that_is_not_an_index_s_is_bad_index():
    with pytest.raises(hl.BadIndex, match="not the state an Index pickles to"):
        hl.Index.__new__(hl.Index).__setstate__(("x",))


def _answers(index):
    nearest = index.nearest("CH4 7QP")
    reverse = index.reverse(53.1763575, -2.8952629, k=2)
    return [nearest, nearest[0], nearest[0].site, nearest[0].phone, nearest.query,
            index.lookup("CH4 7QP"), reverse, reverse[1], index.info(), index.treatments()[0]]


def test_answers_pickle_as_their_to_dict(gb, cli):
    for answer in _answers(gb):
        data = pickle.dumps(answer)
        assert b"hospital_locator" not in data  # plain data: no module needed to load it
        assert pickle.loads(data) == answer.to_dict(), type(answer).__name__
        assert copy.copy(answer) is answer and copy.deepcopy(answer) is answer
    assert pickle.loads(pickle.dumps(gb.nearest("CH4 7QP"))) == cli.json("nearest", "CH4 7QP")


def _assert_plain_batch(batch, names):
    plain = pickle.loads(pickle.dumps(batch))
    assert set(plain) == set(names) | {"messages", "failed"}
    for name in names:
        value = getattr(batch, name)
        if isinstance(value, np.ndarray):
            assert plain[name].dtype == value.dtype, name
            np.testing.assert_array_equal(plain[name], value, err_msg=name)
        else:
            assert plain[name] == value, name
    assert plain["messages"] == batch.messages and plain["failed"] == batch.failed
    return plain


def test_batches_pickle_as_a_dict_of_their_arrays(gb):
    postcodes = ["CH4 7QP", "CM15 8ZZ", "nonsense", "BT1 1AA"]
    batch = gb.nearest_many(postcodes, k=2)
    plain = _assert_plain_batch(batch, ["treatment", "k", "site", "distance_m", "bearing_deg",
                                        "status", "match", "lat", "lon", "approximate",
                                        "site_ids", "phones"])
    assert plain["site_ids"][plain["site"][0, 0]] == "chester"
    assert plain["phones"][plain["site"][0, 0]] == "01244 680444"
    assert sorted(plain["messages"]) == [2, 3]
    _assert_plain_batch(gb.lookup_many(postcodes),
                        ["postcode", "match", "located", "lat", "lon", "eastings_m", "northings_m",
                         "quality", "postcode_count", "country", "terminated", "status"])
    _assert_plain_batch(gb.reverse_many([53.1763575, 91.0], [-2.8952629, 0.0], k=2),
                        ["k", "postcode", "distance_m", "bearing_deg", "quality", "status"])


# Run in the pool's worker processes: each gets the Index by pickle and opens the file itself.
def _nearest_in_worker(index, postcodes):
    return os.getpid(), index.nearest_many(postcodes, k=3, threads=1), index.nearest(postcodes[-1])


def _raise_in_worker(index, postcode):
    return index.nearest(postcode)


def test_a_spawned_process_pool_answers_as_this_process_does(gb, all_postcodes):
    chunks = [all_postcodes[i::4][:2000] for i in range(4)]
    chunks[0] = np.array(["nonsense", *chunks[0]])  # a failed row travels back as its message
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
        results = list(pool.map(_nearest_in_worker, [gb] * len(chunks), chunks))
        with pytest.raises(hl.InvalidPostcode) as e:
            pool.submit(_raise_in_worker, gb, "nonsense").result()
    assert {pid for pid, _, _ in results} - {os.getpid()}  # really other processes
    for chunk, (_, plain, last) in zip(chunks, results):
        here = gb.nearest_many(chunk, k=3)
        for name in ("site", "distance_m", "bearing_deg", "status", "match", "lat", "lon"):
            np.testing.assert_array_equal(plain[name], getattr(here, name), err_msg=name)
        assert plain["messages"] == here.messages
        assert last == gb.nearest(chunk[-1]).to_dict()
    assert results[0][1]["messages"] == {0: "'nonsense' is not a valid UK postcode: it has 8 "
                                         "letters and digits; a postcode has 5 to 7 (outward "
                                         "code and inward code)"}
    with pytest.raises(hl.InvalidPostcode) as here:
        gb.nearest("nonsense")
    assert (e.value.code, e.value.message) == (here.value.code, here.value.message)
