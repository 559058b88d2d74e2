#!/usr/bin/python3
"""The report generator: ratios, target verdicts, disagreements and "not built" lines, from a
hand-made results.json whose figures are chosen so that every ratio is exact."""
import json
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

REPORT = Path(__file__).resolve().parents[2] / "benchmarks" / "report" / "report.py"

DISAGREEMENT = {"checked": 4, "agree": 3, "disagreements": 1, "order_disagreements": 1,
                "distance_disagreements": 0, "missing": 0, "max_diff_m": 0.0, "tolerance_m": 0.01,
                "ok": False,
                "examples": [{"postcode": "TA1 1AA", "ours": [["taunton", 1000.0], ["plymouth", 90000.0]],
                              "peer": [["plymouth", 90000.0], ["taunton", 1000.0]],
                              "why": "different sites or order"}]}
AGREEMENT = {"checked": 4, "agree": 4, "disagreements": 0, "order_disagreements": 0,
             "distance_disagreements": 0, "missing": 0, "max_diff_m": 0.0002, "tolerance_m": 0.001,
             "ok": True, "examples": []}


def row(peer, label, values, **extra):
    values = sorted(values)
    r = {"peer": peer, "label": label, "values": values, "median": values[len(values) // 2],
         "min": values[0], "max": values[-1], "n": len(values), "status": "ok", **extra}
    if extra.get("check") and not extra["check"]["ok"]:
        r["status"] = "disagrees"
    return r


RESULTS = {
    "meta": {"mode": "full", "started_utc": "2026-11-25T20:00:00Z", "finished_utc": "2026-11-25T20:10:00Z",
             "commit": "abc1234", "command": "benchmarks/run",
             "machine": {"cpu": "Test CPU", "cores": 2, "memory_gib": 8.0, "os": "Debian", "kernel": "6.1",
                         "load_before": ["0.1", "0.1", "0.1"], "load_after": ["0.2", "0.2", "0.2"]},
             "versions": {"postgresql": "15.0"},
             "sizes": {"runs": 5, "heavy_runs": 5, "warmup": 1, "queries": 4, "batch": "all located"}},
    "workloads": {
        "build": {"title": "Build the index", "metric": "seconds", "better": "lower", "note": "", "rows": [
            row("ours", "hospital-locator build", [4.0, 5.0, 6.0, 5.0, 4.5]),
            row("postgis", "PostGIS load", [20.0, 19.0, 21.0, 20.0, 22.0])]},
        "single": {"title": "Single nearest query", "metric": "queries_per_s", "better": "higher", "note": "",
                   "rows": [
            row("ours", "engine, by postcode, 1 thread", [900000.0, 1000000.0, 1100000.0],
                p50_ns=1000.0, p90_ns=1200.0, p99_ns=1500.0),
            row("ours-threads", "engine, by postcode, single calls from 2 threads", [1900000.0, 2000000.0, 2100000.0],
                check=AGREEMENT),
            row("postgis-exact", "PostGIS exact", [19000.0, 20000.0, 21000.0], check=AGREEMENT,
                p50_ns=100000.0, p90_ns=120000.0, p99_ns=150000.0),
            {"peer": "ours-http", "label": "our HTTP service (wrk)", "values": [], "status": "skipped",
             "why": "not built (tools/hospital-locator-serve missing)"}]},
        "batch": {"title": "Batch top-3", "metric": "seconds", "better": "lower", "note": "", "rows": [
            row("ours", "hospital-locator batch", [2.0, 2.0, 2.0], peak_rss_kib=102400),
            row("postgis-sphere", "PostGIS sphere", [14.0, 15.0, 17.0], check=DISAGREEMENT),
            row("scipy", "pandas + SciPy", [30.0, 33.0, 36.0], check=AGREEMENT, peak_rss_kib=1024000)]},
    },
}


class Report(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = Path(tempfile.mkdtemp())
        (cls.dir / "results.json").write_text(json.dumps(RESULTS))
        subprocess.run([sys.executable, str(REPORT), str(cls.dir)], check=True, capture_output=True)
        cls.md = (cls.dir / "report.md").read_text()
        cls.json = json.loads((cls.dir / "report.json").read_text())

    def headline(self, title_start):
        return next(h for h in self.json["headline"] if h["title"].startswith(title_start))

    def test_build_ratio_is_the_peer_median_over_ours(self):
        h = self.headline("build the index")
        self.assertEqual((h["ours"], h["theirs"], h["ratio"], h["status"]), (5.0, 20.0, 4.0, "met"))
        self.assertIn("| build the index vs PostGIS COPY + ST_Transform (OSTN15) + GiST + btree | 5 s | 20 s | "
                      "4.00x | ≥ 2.5x | met |", self.md)

    def test_throughput_ratio_is_ours_over_the_peer_and_a_short_one_is_missed(self):
        h = self.headline("single nearest query")
        self.assertEqual((h["ratio"], h["status"]), (50.0, "met"))
        self.assertIn("| 1,000,000/s | 20,000/s | 50.0x | ≥ 50x | met |", self.md)

    def test_a_shell_that_is_not_built_says_so(self):
        self.assertEqual(self.headline("our HTTP service (wrk)")["status"],
                         "not run: our HTTP service (wrk): not built (tools/hospital-locator-serve missing)")
        self.assertIn("| our HTTP service (wrk) | – | – | – | | | | not built (tools/hospital-locator-serve missing) |",
                      self.md)

    def test_a_disagreeing_peer_is_reported_with_its_examples(self):
        h = self.headline("batch top-3 to CSV vs PostGIS CROSS")
        self.assertEqual((h["ratio"], h["status"]), (7.5, "met"))
        self.assertIn("| 2 s | 15 s | 7.50x | ≥ 5x | met; peer disagrees on 1 of 4 |", self.md)
        self.assertIn("- **PostGIS sphere** (Batch top-3): DISAGREES on 1 of 4, 1 in sites or order", self.md)
        self.assertIn("  - TA1 1AA: ours taunton 1000.000 m, plymouth 90000.000 m; peer plymouth 90000.000 m, "
                      "taunton 1000.000 m (different sites or order)", self.md)

    def test_memory_is_compared_where_both_were_measured(self):
        h = self.headline("batch top-3 to CSV vs pandas")
        self.assertEqual((h["ratio"], h["memory_ratio"], h["status"]), (16.5, 10.0, "met"))
        self.assertIn("16.5x; memory 10.0x less (100 vs 1000 MiB)", self.md)

    def test_every_row_carries_its_ratio_against_ours(self):
        rows = self.json["workloads"]["batch"]["rows"]
        self.assertEqual([r.get("ratio_vs_ours") for r in rows], [None, 7.5, 16.5])
        self.assertIn("| pandas + SciPy (peak 1000 MiB) | 33 s | 30 s – 36 s | 16.50x | "
                      "agrees on all 4 (max distance difference 0.20 mm, tolerance 1 mm) |", self.md)

    def test_the_headline_is_also_written_alone_for_the_readme(self):
        headline = (self.dir / "headline.md").read_text()
        self.assertTrue(headline.startswith("full run of `benchmarks/run`, 2026-11-25T20:00:00Z, commit abc1234, "
                                            "Test CPU with 2 cores"))
        self.assertIn("| build the index vs PostGIS COPY + ST_Transform (OSTN15) + GiST + btree | 5 s | 20 s | "
                      "4.00x | ≥ 2.5x | met |", headline)
        self.assertNotIn("## Build the index", headline)

    def test_single_calls_from_every_core_are_held_to_100x(self):
        h = self.headline("single nearest queries, in-process, single calls from every core")
        self.assertEqual((h["ours"], h["ratio"], h["status"]), (2000000.0, 100.0, "met"))
        self.assertIn("| 2,000,000/s | 20,000/s | 100.0x | ≥ 100x | met |", self.md)

    def test_our_own_figures_are_held_to_their_limits(self):
        got = {h["title"]: (h.get("ours"), h["status"]) for h in self.json["limits"]}
        self.assertEqual(got["build the index, wall"], (5.0, "missed"))
        self.assertEqual(got["nearest top 3 of 10 sites by postcode, p50 (1 thread)"], (1000.0, "met"))
        self.assertEqual(got["batch top 3 over all GB to CSV, wall"], (2.0, "missed"))
        self.assertEqual(got["reverse geocoding, p50 (1 thread, tree loaded)"], (None, "not run"))
        self.assertIn("| build the index, wall | 5 s | ≤ 4 s | missed |", self.md)
        self.assertIn("| nearest top 3 of 10 sites by postcode, p50 (1 thread) | 1 µs | ≤ 1 µs | met |", self.md)
        self.assertIn("| reverse geocoding, p50 (1 thread, tree loaded) |  | ≤ 1.5 µs | not run |", self.md)

    def test_the_machine_and_the_method_are_stated(self):
        self.assertIn("Machine: Test CPU, 2 cores, 8.0 GiB, Debian, Linux 6.1", self.md)
        self.assertIn("Figures: median of 5 timed runs", self.md)


if __name__ == "__main__":
    unittest.main()
