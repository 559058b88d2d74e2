"""PostGIS peer: a throw-away PostgreSQL 15 + PostGIS 3 cluster on a loopback port.

The cluster lives in a temporary directory, runs as a non-root user (``postgres`` when we are
root), listens on 127.0.0.1 only, and is stopped by ``Cluster.stop`` (benchmarks/run calls it
from a ``finally`` and a signal handler). Settings are PostgreSQL's own advice for a bulk load
into a disposable cluster (docs, "Populating a Database"): fsync and full_page_writes off,
wal_level minimal, more maintenance_work_mem; plus parallel workers for every core. They are
recorded in the report.
"""

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent / "postgis"
PG_BIN = Path("/usr/lib/postgresql/15/bin")

SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "shared_buffers": "1GB",
    "work_mem": "64MB",
    "maintenance_work_mem": "1GB",
    "max_parallel_workers_per_gather": str(os.cpu_count() or 2),
    "max_parallel_maintenance_workers": str(os.cpu_count() or 2),
    "max_worker_processes": "16",
    "max_parallel_workers": "16",
    "fsync": "off",
    "full_page_writes": "off",
    "synchronous_commit": "off",
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "max_wal_size": "4GB",
    "max_connections": "100",
}

# Nearest top-k for one origin ``p``: the KNN operator on geography (ordered on the sphere, as
# the GiST index can do it), distances by ST_Distance (spheroid, GeographicLib).
# sphere: take the index's order as the answer, as most published examples do.
# exact:  take 3k candidates from the index, then order them by spheroid distance and id.
LATERAL = {
    "sphere": """SELECT array_agg(c.id) AS ids, array_agg(c.metres) AS ds FROM (
        SELECT s.id, ST_Distance(s.geog, p.geog) AS metres FROM sites s
        ORDER BY s.geog <-> p.geog LIMIT {k}) c""",
    "exact": """SELECT array_agg(c.id ORDER BY c.metres, c.id) AS ids,
               array_agg(c.metres ORDER BY c.metres, c.id) AS ds FROM (
        SELECT s.id, ST_Distance(s.geog, p.geog) AS metres FROM sites s
        ORDER BY s.geog <-> p.geog LIMIT {candidates}) c""",
}


def nearest_select(variant, k, source="postcodes p", where="p.geog IS NOT NULL"):
    """SELECT postcode, site_1_id, site_1_metres, ... for every row of ``source`` (alias p)."""
    lateral = LATERAL[variant].format(k=k, candidates=3 * k)
    cols = ", ".join(f"n.ids[{i}] AS site_{i}_id, round(n.ds[{i}]::numeric, 4) AS site_{i}_metres"
                     for i in range(1, k + 1))
    return (f"SELECT p.postcode, {cols} FROM {source} CROSS JOIN LATERAL ({lateral}) n"
            + (f" WHERE {where}" if where else ""))


class Cluster:
    def __init__(self, port=54329, keep_log=None):
        self.port = port
        self.dir = Path(tempfile.mkdtemp(prefix="hloc-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "server.log"
        self.keep_log = keep_log
        self.started = False
        self.as_user = None
        if os.geteuid() == 0:
            self.as_user = "postgres"
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        os.chmod(self.dir, 0o755)

    def _server_cmd(self, args):
        if self.as_user:
            return ["runuser", "-u", self.as_user, "--"] + args
        return args

    def start(self):
        env = dict(os.environ, PROJ_NETWORK="OFF", LC_ALL="C")
        subprocess.run(self._server_cmd([str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust",
                                         "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync"]),
                       check=True, capture_output=True, env=env)
        opts = " ".join(f"-c {k}={v}" for k, v in SETTINGS.items())
        opts += f" -p {self.port} -k {self.dir}"
        subprocess.run(self._server_cmd([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log),
                                         "-w", "-t", "60", "-o", opts, "start"]),
                       check=True, capture_output=True, env=env)
        self.started = True

    def stop(self):
        if self.started:
            subprocess.run(self._server_cmd([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate",
                                             "-w", "stop"]), capture_output=True)
            self.started = False
        if self.keep_log and self.log.exists():
            shutil.copy(self.log, self.keep_log)
        shutil.rmtree(self.dir, ignore_errors=True)

    def conn_args(self):
        return ["-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres"]

    def psql(self, sql=None, file=None, variables=None, stdin=None, csv=False):
        """Runs SQL (a string or a file) and returns stdout; raises with stderr on failure."""
        cmd = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", *self.conn_args(), "-d", "postgres"]
        if csv:
            cmd += ["-A", "-t", "-F", ","]
        for k, v in (variables or {}).items():
            cmd += ["-v", f"{k}={v}"]
        cmd += ["-f", str(file)] if file else ["-c", sql]
        r = subprocess.run(cmd, stdin=stdin, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"psql failed: {r.stderr.strip()}")
        return r.stdout

    def setup(self, grid, sites_csv):
        with open(sites_csv) as f:
            self.psql(file=HERE / "setup.sql", variables={"grid": grid}, stdin=f)

    def load_postcodes(self, codepoint_zip, members=("Data/CSV/*.csv",)):
        """COPY + ST_Transform (OSTN15) + GiST + btree; returns wall seconds. ``members``
        narrows the zip to some postcode areas (the smoke test's tiny table)."""
        start = time.perf_counter()
        unzip = subprocess.Popen(["unzip", "-p", str(codepoint_zip), *members],
                                 stdout=subprocess.PIPE)
        try:
            self.psql(file=HERE / "load.sql", stdin=unzip.stdout)
        finally:
            unzip.stdout.close()
            unzip.wait()
        return time.perf_counter() - start

    def versions(self):
        return self.psql("SELECT version() || ' | PostGIS ' || postgis_full_version()", csv=True).strip()
