#!/usr/bin/python3
"""The Python module's figures (issue 6), measured in one process on one machine:

1. nearest_many top-3 for every located GB postcode, from a NumPy array of postcode strings,
   against what a Python user would otherwise write: a pandas postcode table, SciPy's cKDTree
   over the sites' unit vectors for candidates, pyproj's Geod.inv (Karney) for the exact
   ellipsoidal distances, re-ranked, with a provable bound deciding when the candidates are
   enough (else every site is measured). Both answers are checked to be the same.
2. A scalar index.nearest("CH4 7QP") call: the median over many timed batches.
3. `import hospital_locator` + opening the index, in a fresh python3 each time.

Usage (see README.md here):
    PYTHONPATH=build-py/bindings/python /usr/bin/python3 benchmarks/python/bench_python.py \
        --index /tmp/py-work/gb.hlx
"""

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
import timeit

import numpy as np

# engine/include/hloc/geodesy.hpp: a geodesic of s metres joins points at most
# s / MIN_RADIUS radians apart on the unit sphere (latitude read as geodetic).
WGS84_A = 6378137.0
WGS84_F = 1 / 298.257223563
MIN_RADIUS_M = WGS84_A * (1 - (2 * WGS84_F - WGS84_F * WGS84_F))


def unit_vectors(lat_deg, lon_deg):
    lat, lon = np.radians(lat_deg), np.radians(lon_deg)
    return np.column_stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])


class ScipyPyproj:
    """The pipeline a Python user would write: exact top-k without hospital_locator."""

    def __init__(self, table, site_lat, site_lon):
        from pyproj import Geod
        from scipy.spatial import cKDTree

        self.table = table  # pandas DataFrame indexed by postcode, with lat and lon
        self.site_lat, self.site_lon = np.asarray(site_lat), np.asarray(site_lon)
        self.tree = cKDTree(unit_vectors(self.site_lat, self.site_lon))
        self.geod = Geod(ellps="WGS84")

    def top_k(self, postcodes, k=3, candidates=5):
        n_sites = len(self.site_lat)
        candidates = min(max(candidates, k), n_sites)
        rows = self.table.index.get_indexer(postcodes)
        lat = self.table["lat"].to_numpy()[rows]
        lon = self.table["lon"].to_numpy()[rows]
        n = len(lat)
        chord, cand = self.tree.query(unit_vectors(lat, lon), k=candidates, workers=-1)
        dist = np.empty((n, candidates))
        for j in range(candidates):
            _, _, dist[:, j] = self.geod.inv(lon, lat, self.site_lon[cand[:, j]], self.site_lat[cand[:, j]])
        # Rank by (distance, site index); site indices follow site ids, the engine's tie-break.
        order = np.lexsort((cand, dist), axis=1)
        cand = np.take_along_axis(cand, order, axis=1)
        dist = np.take_along_axis(dist, order, axis=1)
        # Any site outside the candidates is at least the last candidate's chord away, so at
        # least this far along the ellipsoid: if the k-th distance is below it, the top k are final.
        bound = 2 * np.arcsin(np.minimum(chord[:, -1] / 2, 1.0)) * MIN_RADIUS_M
        unsure = np.flatnonzero(~(dist[:, k - 1] < bound)) if candidates < n_sites else np.array([], int)
        top_site, top_dist = cand[:, :k].copy(), dist[:, :k].copy()
        if len(unsure):  # measure every site for these rows
            all_d = np.empty((len(unsure), n_sites))
            for s in range(n_sites):
                _, _, all_d[:, s] = self.geod.inv(lon[unsure], lat[unsure], np.full(len(unsure), self.site_lon[s]),
                                                  np.full(len(unsure), self.site_lat[s]))
            o = np.lexsort((np.broadcast_to(np.arange(n_sites), all_d.shape), all_d), axis=1)[:, :k]
            top_site[unsure] = o
            top_dist[unsure] = np.take_along_axis(all_d, o, axis=1)
        return top_site, top_dist, len(unsure)


CPU_SECONDS = {}  # label -> median process CPU seconds (all threads), beside the wall time


def median_time(fn, repeats, label=None):
    times, cpu = [], []
    result = None
    for _ in range(repeats):
        c0, t0 = time.process_time(), time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    if label:
        CPU_SECONDS[label] = statistics.median(cpu)
    return statistics.median(times), result


def import_and_open(index_path, runs):
    code = ("import time; t0 = time.perf_counter(); import hospital_locator as hl; "
            f"i = hl.Index({index_path!r}); t1 = time.perf_counter(); print(t1 - t0)")
    inside, whole = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True,
                             env=os.environ).stdout
        whole.append(time.perf_counter() - t0)
        inside.append(float(out))
    return statistics.median(inside), statistics.median(whole)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index", required=True, help="the GB index (.hlx)")
    ap.add_argument("--repeats", type=int, default=3, help="runs of each whole-GB pipeline (median)")
    ap.add_argument("--k", type=int, default=3)
    args = ap.parse_args()

    import pandas as pd

    import hospital_locator as hl

    index = hl.Index(args.index)
    postcodes = index.postcodes()  # '<U8', every located postcode
    n = len(postcodes)
    sites = index.sites()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f}; python {platform.python_version()}, "
          f"numpy {np.__version__}, pandas {pd.__version__}", flush=True)

    # The competitor's postcode table: the same centroids, so the answers can be compared.
    coords = index.lookup_many(postcodes)
    table = pd.DataFrame({"lat": coords.lat, "lon": coords.lon}, index=pd.Index(postcodes, name="postcode"))
    rival = ScipyPyproj(table, [s.lat for s in sites], [s.lon for s in sites])

    ours_s, batch = median_time(lambda: index.nearest_many(postcodes, k=args.k), args.repeats, "ours")
    theirs_s, (their_site, their_dist, unsure) = median_time(lambda: rival.top_k(postcodes, k=args.k),
                                                           args.repeats, "theirs")
    assert batch.failed == 0
    differ = (their_site != batch.site).any(axis=1)
    # Rows ranked differently must be ties within the two distance algorithms' agreement.
    for row in np.flatnonzero(differ):
        assert np.abs(np.sort(their_dist[row]) - np.sort(batch.distance_m[row])).max() < 1e-3, postcodes[row]
    max_diff_m = float(np.abs(their_dist - batch.distance_m).max())
    print(f"nearest_many, {n} postcodes, top-{args.k}: hospital_locator {ours_s:.3f} s "
          f"({n / ours_s / 1e6:.2f} M/s), cKDTree + Geod.inv {theirs_s:.3f} s; ratio {theirs_s / ours_s:.1f}x; "
          f"same top-{args.k} on {n - differ.sum()} rows, {differ.sum()} near-ties (< 1 mm) ordered "
          f"differently; max distance difference {max_diff_m * 1000:.4f} mm (Vincenty vs Karney); "
          f"rows the rival had to measure against every site: {unsure}", flush=True)
    print(f"  CPU time (all threads): hospital_locator {CPU_SECONDS['ours']:.3f} s, cKDTree + Geod.inv "
          f"{CPU_SECONDS['theirs']:.3f} s; ratio {CPU_SECONDS['theirs'] / CPU_SECONDS['ours']:.1f}x", flush=True)

    one_s, _ = median_time(lambda: index.nearest_many(postcodes, k=args.k, threads=1), args.repeats)
    print(f"  hospital_locator on one worker thread (threads=1): {one_s:.3f} s; ratio {theirs_s / one_s:.1f}x",
          flush=True)

    timer = timeit.Timer(lambda: index.nearest("CH4 7QP"))
    per_call = [t / 2000 for t in timer.repeat(repeat=25, number=2000)]
    print(f"scalar index.nearest('CH4 7QP'): median {statistics.median(per_call) * 1e6:.2f} us "
          f"(min {min(per_call) * 1e6:.2f} us) over 25 x 2000 calls", flush=True)
    per_call = [t / 2000 for t in timeit.Timer(lambda: index.nearest("CH4 7QP").to_dict()).repeat(repeat=9, number=2000)]
    print(f"  with .to_dict(): median {statistics.median(per_call) * 1e6:.2f} us", flush=True)

    inside, whole = import_and_open(args.index, runs=21)
    print(f"import hospital_locator + Index(gb): median {inside * 1000:.1f} ms "
          f"(whole python3 process incl. interpreter start-up: {whole * 1000:.1f} ms), 21 runs", flush=True)


if __name__ == "__main__":
    main()
