#!/usr/bin/env python3
"""Writes every located GB postcode (Code-Point Open, positional quality != 90) as a one-column
CSV, in the order of the official distribution: the input of the batch benchmark.

    make_gb_postcodes.py CODEPO_GB_ZIP OUT.csv
"""
import csv
import io
import sys
import zipfile


def main() -> int:
    zip_path, out_path = sys.argv[1], sys.argv[2]
    rows = 0
    with zipfile.ZipFile(zip_path) as z, open(out_path, "w", newline="") as out:
        out.write("postcode\n")
        for name in sorted(n for n in z.namelist() if n.startswith("Data/CSV/") and n.endswith(".csv")):
            with z.open(name) as f:
                for rec in csv.reader(io.TextIOWrapper(f, encoding="utf-8")):
                    if rec and rec[1] != "90":
                        out.write(rec[0] + "\n")
                        rows += 1
    print(f"{rows} located postcodes -> {out_path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
