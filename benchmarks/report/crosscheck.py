"""Checks a peer's answers against ours before its time may count.

Answers files are CSV with a header, in one of two shapes:
  long:  postcode,rank,site_id,metres            (hloc_peers)
  wide:  postcode,...,site_N_id,...,site_N_metres (our batch report, PostGIS, SciPy; other
         columns are ignored)
Reverse-geocoding answers (point,postcode,metres) are compared with ``compare_reverse``.

Two answers agree when they name the same sites in the same order and every distance is within
the tolerance (1 mm for peers that start from our coordinates; 1 cm for peers that transform
Code-Point themselves, since ours are quantised to <= 2.6 mm and both use OSTN15).
"""

import csv
import gc
import re
import sys

MAX_EXAMPLES = 5


def read_answers(path, key="postcode"):
    """{postcode: [(site_id, metres), ...]} in rank order."""
    # csv.reader and column numbers rather than DictReader, and no cyclic garbage collection
    # while millions of small tuples are made: a whole-GB answers file (5.2 million long rows)
    # reads in about a third of the time, and a full run reads eight of them.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _read_answers(path, key)
    finally:
        if gc_was_enabled:
            gc.enable()


def _read_answers(path, key):
    answers = {}
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        fields = next(reader, [])
        column = {name: i for i, name in enumerate(fields)}
        if "rank" in column:
            pc, rank, site, metres = column[key], column["rank"], column["site_id"], column["metres"]
            for row in reader:
                if not row:  # a blank line, which DictReader skipped too
                    continue
                ranked = answers.get(row[pc])
                if ranked is None:
                    ranked = answers[row[pc]] = []
                ranked.append((int(row[rank]), row[site], float(row[metres])))
            for code, ranked in answers.items():
                ranked.sort()
                answers[code] = [(s, m) for _, s, m in ranked]
            return answers
        ranks = sorted(int(m.group(1)) for m in (re.fullmatch(r"site_(\d+)_id", c) for c in fields) if m)
        if not ranks:
            raise ValueError(f"{path}: neither a rank column nor site_N_id columns")
        pc = column[key]
        pairs = [(column[f"site_{n}_id"], column.get(f"site_{n}_metres")) for n in ranks]
        nan = float("nan")
        width = len(fields)
        for row in reader:
            if not row:
                continue
            if len(row) < width:  # a short row: its missing fields are empty, as DictReader had them
                row += [""] * (width - len(row))
            answers[row[pc]] = [(row[s], float(row[m]) if m is not None and row[m] else nan)
                                for s, m in pairs if row[s]]
    return answers


def compare(ours, theirs, tolerance_m, only=None, ties_agree=False):
    """Compares two answer dicts on the postcodes of ``only`` (default: all of ours).

    Returns {checked, agree (count), disagreements (count), missing, max_diff_m, ties,
    examples, ok}. An example shows both answers for one postcode. With ties_agree, other
    names at the same distances (within the tolerance) agree and are counted as ties: for
    reverse geocoding, where postcodes sharing a centroid are equally right."""
    keys = list(only) if only is not None else list(ours)
    checked = agree = missing = 0
    max_diff = 0.0
    examples = []
    order_disagreements = distance_disagreements = ties = 0
    for pc in keys:
        mine = ours.get(pc)
        if mine is None:
            continue
        checked += 1
        other = theirs.get(pc)
        if other is None:
            missing += 1
            if len(examples) < MAX_EXAMPLES:
                examples.append({"postcode": pc, "ours": mine, "peer": None, "why": "missing"})
            continue
        same_sites = [s for s, _ in mine] == [s for s, _ in other]
        if not same_sites and ties_agree and len(mine) == len(other) and all(
                abs(a - b) <= tolerance_m for (_, a), (_, b) in zip(mine, other)):
            ties += 1
            agree += 1
            continue
        diffs = [abs(a - b) for (_, a), (_, b) in zip(mine, other)] if same_sites else []
        worst = max(diffs, default=0.0)
        if same_sites:
            max_diff = max(max_diff, worst)
        if same_sites and not worst > tolerance_m:  # NaN (no distance) counts as a difference
            agree += 1
            continue
        if same_sites:
            distance_disagreements += 1
            why = f"distance differs by {worst:.4f} m"
        else:
            order_disagreements += 1
            why = "different sites or order"
        if len(examples) < MAX_EXAMPLES:
            examples.append({"postcode": pc, "ours": mine, "peer": other, "why": why})
    disagreements = checked - agree
    return {"checked": checked, "agree": agree, "disagreements": disagreements,
            "order_disagreements": order_disagreements,
            "distance_disagreements": distance_disagreements, "missing": missing,
            "max_diff_m": max_diff, "tolerance_m": tolerance_m, "ties": ties, "examples": examples,
            "ok": checked > 0 and disagreements == 0}


def compare_files(ours_path, theirs_path, tolerance_m, key="postcode"):
    return compare(read_answers(ours_path, key), read_answers(theirs_path, key), tolerance_m)


def read_reverse(path):
    with open(path, newline="") as f:
        return {row["point"]: [(row["postcode"], float(row["metres"]))] for row in csv.DictReader(f)}


def compare_reverse(ours_path, theirs_path, tolerance_m):
    return compare(read_reverse(ours_path), read_reverse(theirs_path), tolerance_m, ties_agree=True)


def describe(result):
    """One line, then the examples: what the report prints for a check."""
    if result["ok"]:
        ties = f"; {result['ties']:,} equidistant ties named differently" if result.get("ties") else ""
        return (f"agrees on all {result['checked']:,} (max distance difference "
                f"{result['max_diff_m'] * 1000:.2f} mm, tolerance {result['tolerance_m'] * 1000:g} mm{ties})")
    parts = [f"DISAGREES on {result['disagreements']:,} of {result['checked']:,}"]
    if result["order_disagreements"]:
        parts.append(f"{result['order_disagreements']:,} in sites or order")
    if result["distance_disagreements"]:
        parts.append(f"{result['distance_disagreements']:,} in distance beyond "
                     f"{result['tolerance_m'] * 1000:g} mm")
    if result["missing"]:
        parts.append(f"{result['missing']:,} missing")
    return ", ".join(parts)


def format_example(example):
    def show(ans):
        if ans is None:
            return "(no answer)"
        return ", ".join(f"{s} {m:.3f} m" for s, m in ans)
    return f"{example['postcode']}: ours {show(example['ours'])}; peer {show(example['peer'])} ({example['why']})"


if __name__ == "__main__":
    # crosscheck.py OURS THEIRS [TOLERANCE_M]: exit 0 when they agree, 1 when not.
    r = compare_files(sys.argv[1], sys.argv[2], float(sys.argv[3]) if len(sys.argv) > 3 else 0.001)
    print(describe(r))
    for e in r["examples"]:
        print("  " + format_example(e))
    sys.exit(0 if r["ok"] else 1)
