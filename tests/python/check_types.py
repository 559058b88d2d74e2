#!/usr/bin/python3
"""The package's types under `mypy --strict` (Debian's python3-mypy): typed_usage.py must give
exactly one error on each line marked MISTAKE and none anywhere else, in it or in the package.

    check_types.py PACKAGE_DIR        (the directory holding hospital_locator/, with _core.pyi)
"""
import os
import re
import subprocess
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
usage = os.path.join(here, "typed_usage.py")
with open(usage) as f:
    expected = {n for n, line in enumerate(f, 1) if "# MISTAKE" in line}
with tempfile.TemporaryDirectory() as cache:
    p = subprocess.run([sys.executable, "-m", "mypy", "--config-file", os.path.join(here, "mypy.ini"),
                        "--cache-dir", cache, usage],
                       env={**os.environ, "MYPYPATH": sys.argv[1]}, capture_output=True, text=True)
errors = [line for line in p.stdout.splitlines() if ": error:" in line]
at_mistakes = [line for line in errors if re.match(r".*typed_usage\.py:(\d+):", line)
               and int(re.match(r".*typed_usage\.py:(\d+):", line).group(1)) in expected]
others = [line for line in errors if line not in at_mistakes]
caught = {int(re.match(r".*typed_usage\.py:(\d+):", line).group(1)) for line in at_mistakes}
print(p.stdout, p.stderr, sep="")
if others:
    sys.exit(f"check_types: {len(others)} unexpected mypy errors (above)")
if caught != expected or len(at_mistakes) != len(expected):
    sys.exit(f"check_types: the MISTAKE lines {sorted(expected)} should each give one error; "
             f"errors came on {sorted(caught)}")
print(f"check_types: the package passes mypy --strict; the {len(expected)} deliberate mistakes "
      "are refused")
