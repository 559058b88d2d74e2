#!/usr/bin/python3
"""Our Python module on the batch workload: CSV in, nearest_many (all cores, GIL released),
CSV out with pandas; what a Python user of hospital_locator writes.

  pymodule_batch.py --index F --in CSV(postcode,...) --out CSV [--k 3]
"""
import argparse

import numpy as np
import pandas as pd

import hospital_locator

p = argparse.ArgumentParser()
p.add_argument("--index", required=True)
p.add_argument("--in", dest="inp", required=True)
p.add_argument("--out", required=True)
p.add_argument("--k", type=int, default=3)
a = p.parse_args()

df = pd.read_csv(a.inp, usecols=["postcode"])
index = hospital_locator.Index(a.index)
batch = index.nearest_many(df["postcode"].to_numpy(), k=a.k, threads=0)
site = np.asarray(batch.site).reshape(len(df), a.k)
ids = np.asarray(batch.site_ids)[site]
metres = np.asarray(batch.distance_m).reshape(len(df), a.k)
out = pd.DataFrame({"postcode": df["postcode"]})
for r in range(a.k):
    out[f"site_{r + 1}_id"] = ids[:, r]
    out[f"site_{r + 1}_metres"] = np.round(metres[:, r], 4)
out.to_csv(a.out, index=False)
