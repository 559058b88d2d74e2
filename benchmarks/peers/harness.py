#!/usr/bin/python3
"""The workloads of benchmarks/run, each against every peer, in one process.

benchmarks/run installs packages and builds the programs, then runs this; see its --help and
benchmarks/README.md. Every workload is a step: a step whose program is not built is recorded
as "not built" and skipped; a step that fails is recorded with its error and the run goes on.
Every peer's answers are checked against ours (benchmarks/report/crosscheck.py) before its
time is reported as comparable; a peer that disagrees is reported as a disagreement, with
examples, next to its time.

Writes OUT/results.json (every raw figure) and OUT/answers/ (every answers file), then calls
benchmarks/report/report.py for report.md and the charts.
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.parse
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "report"))
import crosscheck  # noqa: E402
import postgis  # noqa: E402

PY = "/usr/bin/python3"  # Debian's, with Debian's numpy/scipy/pyproj: what the report names
TREATMENT = "kyphoplasty"
MM = 0.001
CM = 0.01


def log(msg):
    print(f"== {msg}", file=sys.stderr, flush=True)


def summary(values):
    if not values:
        return {}
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "n": len(values)}


LAST_RSS_KIB = [0]


def run_process(cmd, env=None, stdout=subprocess.DEVNULL, stdin=None, cwd=None, fresh=None):
    """Runs cmd; returns its wall seconds. Its peak resident memory (KiB, the largest of the
    process and the children it waited for) is left in LAST_RSS_KIB[0]. `fresh`: the file the
    run writes, removed before the clock starts, so that no timed run pays for freeing the
    previous run's output (the 463 MB batch CSV takes ~0.2 s to delete); the PostGIS batch
    removes its COPY output the same way."""
    if fresh is not None:
        Path(fresh).unlink(missing_ok=True)
    # Peak memory through GNU time, not our own wait4: Linux starts a forked child's maxrss at
    # the parent's resident size, and this harness holds millions of answers in memory.
    with tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile("r") as rss:
        start = time.perf_counter()
        p = subprocess.Popen(["/usr/bin/time", "-f", "%M", "-o", rss.name, *[str(c) for c in cmd]], env=env,
                             stdout=stdout, stderr=err, stdin=stdin, cwd=cwd)
        p.wait()
        seconds = time.perf_counter() - start
        LAST_RSS_KIB[0] = int(rss.read().strip().splitlines()[-1] or 0) if p.returncode == 0 else 0
        if p.returncode != 0:
            err.seek(0)
            raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({p.returncode}): "
                               f"{err.read().decode(errors='replace')[-2000:]}")
    return seconds


def peak_rss_kib(cmd=None, env=None):
    """Peak resident memory of the last run_process (every timed run measures it)."""
    return LAST_RSS_KIB[0]


def timed_runs(fn, runs, warmup):
    """fn() -> seconds; returns the timed runs after `warmup` untimed ones."""
    for _ in range(warmup):
        fn()
    return [fn() for _ in range(runs)]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Runner:
    def __init__(self, a):
        self.a = a
        self.out = Path(a.out).resolve()
        self.answers = self.out / "answers"
        self.answers.mkdir(parents=True, exist_ok=True)
        self.work = Path(tempfile.mkdtemp(prefix="hloc-bench-"))
        self.build = Path(a.build_dir).resolve()
        self.data = Path(a.data).resolve()
        self.zip = self.data / "codepo_gb.zip"
        self.grid = self.find_grid()
        self.peers = self.build / "benchmarks" / "hloc_peers"
        self.cli = self.build / "tools" / "hospital-locator"
        self.builder = self.build / "tools" / "hospital-locator-build"
        self.batch = self.build / "tools" / "batch" / "hospital-locator-batch"
        self.serve = self.build / "tools" / "hospital-locator-serve"
        self.pymodule = self.build / "bindings" / "python"
        self.quick = a.quick
        self.smoke = a.smoke
        # Sizes: --smoke checks that every peer starts and agrees; --quick is a small sample of
        # everything; the full run is every GB postcode.
        # steady_runs: whole-GB steps whose five runs spread (max - min) by at most 11 % of
        # their median in the committed full run (our batch tool 5 %, PostGIS batch in sphere
        # order 6 %, the engine reference 11 %): three runs tell as much there, and the two
        # runs saved on the PostGIS batch (~50 s) pay for the one run of its exact form. Steps
        # that spread by 30-36 % (both builds, the Python module, the pandas script) keep
        # heavy_runs. The query scaling's whole-GB point uses it too (see there). See "Time
        # budget" in benchmarks/README.md.
        if self.smoke:
            self.n_queries, self.n_batch, self.runs, self.heavy_runs, self.warmup = 50, 200, 1, 1, 0
            self.steady_runs = 1
        elif self.quick:
            self.n_queries, self.n_batch, self.runs, self.heavy_runs, self.warmup = 2000, 20000, 5, 1, 1
            self.steady_runs = 1
        else:
            self.n_queries, self.n_batch, self.runs, self.heavy_runs, self.warmup = 10000, None, 5, 5, 1
            self.steady_runs = 3
        self.results = {"meta": {}, "workloads": {}}
        self.cluster = None
        self.children = []

    def find_grid(self):
        for name in ("uk_os_OSTN15_NTv2_OSGBtoETRS.tif", "OSTN15_NTv2_OSGBtoETRS.gsb"):
            if (self.data / name).exists():
                return self.data / name
        raise SystemExit(f"no OSTN15 grid in {self.data}")

    # ---- bookkeeping ----------------------------------------------------------------------
    def workload(self, key, title, metric, better, note=""):
        w = self.results["workloads"].setdefault(key, {"title": title, "metric": metric,
                                                       "better": better, "note": note, "rows": []})
        return w

    def row(self, key, peer, label, values, check=None, status=None, **extra):
        w = self.results["workloads"][key]
        r = {"peer": peer, "label": label, "values": values, **summary(values), **extra}
        if check is not None:
            r["check"] = check
        r["status"] = status or ("ok" if check is None or check["ok"] else "disagrees")
        w["rows"].append(r)
        self.save()
        return r

    def skip(self, key, peer, label, why):
        w = self.results["workloads"][key]
        w["rows"].append({"peer": peer, "label": label, "values": [], "status": "skipped", "why": why})
        log(f"{key}: {label}: {why}")
        self.save()

    def save(self):
        (self.out / "results.json").write_text(json.dumps(self.results, indent=1, default=str))

    def step(self, name, fn):
        start = time.perf_counter()
        log(f"step {name}")
        try:
            fn()
        except Exception as e:  # noqa: BLE001: a failing step is reported, the run goes on
            log(f"step {name} FAILED: {e}")
            self.results.setdefault("failures", []).append(
                {"step": name, "error": str(e)[-3000:], "trace": traceback.format_exc()[-3000:]})
        self.results.setdefault("step_seconds", {})[name] = time.perf_counter() - start
        self.save()

    # ---- inputs -------------------------------------------------------------------------------
    def prepare(self):
        self.index = self.work / "gb.hlx"
        self.build_index(self.index)
        self.queries = self.work / "queries.csv"
        self.peer("queries", "--index", self.index, "--count", self.n_queries, "--out", self.queries)
        self.sites = self.work / "sites.csv"
        self.peer("sites", "--index", self.index, "--treatment", TREATMENT, "--out", self.sites)
        self.batch_in = self.work / "batch-in.csv"
        if self.n_batch:
            self.peer("queries", "--index", self.index, "--count", self.n_batch, "--seed", 7,
                      "--out", self.batch_in)
        else:
            self.peer("postcodes", "--index", self.index, "--out", self.batch_in)
        self.strip_to_postcodes(self.batch_in)
        if self.smoke:
            # Two postcode areas only (Chelmsford, Plymouth), so that PostGIS and the SciPy
            # script load a tiny table: the smoke test checks that peers start and agree.
            import re
            self.peer("postcodes", "--index", self.index, "--out", self.work / "all.csv")
            lines = (self.work / "all.csv").read_text().splitlines()
            picked = [l for l in lines[1:] if re.match(r"(CM|PL)[0-9]", l)][::97]
            self.queries.write_text("postcode,lat,lon\n" + "\n".join(picked[: self.n_queries]) + "\n")
            self.batch_in.write_text("postcode,lat,lon\n" + "\n".join(picked[: self.n_batch]) + "\n")
            self.strip_to_postcodes(self.batch_in)
        self.points = self.work / "points.csv"
        self.peer("points", "--index", self.index, "--count", self.n_queries, "--out", self.points)
        self.all_postcodes = self.work / "postcodes.csv"
        self.peer("postcodes", "--index", self.index, "--out", self.all_postcodes)
        # Our own answers for the batch input: the reference every batch peer is checked with.
        self.batch_ours = self.answers / "batch-ours-engine.csv"

    @staticmethod
    def strip_to_postcodes(path):
        """The batch input is what an analyst has: one column of postcodes."""
        lines = path.read_text().splitlines()
        path.write_text("postcode\n" + "\n".join(l.split(",", 1)[0] for l in lines[1:]) + "\n")

    def build_index(self, out, synthetic=0):
        cmd = [self.builder, "--quiet", "--data", self.data, "--out", out,
               "--listing", f"{TREATMENT}={REPO / 'data/listings/kyphoplasty.txt'}",
               "--sites", REPO / "data/sites.csv"]
        if synthetic:
            cmd += ["--synthetic-sites", str(synthetic)]
        return run_process(cmd)

    def peer(self, *args):
        r = subprocess.run([str(self.peers), *map(str, args)], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"hloc_peers {args[0]} failed: {r.stderr.strip()}")
        return json.loads(r.stdout) if r.stdout.strip() else None

    def scipy(self, *args):
        r = subprocess.run([PY, str(HERE / "scipy_peer.py"), *map(str, args)], capture_output=True,
                           text=True)
        if r.returncode != 0:
            raise RuntimeError(f"scipy_peer {args[0]} failed: {r.stderr.strip()[-2000:]}")
        return json.loads(r.stdout) if r.stdout.strip() else None

    # ---- PostGIS ------------------------------------------------------------------------------
    def start_postgis(self):
        self.cluster = postgis.Cluster(port=free_port(), keep_log=self.out / "postgres.log")
        self.cluster.start()
        self.cluster.setup(str(self.grid), str(self.sites))
        self.results["meta"]["postgres_settings"] = postgis.SETTINGS
        self.results["meta"].setdefault("versions", {})["postgis"] = self.cluster.versions()

    def verify_ostn15(self):
        """Our coordinates vs PostGIS's for the query postcodes: within 1 cm, or the peer is off."""
        c = self.cluster
        c.psql("DROP TABLE IF EXISTS ours_coords; CREATE TABLE ours_coords (postcode text, lat float8, lon float8)")
        with open(self.queries) as f:
            c.psql(r"\copy ours_coords FROM pstdin WITH (FORMAT csv, HEADER)", stdin=f)
        out = c.psql("""SELECT count(*), max(ST_Distance(p.geog, ST_SetSRID(ST_MakePoint(o.lon, o.lat), 4326)::geography)),
            max(ST_Distance(ST_Transform(ST_SetSRID(ST_MakePoint(r.e, r.n), 27700), 4326)::geography,
                            ST_SetSRID(ST_MakePoint(o.lon, o.lat), 4326)::geography))
            FROM ours_coords o JOIN postcodes p USING (postcode)
            CROSS JOIN LATERAL (SELECT ST_X(ST_Transform(p.geog::geometry, 927700)) e,
                                       ST_Y(ST_Transform(p.geog::geometry, 927700)) n) r""", csv=True)
        n, max_m, helmert_m = out.strip().split(",")
        v = {"postcodes": int(n), "max_difference_m": float(max_m),
             "without_grid_max_difference_m": float(helmert_m), "ok": int(n) > 0 and float(max_m) <= CM}
        self.results["meta"]["postgis_ostn15_check"] = v
        log(f"PostGIS OSTN15 check: {v}")
        if not v["ok"]:
            raise RuntimeError(f"PostGIS coordinates differ from ours by {max_m} m: OSTN15 not used?")
        return v

    # ---- workloads ----------------------------------------------------------------------------
    def w_build(self):
        self.workload("build", "Build the index from the raw data (Code-Point zip, OSTN15)", "seconds",
                      "lower")
        # The index built by "prepare inputs" just before was the warm-up run.
        t = timed_runs(lambda: self.build_index(self.work / "timed.hlx"), self.heavy_runs, 0)
        rss = peak_rss_kib()
        self.row("build", "ours", "hospital-locator build (all cores)", t, peak_rss_kib=rss)

    def w_build_postgis(self):
        self.workload("build", "Build the index from the raw data (Code-Point zip, OSTN15)", "seconds",
                      "lower")
        runs = self.heavy_runs
        members = ["Data/CSV/*.csv"]
        label = "PostGIS: COPY + ST_Transform (OSTN15) + GiST + btree"
        if self.smoke:
            # A tiny table: only the postcode areas the smoke queries need.
            import re
            areas = set()
            for path in (self.queries, self.batch_in):
                for line in path.read_text().splitlines()[1:]:
                    areas.add(re.match(r"[A-Z]+", line).group(0).lower())
            members = [f"Data/CSV/{a}.csv" for a in sorted(areas)]
            label += f" ({len(members)} postcode areas only: smoke)"
        t = timed_runs(lambda: self.cluster.load_postcodes(self.zip, members), runs, 0)
        check = self.verify_ostn15()
        self.row("build", "postgis", label, t,
                 ostn15=check, note="no warm-up run: the zip is already in the page cache")

    def single_workload(self):
        return self.workload("single", "Single nearest query (top 3 of 10 sites)", "queries_per_s", "higher",
                             note="throughput; p50 is one call's latency where measured")

    def w_single_in_process(self):
        self.single_workload()
        ours_answers = self.answers / "single-ours.csv"
        r = self.peer("nearest", "--index", self.index, "--queries", self.queries, "--impl", "ours",
                      "--by-postcode", "--runs", self.runs, "--warmup", self.warmup, "--out", ours_answers)
        self.ours_single = crosscheck.read_answers(ours_answers)
        n = r["queries"]
        self.row("single", "ours", "engine, by postcode, 1 thread", [n / s for s in r["run_s"]],
                 p50_ns=r["p50_ns"], p90_ns=r["p90_ns"], p99_ns=r["p99_ns"])
        # Single calls from every core, each resolving its postcode, as a service's workers make
        # them (#12 compares these with PostGIS), then the engine's batch call.
        path = self.answers / "single-ours-threads.csv"
        r = self.peer("nearest", "--index", self.index, "--queries", self.queries, "--impl", "ours",
                      "--by-postcode", "--threads", 0, "--runs", self.runs, "--warmup", self.warmup, "--out", path)
        check = crosscheck.compare(self.ours_single, crosscheck.read_answers(path), MM)
        self.row("single", "ours-threads", f"engine, by postcode, single calls from {r['threads']} threads",
                 [n / s for s in r["run_s"]], check=check)
        r = self.peer("nearest", "--index", self.index, "--queries", self.queries, "--impl", "ours",
                      "--threads", 0, "--runs", self.runs, "--warmup", self.warmup)
        self.row("single", "ours", f"engine, nearest_batch, all {os.cpu_count()} cores", [n / s for s in r["run_s"]])
        for impl, label in (("brute", "brute force (Vincenty to every site)"),
                            ("rtree", "Boost.Geometry rtree, geographic Vincenty")):
            for threads in (1, 0):
                path = self.answers / f"single-{impl}.csv"
                r = self.peer("nearest", "--index", self.index, "--queries", self.queries, "--impl", impl,
                              "--threads", threads, "--runs", self.runs, "--warmup", self.warmup, "--out", path)
                check = crosscheck.compare(self.ours_single, crosscheck.read_answers(path), MM)
                tl = "1 thread" if threads == 1 else f"all {os.cpu_count()} cores"
                self.row("single", impl, f"{label}, {tl}", [n / s for s in r["run_s"]], check=check,
                         p50_ns=r.get("p50_ns"), p90_ns=r.get("p90_ns"), p99_ns=r.get("p99_ns"))
        for method, label in (("ckdtree", "SciPy cKDTree (workers=-1) + pyproj Geod, vectorised"),
                              ("balltree", "scikit-learn BallTree haversine + pyproj Geod, vectorised")):
            path = self.answers / f"single-{method}.csv"
            r = self.scipy("nearest", "--sites", self.sites, "--queries", self.queries, "--method", method,
                           "--runs", self.runs, "--warmup", self.warmup, "--out", path,
                           "--latency-queries", min(1000, self.n_queries))
            check = crosscheck.compare(self.ours_single, crosscheck.read_answers(path), MM)
            self.row("single", method, label, [n / s for s in r["run_s"]], check=check,
                     p50_ns=r["p50_ns"], p90_ns=r["p90_ns"], p99_ns=r["p99_ns"],
                     latency_note="p50: one Python call for one query")

    def pgbench(self, variant, clients, seconds, log_prefix=None):
        script = self.work / f"pgbench-{variant}.sql"
        select = postgis.nearest_select(
            variant, 3, where="p.postcode = (SELECT postcode FROM bench_queries WHERE qid = :r)")
        script.write_text(f"\\set r random(1, {self.n_queries})\n{select};\n")
        cmd = ["pgbench", "-n", "-M", "prepared", *self.cluster.conn_args(), "-c", str(clients),
               "-j", str(min(clients, os.cpu_count() or 2)), "-T", str(seconds), "-f", str(script), "postgres"]
        if log_prefix:
            cmd[1:1] = ["-l", "--log-prefix", str(log_prefix)]
        r = subprocess.run(cmd, capture_output=True, text=True, cwd=self.work)
        if r.returncode != 0:
            raise RuntimeError(f"pgbench failed: {r.stderr[-2000:]}")
        for line in r.stdout.splitlines():
            if line.startswith("tps =") and "without initial" in line:
                return float(line.split()[2])
        raise RuntimeError(f"no tps in pgbench output: {r.stdout[-1000:]}")

    def w_single_postgis(self):
        self.single_workload()
        c = self.cluster
        c.psql("DROP TABLE IF EXISTS bench_queries; CREATE TABLE bench_queries (qid serial PRIMARY KEY, postcode text, lat float8, lon float8)")
        with open(self.queries) as f:
            c.psql(r"\copy bench_queries (postcode, lat, lon) FROM pstdin WITH (FORMAT csv, HEADER)", stdin=f)
        c.psql("ANALYZE bench_queries")
        seconds = 1 if self.smoke or self.quick else 3
        clients_tried = [2] if self.smoke else ([2, 4] if self.quick else [1, 2, 4, 8])
        for variant, label in (("exact", "PostGIS: <-> candidates, ST_Distance re-rank (exact)"),
                               ("sphere", "PostGIS: ORDER BY geog <-> LIMIT 3 (sphere order)")):
            # Every query's answer first, through the same SQL, then the timing.
            path = self.answers / f"single-postgis-{variant}.csv"
            sel = postgis.nearest_select(variant, 3, source="bench_queries q JOIN postcodes p USING (postcode)",
                                         where=None)
            c.psql(f"\\copy ({sel}) TO '{path}' WITH (FORMAT csv, HEADER)")
            check = crosscheck.compare(self.ours_single, crosscheck.read_answers(path), CM)
            sweep = {cl: self.pgbench(variant, cl, seconds) for cl in clients_tried}
            best = max(sweep, key=sweep.get)
            tps = timed_runs(lambda: self.pgbench(variant, best, seconds), self.runs, 0)
            # Latency at one client, from pgbench's per-transaction log.
            lat = self.pgbench_latency(variant, seconds)
            self.row("single", f"postgis-{variant}", f"{label}, pgbench -c {best} -M prepared", tps,
                     check=check, clients_sweep=sweep, best_clients=best, **lat,
                     latency_note="p50: one transaction at 1 client over loopback TCP")

    def pgbench_latency(self, variant, seconds):
        prefix = self.work / f"pglat-{variant}"
        self.pgbench(variant, 1, seconds, log_prefix=prefix)
        us = []
        for f in self.work.glob(f"pglat-{variant}*"):
            for line in f.read_text().splitlines():
                parts = line.split()
                if len(parts) >= 3:
                    us.append(float(parts[2]))
            f.unlink()
        us.sort()
        if not us:
            return {}
        pct = lambda p: us[max(0, int(len(us) * p + 0.999999) - 1)] * 1000.0
        return {"p50_ns": pct(0.5), "p90_ns": pct(0.9), "p99_ns": pct(0.99)}

    def w_http(self):
        self.single_workload()
        if not self.serve.exists():
            self.skip("single", "ours-http", "our HTTP service (wrk)", f"not built ({self.serve} missing)")
            self.skip("single", "nginx", "nginx static file (wrk)", "not run: it is the ceiling for our HTTP service")
            return
        port = free_port()
        srv = subprocess.Popen([str(self.serve), "--index", str(self.index), "--listen", f"127.0.0.1:{port}"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.children.append(srv)
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(100):
                try:
                    urllib.request.urlopen(base + "/healthz", timeout=1).read()
                    break
                except Exception:  # noqa: BLE001
                    time.sleep(0.1)
            # Answers for every query, over HTTP, checked like any peer.
            postcodes = list(self.ours_single)
            answers = {}
            body = b""
            for pc in postcodes[: min(len(postcodes), 1000)]:
                body = urllib.request.urlopen(f"{base}/v1/nearest?postcode={urllib.parse.quote(pc)}&k=3",
                                              timeout=5).read()
                doc = json.loads(body)
                answers[pc] = [(r["site"]["id"], r["distance"]["metres"]) for r in doc["results"]]
            check = crosscheck.compare(self.ours_single, answers, MM, only=list(answers))
            lua = self.work / "wrk.lua"
            paths = [f"/v1/nearest?postcode={urllib.parse.quote(pc)}&k=3" for pc in postcodes]
            lua.write_text("paths = {" + ",".join(json.dumps(p) for p in paths) + "}\n"
                           "i = 0\nrequest = function()\n  i = i % #paths + 1\n"
                           "  return wrk.format('GET', paths[i])\nend\n")
            rps, sweep, best, lat = self.wrk_best(base, lua)
            self.row("single", "ours-http", f"our HTTP service, wrk -c {best} (keep-alive)", rps, check=check,
                     clients_sweep=sweep, best_clients=best, **lat, answer_bytes=len(body))
            self.w_nginx(len(body), best)
        finally:
            srv.send_signal(signal.SIGTERM)
            try:
                srv.wait(timeout=10)
            except subprocess.TimeoutExpired:
                srv.kill()

    def wrk_once(self, url, conns, seconds, lua=None, latency=False):
        cmd = ["wrk", "-t", str(min(conns, os.cpu_count() or 2)), "-c", str(conns), "-d", f"{seconds}s"]
        if lua:
            cmd += ["-s", str(lua)]
        if latency:
            cmd += ["--latency"]
        r = subprocess.run(cmd + [url], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"wrk failed: {r.stderr}")
        rps = None
        lat = {}
        units = {"us": 1e3, "ms": 1e6, "s": 1e9}
        for line in r.stdout.splitlines():
            parts = line.split()
            if line.startswith("Requests/sec:"):
                rps = float(parts[1])
            if latency and len(parts) == 2 and parts[0] in ("50%", "90%", "99%"):
                v = parts[1]
                for u in ("us", "ms", "s"):
                    if v.endswith(u):
                        lat[f"p{parts[0][:-1]}_ns"] = float(v[: -len(u)]) * units[u]
                        break
            if "Non-2xx" in line or "Socket errors" in line:
                lat.setdefault("errors", []).append(line.strip())
        return rps, lat

    def wrk_best(self, url, lua=None, clients=None):
        seconds = 1 if self.smoke or self.quick else 3
        tried = [clients] if clients else ([8] if self.smoke else ([16, 64] if self.quick else [4, 16, 64]))
        sweep = {c: self.wrk_once(url, c, seconds, lua)[0] for c in tried}
        best = max(sweep, key=sweep.get)
        rps = [self.wrk_once(url, best, seconds, lua)[0] for _ in range(self.runs)]
        _, lat = self.wrk_once(url, 1, seconds, lua, latency=True)
        return rps, sweep, best, lat

    def w_nginx(self, size, clients):
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        root = self.work / "nginx"
        (root / "www").mkdir(parents=True, exist_ok=True)
        (root / "www" / "answer.json").write_bytes(b"x" * size)
        port = free_port()
        conf = root / "nginx.conf"
        conf.write_text(f"""worker_processes auto;
daemon off;
pid {root}/nginx.pid;
error_log {root}/error.log;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  sendfile on; tcp_nopush on; tcp_nodelay on;
  keepalive_requests 100000;
  client_body_temp_path {root}; proxy_temp_path {root}; fastcgi_temp_path {root};
  uwsgi_temp_path {root}; scgi_temp_path {root};
  server {{ listen 127.0.0.1:{port}; root {root}/www;
           location / {{ default_type application/json; }} }}
}}
""")
        ng = subprocess.Popen([nginx, "-c", str(conf), "-p", str(root)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
        self.children.append(ng)
        try:
            url = f"http://127.0.0.1:{port}/answer.json"
            for _ in range(50):
                try:
                    urllib.request.urlopen(url, timeout=1).read()
                    break
                except Exception:  # noqa: BLE001
                    time.sleep(0.1)
            rps, sweep, best, lat = self.wrk_best(url)
            self.row("single", "nginx", f"nginx static file of the same size ({size} B), wrk -c {best}", rps,
                     clients_sweep=sweep, best_clients=best, **lat,
                     note="the ceiling for an HTTP service on this machine; no answer to check")
        finally:
            ng.send_signal(signal.SIGQUIT)
            try:
                ng.wait(timeout=10)
            except subprocess.TimeoutExpired:
                ng.kill()

    def batch_workload(self):
        n = "every located GB postcode" if not self.n_batch else f"{self.n_batch:,} sampled postcodes"
        return self.workload("batch", f"Batch top-3, file to file ({n})", "seconds", "lower")

    def w_batch_engine(self):
        self.batch_workload()
        runs = self.steady_runs
        r = self.peer("nearest", "--index", self.index, "--queries", self.batch_in, "--impl", "ours",
                      "--threads", 0, "--runs", runs, "--warmup", 1 if runs > 1 else 0, "--out", self.batch_ours)
        self.ours_batch = crosscheck.read_answers(self.batch_ours)
        self.row("batch", "ours-engine", "engine nearest_batch in-process (no file I/O; the reference answers)",
                 r["run_s"], queries=r["queries"])

    def w_batch_shell(self):
        self.batch_workload()
        beside_cli = self.build / "tools" / "hospital-locator-batch"
        if beside_cli.exists():
            program, label = [self.cli, "batch"], "hospital-locator batch --k 3 (CSV in, CSV out)"
        elif self.batch.exists():
            # Where `hospital-locator batch` does not find it yet: the same program, run directly.
            program, label = [self.batch], "hospital-locator-batch --k 3 (CSV in, CSV out)"
        else:
            self.skip("batch", "ours", "hospital-locator batch", f"not built ({self.batch} missing)")
            return
        out = self.answers / "batch-ours-shell.csv"
        cmd = [*program, "--index", self.index, "--in", self.batch_in, "--out", out, "--k", "3",
               "--force", "--quiet"]
        runs = self.steady_runs
        t = timed_runs(lambda: run_process(cmd, fresh=out), runs, 1 if runs > 1 else 0)
        rss = peak_rss_kib()
        check = crosscheck.compare(self.ours_batch, crosscheck.read_answers(out), 0.05 + MM)
        self.row("batch", "ours", label, t, check=check, peak_rss_kib=rss,
                 tolerance_note="the CSV prints metres to 0.1 m")

    def w_batch_postgis(self):
        self.batch_workload()
        c = self.cluster
        if self.n_batch:
            c.psql("DROP TABLE IF EXISTS batch_input; CREATE TABLE batch_input (postcode text PRIMARY KEY)")
            with open(self.batch_in) as f:
                c.psql(r"\copy batch_input FROM pstdin WITH (FORMAT csv, HEADER)", stdin=f)
            c.psql("ANALYZE batch_input")
        for variant, label in (("sphere", "PostGIS CROSS JOIN LATERAL ORDER BY <-> LIMIT 3 + COPY (sphere order)"),
                               ("exact", "PostGIS CROSS JOIN LATERAL, ST_Distance re-rank + COPY (exact)")):
            runs = self.steady_runs
            if variant == "exact" and not self.n_batch:
                # 43 s over all of GB on the 2-core machine (and 12 s to check): one run, not
                # heavy_runs, keeps the full run inside its 15 minutes. Checked like every run.
                runs = 1
                label += " (one run)"
            # Written by the server (COPY ... TO 'file'), which is faster than through psql.
            out = c.dir / f"batch-postgis-{variant}.csv"
            if self.n_batch:
                sel = postgis.nearest_select(variant, 3, source="batch_input b JOIN postcodes p USING (postcode)",
                                             where=None)
            else:
                sel = postgis.nearest_select(variant, 3)
            plan = c.psql(f"EXPLAIN {sel}")

            def once():
                if out.exists():
                    out.unlink()
                start = time.perf_counter()
                c.psql(f"COPY ({sel}) TO '{out}' WITH (FORMAT csv, HEADER)")
                return time.perf_counter() - start
            t = timed_runs(once, runs, 0)
            check = crosscheck.compare(self.ours_batch, crosscheck.read_answers(out), CM)
            if self.n_batch:
                shutil.copy(out, self.answers / out.name)
            out.unlink()
            self.row("batch", f"postgis-{variant}", label, t, check=check,
                     parallel_workers="Workers Planned" in plan, plan=plan)

    def w_batch_python(self):
        self.batch_workload()
        out = self.work / "batch-scipy.csv"
        cmd = [PY, HERE / "scipy_peer.py", "batch", "--zip", self.zip, "--grid", self.grid, "--sites", self.sites,
               "--out", out]
        if self.n_batch:
            cmd += ["--sample", self.batch_in]
        t = timed_runs(lambda: run_process(cmd, fresh=out), self.heavy_runs, 0)
        rss = peak_rss_kib()
        check = crosscheck.compare(self.ours_batch, crosscheck.read_answers(out), CM)
        self.row("batch", "scipy", "pandas + pyproj (OSTN15) + SciPy cKDTree + Geod script, zip to CSV", t,
                 check=check, peak_rss_kib=rss)

    def w_batch_pymodule(self):
        self.batch_workload()
        init = self.pymodule / "hospital_locator" / "__init__.py"
        core = list((self.pymodule / "hospital_locator").glob("_core*.so"))
        if not init.exists() or not core:
            self.skip("batch", "ours-python", "hospital_locator.Index.nearest_many", "not built (no module in "
                      f"{self.pymodule})")
            return
        out = self.work / "batch-pymodule.csv"
        script = HERE / "pymodule_batch.py"
        cmd = [PY, script, "--index", self.index, "--in", self.batch_in, "--out", out]
        env = dict(os.environ, PYTHONPATH=str(self.pymodule))
        t = timed_runs(lambda: run_process(cmd, env=env, fresh=out), self.heavy_runs,
                       1 if self.heavy_runs > 1 else 0)
        rss = peak_rss_kib()
        check = crosscheck.compare(self.ours_batch, crosscheck.read_answers(out), 0.05 + MM)
        self.row("batch", "ours-python",
                 "Python: hospital_locator nearest_many + NearestBatch.to_csv, CSV in (pandas) and out",
                 t, check=check, peak_rss_kib=rss, tolerance_note="the CSV prints metres to 0.1 m")

    def w_reverse(self):
        self.workload("reverse", "Reverse geocoding: nearest postcode to a random point", "queries_per_s", "higher")
        ours = self.answers / "reverse-ours.csv"
        r = self.peer("reverse", "--index", self.index, "--points", self.points, "--runs", self.runs,
                      "--warmup", self.warmup, "--out", ours)
        n = r["queries"]
        self.row("reverse", "ours", "engine reverse, 1 thread (tree loaded)", [n / s for s in r["run_s"]],
                 p50_ns=r["p50_ns"], p90_ns=r["p90_ns"], p99_ns=r["p99_ns"])
        # Single reverse() calls from every core: the fair match for cKDTree's workers=-1.
        both = self.answers / "reverse-ours-threads.csv"
        r = self.peer("reverse", "--index", self.index, "--points", self.points, "--runs", self.runs,
                      "--warmup", self.warmup, "--threads", 0, "--out", both)
        self.row("reverse", "ours-threads", f"engine reverse, single calls from {r['threads']} threads",
                 [n / s for s in r["run_s"]], check=crosscheck.compare_reverse(ours, both, MM))
        path = self.answers / "reverse-ckdtree.csv"
        r = self.scipy("reverse", "--postcodes", self.all_postcodes, "--points", self.points, "--runs", self.runs,
                       "--warmup", self.warmup, "--out", path)
        check = crosscheck.compare_reverse(ours, path, MM)
        self.row("reverse", "ckdtree", "SciPy cKDTree over unit vectors (workers=-1) + Geod, vectorised",
                 [n / s for s in r["run_s"]], check=check, build_s=r["build_s"])

    def w_scaling_sites(self):
        self.workload("scaling_sites", "Nearest top-3 from a resolved origin, by number of sites (1 thread)",
                      "p50_ns", "lower")
        sizes = [(10, self.index, TREATMENT)]
        for n in ((1000, 100000) if not self.smoke else (1000,)):
            # Kept in the build tree between runs (the builder is deterministic); rebuilt when
            # the builder is newer.
            path = self.build / f"bench-synthetic-{n}.hlx"
            if not path.exists() or path.stat().st_mtime < self.builder.stat().st_mtime:
                self.build_index(path, synthetic=n)
            sizes.append((n, path, "synthetic"))
        q_all = self.queries
        for n, index, treatment in sizes:
            results = {}
            for impl in ("ours", "rtree", "brute"):
                queries = q_all
                if impl == "brute" and n >= 100000:
                    # ~30 ms a query: a sample of the queries (the first ones) keeps the run short.
                    queries = self.work / "queries-brute.csv"
                    lines = q_all.read_text().splitlines()
                    queries.write_text("\n".join(lines[: 1 + (50 if self.quick or self.smoke else 200)]) + "\n")
                path = self.answers / f"sites-{n}-{impl}.csv"
                r = self.peer("nearest", "--index", index, "--queries", queries, "--impl", impl,
                              "--treatment", treatment, "--runs", self.runs if n < 100000 or impl != "brute" else 1,
                              "--warmup", self.warmup, "--out", path)
                results[impl] = (r, path)
            ours_answers = crosscheck.read_answers(results["ours"][1])
            for impl, (r, path) in results.items():
                check = None if impl == "ours" else crosscheck.compare(
                    ours_answers, crosscheck.read_answers(path), MM, only=list(crosscheck.read_answers(path)))
                names = {"ours": "engine", "rtree": "Boost.Geometry rtree", "brute": "brute force"}
                label = f"{names[impl]}, {n:,} sites"
                if impl == "brute" and n >= 100000:
                    label += f" (one run of {r['queries']} queries: ~30 ms each)"
                self.row("scaling_sites", impl, label, r.get("p50_runs_ns", [r["p50_ns"]]),
                         check=check, sites=n,
                         queries=r["queries"], p90_ns=r.get("p90_ns"), p99_ns=r.get("p99_ns"),
                         build_s=r.get("build_s"))

    def w_scaling_queries(self):
        self.workload("scaling_queries", "Top-3 for N postcodes, in process, all cores", "seconds", "lower")
        sizes = [1000, 10000, 100000, 1743823] if not (self.quick or self.smoke) else [1000, 10000]
        if self.smoke:
            sizes = [1000]
        for n in sizes:
            q = self.work / f"queries-{n}.csv"
            if n >= 1743823:
                q = self.all_postcodes
            else:
                self.peer("queries", "--index", self.index, "--count", n, "--seed", 11, "--out", q)
            # All of GB is the curve's last point, on a log-log chart and in no headline; the cKDTree
            # script takes ~20 s a run there, so three runs rather than five (saves ~40 s).
            runs = self.runs if n < 1743823 else self.steady_runs
            ref = self.work / f"scaling-{n}-ours.csv"
            r = self.peer("nearest", "--index", self.index, "--queries", q, "--impl", "ours", "--threads", 0,
                          "--runs", runs, "--warmup", self.warmup, "--out", ref)
            self.row("scaling_queries", "ours", f"engine nearest_batch, {n:,} queries", r["run_s"],
                     queries=r["queries"])
            sp = self.work / f"scaling-{n}-ckdtree.csv"
            r2 = self.scipy("nearest", "--sites", self.sites, "--queries", q, "--method", "ckdtree",
                            "--runs", runs, "--warmup", self.warmup, "--out", sp, "--latency-queries", 10)
            check = crosscheck.compare_files(ref, sp, MM)
            self.row("scaling_queries", "ckdtree", f"SciPy cKDTree + Geod, {n:,} queries", r2["run_s"], check=check,
                     queries=r2["queries"])

    # ---- the run ------------------------------------------------------------------------------
    def machine(self):
        cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
        mem = next((int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal")), 0)
        def version(cmd):
            try:
                r = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
                return (r.stdout or r.stderr).strip().splitlines()[0]
            except Exception:  # noqa: BLE001
                return "not installed"
        pyv = subprocess.run([PY, "-c", "import numpy, scipy, sklearn, pandas, pyproj, sys; "
                              "print(sys.version.split()[0], numpy.__version__, scipy.__version__, "
                              "sklearn.__version__, pandas.__version__, pyproj.__version__, pyproj.proj_version_str)"],
                             capture_output=True, text=True).stdout.split()
        names = ["python", "numpy", "scipy", "scikit-learn", "pandas", "pyproj", "PROJ (pyproj)"]
        compiler = next((l.split("=", 1)[1] for l in (self.build / "CMakeCache.txt").read_text().splitlines()
                         if l.startswith("CMAKE_CXX_COMPILER:")), "c++")
        commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True).stdout.strip()
        self.results["meta"].update({
            "mode": "smoke" if self.smoke else ("quick" if self.quick else "full"),
            "started_utc": datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
            "commit": commit,
            "machine": {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(mem / 1048576, 1),
                        "kernel": platform.release(), "os": version(["sh", "-c", ". /etc/os-release; echo $PRETTY_NAME"]),
                        "load_before": list(os.getloadavg())},
            "versions": {"compiler": version([compiler, "--version"]),
                         "boost": version(["sh", "-c", "grep -m1 'define BOOST_LIB_VERSION' /usr/include/boost/version.hpp"]),
                         "postgresql": version(["/usr/lib/postgresql/15/bin/postgres", "--version"]),
                         "pgbench": version(["pgbench", "--version"]),
                         "nginx": version(["sh", "-c", "nginx -v 2>&1"]), "wrk": version(["sh", "-c", "wrk -v 2>&1"]),
                         **dict(zip(names, pyv))},
            "sizes": {"queries": self.n_queries, "batch": self.n_batch or "all located",
                      "runs": self.runs, "heavy_runs": self.heavy_runs, "steady_runs": self.steady_runs,
                      "warmup": self.warmup},
            "command": " ".join(sys.argv),
        })

    def run(self):
        start = time.perf_counter()
        self.machine()
        self.step("prepare inputs", self.prepare)
        self.step("build: ours", self.w_build)
        self.step("postgis: start and set up", self.start_postgis)
        if self.cluster and self.cluster.started:
            self.step("build: PostGIS", self.w_build_postgis)
        self.step("single: in-process peers", self.w_single_in_process)
        if self.cluster and self.cluster.started and "postgis_ostn15_check" in self.results["meta"]:
            self.step("single: PostGIS pgbench", self.w_single_postgis)
        self.step("single: HTTP service and nginx", self.w_http)
        self.step("batch: engine reference", self.w_batch_engine)
        self.step("batch: our batch tool", self.w_batch_shell)
        self.step("batch: Python module", self.w_batch_pymodule)
        if self.cluster and self.cluster.started and "postgis_ostn15_check" in self.results["meta"]:
            self.step("batch: PostGIS", self.w_batch_postgis)
        self.step("batch: pandas + SciPy", self.w_batch_python)
        if self.cluster:
            self.cluster.stop()
        self.step("reverse", self.w_reverse)
        self.step("scaling: sites", self.w_scaling_sites)
        self.step("scaling: queries", self.w_scaling_queries)
        self.results["meta"]["finished_utc"] = datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")
        self.results["meta"]["machine"]["load_after"] = list(os.getloadavg())
        self.results["meta"]["elapsed_s"] = time.perf_counter() - start
        self.save()

    def cleanup(self):
        for p in self.children:
            if p.poll() is None:
                p.kill()
        if self.cluster:
            self.cluster.stop()
        shutil.rmtree(self.work, ignore_errors=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build-dir", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--smoke", action="store_true")
    a = p.parse_args()
    runner = Runner(a)

    def on_signal(signum, _frame):
        runner.cleanup()
        sys.exit(128 + signum)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        runner.run()
    finally:
        runner.cleanup()
    failures = runner.results.get("failures", [])
    disagreements = [(k, r["label"]) for k, w in runner.results["workloads"].items() for r in w["rows"]
                     if r["status"] == "disagrees"]
    subprocess.run([PY, str(HERE.parent / "report" / "report.py"), str(runner.out)], check=True)
    for f in failures:
        log(f"FAILED step {f['step']}: {f['error'][:300]}")
    if a.smoke:
        # Smoke: every peer must start and agree (sphere-ordered PostGIS excepted: it is
        # expected to disagree sometimes, and says so in the report).
        bad = [d for d in disagreements if "sphere" not in d[1]]
        if failures or bad:
            log(f"smoke: {len(failures)} failed steps, disagreements: {bad}")
            sys.exit(1)


if __name__ == "__main__":
    main()
