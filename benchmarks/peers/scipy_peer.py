#!/usr/bin/python3
"""SciPy / scikit-learn peer: what a Python user writes today for "nearest hospitals".

  nearest --sites S --queries Q [--k 3] [--method ckdtree|balltree] [--runs 5] [--warmup 1]
          [--latency-queries 1000] --out ANSWERS
      Sites and query points as our index has them (hloc_peers sites/queries), so distances
      compare to the millimetre. Candidates from the tree (cKDTree over 3-D unit vectors, all
      cores via workers=-1; or BallTree with the haversine metric, which has no parallel query),
      3k of them, re-ranked by pyproj Geod (Karney's exact geodesic on WGS84), ties by site id.
      Times the whole query set vectorised, and single calls for a latency distribution.
      Prints one JSON object.
  batch --zip codepo_gb.zip --grid OSTN15.tif --sites S [--k 3] --out CSV [--sample FILE]
      The whole file-to-file job: pandas reads Code-Point Open from the zip, pyproj transforms
      British National Grid to WGS84 through the OSTN15 grid, cKDTree + Geod as above, pandas
      writes the CSV (postcode, site_N_id, site_N_metres). benchmarks/run times the process
      and reads its peak memory.
  reverse --postcodes P --points PTS [--runs 5] --out F
      Nearest postcode to each point: cKDTree over the postcodes' unit vectors (chord order),
      distance by Geod.
"""

import argparse
import io
import json
import sys
import time
import zipfile

import numpy as np
import pandas as pd
from pyproj import Geod, Transformer
from scipy.spatial import cKDTree

GEOD = Geod(ellps="WGS84")


def unit_vectors(lat_deg, lon_deg):
    lat = np.radians(lat_deg)
    lon = np.radians(lon_deg)
    return np.column_stack((np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)))


class Nearest:
    def __init__(self, sites, method):
        self.ids = sites["id"].to_numpy()
        self.lat = sites["lat"].to_numpy()
        self.lon = sites["lon"].to_numpy()
        self.method = method
        if method == "ckdtree":
            self.tree = cKDTree(unit_vectors(self.lat, self.lon))
        else:
            from sklearn.neighbors import BallTree
            self.tree = BallTree(np.radians(np.column_stack((self.lat, self.lon))), metric="haversine")

    def query(self, qlat, qlon, k):
        """(site index array [n, k], metres [n, k]) for query arrays."""
        cand = min(3 * k, len(self.ids))
        if self.method == "ckdtree":
            _, idx = self.tree.query(unit_vectors(qlat, qlon), k=cand, workers=-1)
        else:
            _, idx = self.tree.query(np.radians(np.column_stack((qlat, qlon))), k=cand)
        idx = np.asarray(idx).reshape(len(qlat), cand)
        n = len(qlat)
        _, _, metres = GEOD.inv(np.repeat(qlon, cand), np.repeat(qlat, cand),
                                self.lon[idx.ravel()], self.lat[idx.ravel()])
        metres = np.asarray(metres).reshape(n, cand)
        # Order by (distance, site index): sites are in id order, so that is (distance, id).
        order = np.lexsort((idx, metres), axis=1)[:, :k]
        return np.take_along_axis(idx, order, axis=1), np.take_along_axis(metres, order, axis=1)


def wide_frame(postcodes, ids, idx, metres, k):
    out = pd.DataFrame({"postcode": postcodes})
    for r in range(k):
        out[f"site_{r + 1}_id"] = ids[idx[:, r]]
        out[f"site_{r + 1}_metres"] = np.round(metres[:, r], 4)
    return out


def cmd_nearest(a):
    sites = pd.read_csv(a.sites)
    queries = pd.read_csv(a.queries)
    qlat, qlon = queries["lat"].to_numpy(), queries["lon"].to_numpy()
    build_start = time.perf_counter()
    nearest = Nearest(sites, a.method)
    build_s = time.perf_counter() - build_start
    runs = []
    for run in range(a.warmup + a.runs):
        start = time.perf_counter()
        idx, metres = nearest.query(qlat, qlon, a.k)
        if run >= a.warmup:
            runs.append(time.perf_counter() - start)
    wide_frame(queries["postcode"], nearest.ids, idx, metres, a.k).to_csv(a.out, index=False)
    # One call per query, as a service written in Python would make it.
    lat_ns = []
    m = min(a.latency_queries, len(qlat))
    for i in range(m + min(100, m)):
        start = time.perf_counter_ns()
        nearest.query(qlat[i % m: i % m + 1], qlon[i % m: i % m + 1], a.k)
        if i >= min(100, m):
            lat_ns.append(time.perf_counter_ns() - start)
    lat_ns.sort()
    pct = lambda p: float(lat_ns[max(0, int(np.ceil(p * len(lat_ns))) - 1)])
    print(json.dumps({"impl": a.method, "queries": len(qlat), "sites": len(sites), "build_s": build_s,
                      "run_s": runs, "p50_ns": pct(0.5), "p90_ns": pct(0.9), "p99_ns": pct(0.99)}))


def cmd_batch(a):
    # Every Data/CSV/*.csv of the Code-Point Open zip, as the OS documents its columns.
    names = ["postcode", "quality", "eastings", "northings", "country", "nhs_region", "nhs_ha",
             "county", "district", "ward"]
    frames = []
    areas = None
    if a.sample:
        # Only the postcode areas of the sample: a user with a list would read no more.
        wanted = pd.read_csv(a.sample)["postcode"]
        areas = set(wanted.str.extract(r"^([A-Z]+)", expand=False).str.lower())
    with zipfile.ZipFile(a.zip) as z:
        for member in z.namelist():
            if areas is not None and member.rsplit("/", 1)[-1][:-4] not in areas:
                continue
            if member.startswith("Data/CSV/") and member.endswith(".csv"):
                frames.append(pd.read_csv(io.BytesIO(z.read(member)), header=None, names=names,
                                          usecols=[0, 1, 2, 3]))
    pc = pd.concat(frames, ignore_index=True)
    pc = pc[pc["quality"] != 90]
    if a.sample:
        pc = pc[pc["postcode"].isin(set(wanted))]
    pipeline = ("+proj=pipeline +step +inv +proj=tmerc +lat_0=49 +lon_0=-2 +k=0.9996012717 "
                "+x_0=400000 +y_0=-100000 +ellps=airy "
                f"+step +proj=hgridshift +grids={a.grid} "
                "+step +proj=unitconvert +xy_in=rad +xy_out=deg +step +proj=axisswap +order=2,1")
    lat, lon = Transformer.from_pipeline(pipeline).transform(pc["eastings"].to_numpy(dtype=float),
                                                             pc["northings"].to_numpy(dtype=float))
    if not np.isfinite(lat).all():
        sys.exit("scipy_peer: the OSTN15 transform failed (grid not found?)")
    sites = pd.read_csv(a.sites)
    nearest = Nearest(sites, "ckdtree")
    idx, metres = nearest.query(np.asarray(lat), np.asarray(lon), a.k)
    wide_frame(pc["postcode"].to_numpy(), nearest.ids, idx, metres, a.k).to_csv(a.out, index=False)


def cmd_reverse(a):
    pcs = pd.read_csv(a.postcodes)
    pts = pd.read_csv(a.points)
    build_start = time.perf_counter()
    tree = cKDTree(unit_vectors(pcs["lat"].to_numpy(), pcs["lon"].to_numpy()))
    build_s = time.perf_counter() - build_start
    plat, plon = pts["lat"].to_numpy(), pts["lon"].to_numpy()
    runs = []
    for run in range(a.warmup + a.runs):
        start = time.perf_counter()
        _, idx = tree.query(unit_vectors(plat, plon), k=1, workers=-1)
        _, _, metres = GEOD.inv(plon, plat, pcs["lon"].to_numpy()[idx], pcs["lat"].to_numpy()[idx])
        if run >= a.warmup:
            runs.append(time.perf_counter() - start)
    pd.DataFrame({"point": np.arange(len(plat)), "postcode": pcs["postcode"].to_numpy()[idx],
                  "metres": np.round(metres, 4)}).to_csv(a.out, index=False)
    print(json.dumps({"impl": "ckdtree", "queries": len(plat), "build_s": build_s, "run_s": runs}))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    n = sub.add_parser("nearest")
    n.add_argument("--sites", required=True)
    n.add_argument("--queries", required=True)
    n.add_argument("--k", type=int, default=3)
    n.add_argument("--method", choices=["ckdtree", "balltree"], default="ckdtree")
    n.add_argument("--runs", type=int, default=5)
    n.add_argument("--warmup", type=int, default=1)
    n.add_argument("--latency-queries", type=int, default=1000)
    n.add_argument("--out", required=True)
    b = sub.add_parser("batch")
    b.add_argument("--zip", required=True)
    b.add_argument("--grid", required=True)
    b.add_argument("--sites", required=True)
    b.add_argument("--k", type=int, default=3)
    b.add_argument("--sample")
    b.add_argument("--out", required=True)
    r = sub.add_parser("reverse")
    r.add_argument("--postcodes", required=True)
    r.add_argument("--points", required=True)
    r.add_argument("--runs", type=int, default=5)
    r.add_argument("--warmup", type=int, default=1)
    r.add_argument("--out", required=True)
    a = p.parse_args()
    {"nearest": cmd_nearest, "batch": cmd_batch, "reverse": cmd_reverse}[a.cmd](a)


if __name__ == "__main__":
    main()
