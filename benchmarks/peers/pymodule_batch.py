#!/usr/bin/python3
"""Our Python module on the batch workload: CSV in with pandas, nearest_many (all cores, GIL
released), CSV out with NearestBatch.to_csv (the batch tool's CSV, written by the contract's
writer); what a Python user of hospital_locator writes.

  pymodule_batch.py --index F --in CSV(postcode,...) --out CSV [--k 3]

Before to_csv existed this script built a pandas frame of ids and distances (1.8 s for all of
GB) and wrote it with DataFrame.to_csv (4.4 s) of its 8.4 s; to_csv writes the whole batch CSV
in 0.75 s (measured 2026-11-28, issue 12's closing note).
"""
import argparse

import pandas as pd

import hospital_locator

p = argparse.ArgumentParser()
p.add_argument("--index", required=True)
p.add_argument("--in", dest="inp", required=True)
p.add_argument("--out", required=True)
p.add_argument("--k", type=int, default=3)
a = p.parse_args()

df = pd.read_csv(a.inp, usecols=["postcode"], dtype=str, keep_default_na=False)
index = hospital_locator.Index(a.index)
index.nearest_many(df["postcode"], k=a.k, threads=0).to_csv(a.out)
