#!/usr/bin/python3
"""The cross-check that decides whether a peer's time counts: tiny answers with known values."""
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks" / "report"))
import crosscheck  # noqa: E402

OURS_LONG = """postcode,rank,site_id,metres
CM15 8EH,1,brentwood,0.0000
CM15 8EH,2,haywards-heath,85337.1234
CM15 8EH,3,wessex,149021.5000
PL6 8BG,2,taunton,95000.0000
PL6 8BG,1,plymouth,0.0000
PL6 8BG,3,cardiff-bay,130000.2500
"""


def write(tmp, name, text):
    path = Path(tmp) / name
    path.write_text(text)
    return path


class CrossCheck(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        self.ours = crosscheck.read_answers(write(self.tmp, "ours.csv", OURS_LONG))

    def test_long_answers_are_read_in_rank_order_whatever_the_row_order(self):
        self.assertEqual(self.ours["PL6 8BG"], [("plymouth", 0.0), ("taunton", 95000.0),
                                                ("cardiff-bay", 130000.25)])

    def test_a_wide_answer_with_the_same_sites_within_a_millimetre_agrees(self):
        wide = write(self.tmp, "peer.csv", "postcode,status,site_1_id,site_1_metres,site_2_id,site_2_metres,"
                     "site_3_id,site_3_metres\n"
                     "CM15 8EH,ok,brentwood,0.0,haywards-heath,85337.1240,wessex,149021.5009\n"
                     "PL6 8BG,ok,plymouth,0.0,taunton,95000.0,cardiff-bay,130000.25\n")
        r = crosscheck.compare(self.ours, crosscheck.read_answers(wide), 0.001)
        self.assertTrue(r["ok"])
        self.assertEqual((r["checked"], r["agree"], r["disagreements"]), (2, 2, 0))
        self.assertAlmostEqual(r["max_diff_m"], 0.0009, places=9)
        self.assertEqual(crosscheck.describe(r),
                         "agrees on all 2 (max distance difference 0.90 mm, tolerance 1 mm)")

    def test_swapped_sites_are_a_disagreement_with_the_example(self):
        wide = write(self.tmp, "peer.csv", "postcode,site_1_id,site_1_metres,site_2_id,site_2_metres,"
                     "site_3_id,site_3_metres\n"
                     "CM15 8EH,brentwood,0.0,wessex,149021.5,haywards-heath,85337.1234\n"
                     "PL6 8BG,plymouth,0.0,taunton,95000.0,cardiff-bay,130000.25\n")
        r = crosscheck.compare(self.ours, crosscheck.read_answers(wide), 0.001)
        self.assertFalse(r["ok"])
        self.assertEqual((r["disagreements"], r["order_disagreements"], r["distance_disagreements"]), (1, 1, 0))
        self.assertEqual(crosscheck.describe(r), "DISAGREES on 1 of 2, 1 in sites or order")
        self.assertEqual(crosscheck.format_example(r["examples"][0]),
                         "CM15 8EH: ours brentwood 0.000 m, haywards-heath 85337.123 m, wessex 149021.500 m; "
                         "peer brentwood 0.000 m, wessex 149021.500 m, haywards-heath 85337.123 m "
                         "(different sites or order)")

    def test_a_distance_beyond_the_tolerance_and_a_missing_postcode_are_disagreements(self):
        long = write(self.tmp, "peer.csv", "postcode,rank,site_id,metres\n"
                     "CM15 8EH,1,brentwood,0.0\nCM15 8EH,2,haywards-heath,85337.1454\nCM15 8EH,3,wessex,149021.5\n")
        r = crosscheck.compare(self.ours, crosscheck.read_answers(long), 0.01)
        self.assertEqual((r["checked"], r["disagreements"], r["distance_disagreements"], r["missing"]), (2, 2, 1, 1))
        self.assertEqual(r["examples"][0]["why"], "distance differs by 0.0220 m")
        self.assertEqual(r["examples"][1]["why"], "missing")
        self.assertEqual(crosscheck.describe(r),
                         "DISAGREES on 2 of 2, 1 in distance beyond 10 mm, 1 missing")

    def test_reverse_answers_naming_another_postcode_at_the_same_distance_are_ties(self):
        ours = write(self.tmp, "rev-ours.csv", "point,postcode,metres\n0,W1U 3BD,3.5950\n1,HA9 0TD,15.5260\n")
        peer = write(self.tmp, "rev-peer.csv", "point,postcode,metres\n0,W1U 3BG,3.5950\n1,HA9 0TE,15.6000\n")
        r = crosscheck.compare_reverse(ours, peer, 0.001)
        self.assertEqual((r["checked"], r["agree"], r["ties"], r["order_disagreements"]), (2, 1, 1, 1))
        self.assertEqual(crosscheck.describe(r), "DISAGREES on 1 of 2, 1 in sites or order")

    def test_nothing_to_compare_is_not_agreement(self):
        r = crosscheck.compare({}, self.ours, 0.001)
        self.assertFalse(r["ok"])
        self.assertEqual(r["checked"], 0)

    def test_the_command_line_exits_1_on_a_disagreement(self):
        import subprocess
        peer = write(self.tmp, "peer.csv", OURS_LONG.replace("taunton", "wessex"))
        script = Path(crosscheck.__file__)
        same = subprocess.run([sys.executable, script, Path(self.tmp) / "ours.csv", Path(self.tmp) / "ours.csv"],
                              capture_output=True, text=True)
        differ = subprocess.run([sys.executable, script, Path(self.tmp) / "ours.csv", peer],
                                capture_output=True, text=True)
        self.assertEqual(same.returncode, 0)
        self.assertEqual(differ.returncode, 1)
        self.assertEqual(differ.stdout.splitlines()[0], "DISAGREES on 1 of 2, 1 in sites or order")


if __name__ == "__main__":
    unittest.main()
