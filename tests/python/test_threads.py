"""One Index shared by many threads gives the same answers; vectorised calls release the GIL."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

import hospital_locator as hl


def test_worker_thread_counts_give_identical_answers(gb, all_postcodes):
    queries = all_postcodes[::8]
    one = gb.nearest_many(queries, k=3, threads=1)
    for threads in (2, 5, 0):
        many = gb.nearest_many(queries, k=3, threads=threads)
        for name in ["site", "distance_m", "bearing_deg", "status", "match", "lat", "lon"]:
            np.testing.assert_array_equal(getattr(one, name), getattr(many, name), err_msg=name)
    lookups = [gb.lookup_many(queries[:50000], threads=t) for t in (1, 3)]
    np.testing.assert_array_equal(lookups[0].lat, lookups[1].lat)
    np.testing.assert_array_equal(lookups[0].postcode, lookups[1].postcode)


def test_python_threads_sharing_one_index_get_the_sequential_answers(gb, all_postcodes):
    queries = [str(p) for p in all_postcodes[::997]] + ["nonsense", "BT1 1AA", "CM15 8"]

    def scalar(text):
        try:
            return [(n.site.id, n.distance_m) for n in gb.nearest(text, k=3)]
        except hl.Error as e:
            return (e.code, e.message)

    sequential = [scalar(q) for q in queries]
    batch_sequential = gb.nearest_many(queries, k=3)
    with ThreadPoolExecutor(max_workers=8) as pool:
        parallel = list(pool.map(scalar, queries))
        batches = list(pool.map(lambda _: gb.nearest_many(queries, k=3, threads=2), range(6)))
    assert parallel == sequential
    for b in batches:
        np.testing.assert_array_equal(b.site, batch_sequential.site)
        np.testing.assert_array_equal(b.distance_m, batch_sequential.distance_m)
        assert b.messages == batch_sequential.messages


def test_a_vectorised_call_lets_other_python_threads_run(gb, all_postcodes):
    # While nearest_many works on one core, this thread keeps counting. Were the GIL held,
    # it could count only before the call starts (one switch interval, 5 ms: a handful of
    # 0.5 ms naps) and after it ends.
    inside, done = threading.Event(), threading.Event()
    counted_inside = 0

    def work():
        inside.set()
        gb.nearest_many(all_postcodes, k=3, threads=1)
        done.set()

    worker = threading.Thread(target=work)
    worker.start()
    inside.wait()
    while not done.is_set():
        counted_inside += 1
        time.sleep(0.0005)
    worker.join()
    assert counted_inside > 100
