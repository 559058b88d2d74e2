#!/usr/bin/python3
"""Writes report.md, report.json and the charts from a benchmarks/run results.json.

  report.py DIR        reads DIR/results.json, writes DIR/report.md, DIR/report.json and
                       DIR/charts/*.svg|png (matplotlib, when importable)

report.json is results.json plus, for every row, its ratio against our figure in the same
workload and the headline comparisons; nothing in it is rounded.
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import crosscheck  # noqa: E402

# The issues' targets (#7, then #12), as (key, workload, our peer, their peer, how to compare,
# target). "time" compares medians of seconds (lower wins); "rate" compares medians of
# throughput (higher wins); "p50" compares per-call medians. A target of None is shown, not
# judged.
HEADLINE = [
    ("build the index vs PostGIS COPY + ST_Transform (OSTN15) + GiST + btree",
     "build", "ours", "postgis", "time", 2.5),
    ("single nearest query, in-process (1 thread, by postcode) vs PostGIS exact via pgbench",
     "single", "ours", "postgis-exact", "rate", 50.0),
    ("single nearest queries, in-process, single calls from every core (by postcode) vs PostGIS "
     "exact via pgbench at its best concurrency", "single", "ours-threads", "postgis-exact", "rate", 100.0),
    ("our HTTP service (wrk) vs PostGIS exact (pgbench), each at its best concurrency",
     "single", "ours-http", "postgis-exact", "rate", 2.0),
    ("our HTTP service vs nginx serving a static file of the same size (the ceiling)",
     "single", "ours-http", "nginx", "rate", 1.1),
    ("batch top-3 to CSV vs PostGIS CROSS JOIN LATERAL + COPY (sphere order)",
     "batch", "ours", "postgis-sphere", "time", 5.0),
    ("batch top-3 to CSV vs PostGIS, exact re-ranking",
     "batch", "ours", "postgis-exact", "time", None),
    ("batch top-3 to CSV vs pandas + SciPy cKDTree + pyproj",
     "batch", "ours", "scipy", "time", 10.0),
    ("batch through our Python module (CSV in with pandas, nearest_many, NearestBatch.to_csv) "
     "vs pandas + SciPy cKDTree + pyproj", "batch", "ours-python", "scipy", "time", 5.0),
    ("reverse geocoding, single calls from all cores vs SciPy cKDTree (workers=-1) + Geod, vectorised",
     "reverse", "ours-threads", "ckdtree", "rate", 3.0),
    ("nearest at 100,000 sites vs Boost.Geometry rtree (p50, 1 thread)",
     "scaling_sites", "ours", "rtree", "p50", 1.0),
    ("nearest at 100,000 sites vs brute force (p50, 1 thread)",
     "scaling_sites", "ours", "brute", "p50", 1.0),
]


# #12's figures of our own, each at most a limit: (key, workload, our peer, the row's field, limit,
# the limit's metric). The field is "median" (of the runs) or a per-call percentile.
LIMITS = [
    ("build the index, wall", "build", "ours", "median", 4.0, "seconds"),
    ("nearest top 3 of 10 sites by postcode, p50 (1 thread)", "single", "ours", "p50_ns", 1000.0, "p50_ns"),
    ("nearest top 3 at 100,000 sites, p50 (1 thread)", "scaling_sites", "ours", "median", 3000.0, "p50_ns"),
    ("reverse geocoding, p50 (1 thread, tree loaded)", "reverse", "ours", "p50_ns", 1500.0, "p50_ns"),
    ("our HTTP service, p99 (wrk)", "single", "ours-http", "p99_ns", 5e6, "p50_ns"),
    ("batch top 3 over all GB to CSV, wall", "batch", "ours", "median", 1.5, "seconds"),
]


# A 1-minute load average above this at the start means the run shared the machine.
LOADED = 1.0
# What a full run may take, alone on the 2-core machine (benchmarks/README.md, "Time budget").
BUDGET_S = 15 * 60


def first(rows, peer, label_has=None):
    for r in rows:
        if r["peer"] == peer and r.get("status") != "skipped" and r.get("median") is not None:
            if label_has is None or label_has in r["label"]:
                return r
    return None


def fmt_value(v, metric):
    if v is None:
        return "-"
    if metric == "seconds":
        return f"{v:.3g} s" if v >= 0.1 else f"{v * 1000:.3g} ms"
    if metric == "queries_per_s":
        return f"{v:,.0f}/s" if v >= 100 else f"{v:.3g}/s"
    if metric == "p50_ns":
        return fmt_ns(v)
    return f"{v:.4g}"


def fmt_ns(ns):
    if ns is None:
        return "-"
    if ns < 1e3:
        return f"{ns:.0f} ns"
    if ns < 1e6:
        return f"{ns / 1e3:.3g} µs"
    if ns < 1e9:
        return f"{ns / 1e6:.3g} ms"
    return f"{ns / 1e9:.3g} s"


def fmt_ratio(ratio):
    """Enough digits to see which side of a target like 2.5x a figure falls."""
    if ratio is None:
        return "-"
    return f"{ratio:,.2f}x" if ratio < 10 else f"{ratio:,.1f}x"


def fmt_load(load):
    """The three load averages, as os.getloadavg gives them (older reports: strings)."""
    return " ".join(f"{float(x):.2f}" for x in load) if load else "?"


def under_load(machine):
    """Whether the 1-minute load average at the start was above 1: other work was running."""
    load = machine.get("load_before")
    return bool(load) and float(load[0]) > LOADED


def ratio_of(ours, theirs, better):
    """How many times better ours is (>1: ours wins)."""
    if not ours or not theirs or ours.get("median") in (None, 0) or theirs.get("median") in (None, 0):
        return None
    if better == "lower":
        return theirs["median"] / ours["median"]
    return ours["median"] / theirs["median"]


def headline(results):
    out = []
    for title, key, ours_peer, their_peer, how, target in HEADLINE:
        w = results["workloads"].get(key)
        entry = {"title": title, "target": target}
        if w is None:
            entry["status"] = "not run"
            out.append(entry)
            continue
        rows = w["rows"]
        if key == "scaling_sites":
            ours = first([r for r in rows if r.get("sites") == 100000], ours_peer)
            theirs = first([r for r in rows if r.get("sites") == 100000], their_peer)
        else:
            ours = first(rows, ours_peer)
            theirs = first(rows, their_peer)
        skipped = [r for r in rows if r["peer"] in (ours_peer, their_peer) and r.get("status") == "skipped"]
        if ours is None or theirs is None:
            entry["status"] = "not run: " + "; ".join(f"{r['label']}: {r['why']}" for r in skipped) if skipped \
                else "not run"
            out.append(entry)
            continue
        better = "higher" if how == "rate" else "lower"
        ratio = ratio_of(ours, theirs, better)
        entry.update({"ours": ours["median"], "theirs": theirs["median"], "metric": w["metric"],
                      "ratio": ratio, "ours_label": ours["label"], "their_label": theirs["label"],
                      "their_check": theirs.get("check"), "ours_check": ours.get("check")})
        if "peak_rss_kib" in ours and "peak_rss_kib" in theirs:
            entry["memory_ratio"] = theirs["peak_rss_kib"] / ours["peak_rss_kib"]
            entry["ours_rss_kib"], entry["their_rss_kib"] = ours["peak_rss_kib"], theirs["peak_rss_kib"]
        if target is None:
            entry["status"] = "info"
        else:
            entry["status"] = "met" if ratio is not None and ratio >= target else "missed"
        out.append(entry)
    return out


def limits(results):
    out = []
    for title, key, peer, field, limit, metric in LIMITS:
        w = results["workloads"].get(key)
        rows = (w or {}).get("rows", [])
        if key == "scaling_sites":
            rows = [r for r in rows if r.get("sites") == 100000]
        ours = first(rows, peer)
        entry = {"title": title, "limit": limit, "metric": metric}
        if ours is None or ours.get(field) is None:
            entry["status"] = "not run"
        else:
            entry.update({"ours": ours[field], "ours_label": ours["label"],
                          "status": "met" if ours[field] <= limit else "missed"})
        out.append(entry)
    return out


def add_ratios(results):
    for w in results["workloads"].values():
        rows = w["rows"]
        for r in rows:
            # Peers only: our own rows (the engine, a shell) are the references.
            if r.get("median") is None or r["peer"].startswith("ours"):
                continue
            if w.get("metric") == "p50_ns":  # scaling: against ours at the same size
                ours = next((o for o in rows if o["peer"] == "ours" and o.get("sites") == r.get("sites")), None)
                if "queries" in r and ours is None:
                    ours = next((o for o in rows if o["peer"] == "ours" and o.get("label") == r["label"]), None)
            elif w is results["workloads"].get("scaling_queries"):
                ours = next((o for o in rows if o["peer"] == "ours" and o.get("queries") == r.get("queries")), None)
            else:
                ref = "ours-http" if r["peer"] == "nginx" else "ours"
                if w is results["workloads"].get("reverse") and first(rows, "ours-threads"):
                    ref = "ours-threads"  # vectorised peers use every core: so does this row
                ours = first(rows, ref)
            r["ratio_vs_ours"] = ratio_of(ours, r, w["better"]) if ours is not None and ours is not r else None


def check_text(r):
    c = r.get("check")
    if r.get("status") == "skipped":
        return r.get("why", "skipped")
    if c is None:
        return "reference" if r["peer"].startswith("ours") else (r.get("note") or "-")
    return crosscheck.describe(c)


def markdown(results, head):
    m = results["meta"]
    mach = m.get("machine", {})
    v = m.get("versions", {})
    lines = [f"# hospital-locator benchmarks ({m.get('mode', '?')} run)", ""]
    if m.get("mode") != "full":
        lines += [f"**{m.get('mode')} run: a small sample and fewer runs; figures are for checking, "
                  "not for quoting.**", ""]
    elapsed = f" ({m['elapsed_s'] / 60:.1f} min)" if m.get("elapsed_s") else ""
    lines += [f"Run {m.get('started_utc', '?')} – {m.get('finished_utc', '?')}{elapsed}, commit {m.get('commit', '?')}, "
              f"command `{m.get('command', '')}`.", "",
              f"Machine: {mach.get('cpu', '?')}, {mach.get('cores', '?')} cores, {mach.get('memory_gib', '?')} GiB, "
              f"{mach.get('os', '?')}, Linux {mach.get('kernel', '?')}; load average (1, 5, 15 min) "
              f"{fmt_load(mach.get('load_before'))} at the start, {fmt_load(mach.get('load_after'))} at the end "
              "(the end includes the run's own work).", ""]
    if m.get("mode") == "full" and m.get("elapsed_s", 0) > BUDGET_S:
        lines += [f"**This full run took {m['elapsed_s'] / 60:.1f} min, over its {BUDGET_S // 60}-minute budget** "
                  "(benchmarks/README.md, \"Time budget\").", ""]
    if under_load(mach):
        lines += [f"**This run started under load:** the 1-minute load average was "
                  f"{float(mach['load_before'][0]):.2f} at the start, above 1, so other work shared the "
                  f"{mach.get('cores', '?')} cores; times may be slower and spread wider than on a quiet machine.",
                  ""]
    elif mach.get("load_before") and max(float(x) for x in mach["load_before"][1:]) > LOADED:
        lines += ["The machine was busy in the minutes before this run (5- and 15-minute load averages "
                  f"{fmt_load(mach['load_before'][1:])}), though quiet at its start.", ""]
    lines.append("Versions: " + "; ".join(f"{k} {val}" for k, val in v.items()) + ".")
    lines.append("")
    s = m.get("sizes", {})
    steady = s.get("steady_runs")
    steady = (f"; {steady} for some: see \"Time budget\" in benchmarks/README.md"
              if steady not in (None, s.get("heavy_runs")) else "")
    lines += [f"Figures: median of {s.get('runs', '?')} timed runs (whole-GB steps: {s.get('heavy_runs', '?')}{steady}), "
              f"min–max in brackets, after {s.get('warmup', '?')} untimed warm-up run(s) where noted; "
              f"queries: {s.get('queries', '?')}, batch: {s.get('batch', '?')}; \"one run\" in place of min–max "
              "marks a step timed once. Ratios are how many times "
              "better ours is (> 1: ours wins). A peer's time counts only when its answers equal ours "
              "(same sites in the same order; distances within 1 mm, or 1 cm where the peer transforms "
              "Code-Point itself); otherwise it is marked DISAGREES with examples below.", ""]
    for note in m.get("notes", []):
        lines += [f"Note: {note}", ""]
    ost = m.get("postgis_ostn15_check")
    if ost:
        lines += [f"PostGIS OSTN15 check: {ost['postcodes']:,} query postcodes within "
                  f"{ost['max_difference_m'] * 1000:.2f} mm of ours (without the grid PROJ's default would be "
                  f"{ost['without_grid_max_difference_m']:.2f} m off): {'passed' if ost['ok'] else 'FAILED'}.", ""]

    lines += ["## Headline", "", "| comparison | ours | peer | ours better by | target | |",
              "|---|---|---|---|---|---|"]
    for h in head:
        if "ratio" not in h:
            lines.append(f"| {h['title']} | | | | {'≥ %gx' % h['target'] if h['target'] else ''} | {h['status']} |")
            continue
        metric = h["metric"]
        ratio = fmt_ratio(h["ratio"])
        if "memory_ratio" in h:
            ratio += f"; memory {h['memory_ratio']:.1f}x less ({h['ours_rss_kib'] / 1024:.0f} vs {h['their_rss_kib'] / 1024:.0f} MiB)"
        check = h.get("their_check")
        status = h["status"]
        if check is not None and not check["ok"]:
            status += f"; peer disagrees on {check['disagreements']:,} of {check['checked']:,}"
        lines.append(f"| {h['title']} | {fmt_value(h['ours'], metric)} | {fmt_value(h['theirs'], metric)} | "
                     f"{ratio} | {'≥ %gx' % h['target'] if h['target'] else ''} | {status} |")
    lines.append("")
    lines += ["Our own figures against #12's limits:", "", "| figure | ours | limit | |", "|---|---|---|---|"]
    for h in results.get("limits", []):
        ours = fmt_value(h["ours"], h["metric"]) if "ours" in h else ""
        lines.append(f"| {h['title']} | {ours} | ≤ {fmt_value(h['limit'], h['metric'])} | {h['status']} |")
    lines.append("")
    if Path(results.get("_dir", ".")).joinpath("charts", "workloads.svg").exists():
        lines += ["![ours vs peers](charts/workloads.svg)", ""]

    examples = []
    for key, w in results["workloads"].items():
        lines += [f"## {w['title']}", ""]
        if w.get("note"):
            lines += [w["note"], ""]
        per_call = any(r.get("p50_ns") is not None for r in w["rows"]) and w["metric"] != "p50_ns"
        hdr = "| peer | median | min – max | ours better by |" + (" p50 | p90 | p99 |" if per_call else "") + \
              " answers |"
        lines += [hdr, "|" + "---|" * (hdr.count("|") - 1)]
        for r in w["rows"]:
            if r.get("status") == "skipped":
                lines.append(f"| {r['label']} | – | – | – |" + (" | | |" if per_call else "") + f" {r['why']} |")
                continue
            rng = f"{fmt_value(r.get('min'), w['metric'])} – {fmt_value(r.get('max'), w['metric'])}"
            if r.get("n") == 1:
                rng = "one run"
            ratio = r.get("ratio_vs_ours")
            ratio = f"{ratio:,.2f}x" if ratio is not None else ""
            extra = ""
            if per_call:
                extra = " " + " | ".join(fmt_ns(r.get(p)) for p in ("p50_ns", "p90_ns", "p99_ns")) + " |"
            label = r["label"]
            if r.get("peak_rss_kib"):
                label += f" (peak {r['peak_rss_kib'] / 1024:.0f} MiB)"
            lines.append(f"| {label} | {fmt_value(r.get('median'), w['metric'])} | {rng} | {ratio} |{extra} "
                         f"{check_text(r)} |")
            c = r.get("check")
            if c and not c["ok"]:
                examples.append((w["title"], r["label"], c))
        lines.append("")

    if examples:
        lines += ["## Disagreements (examples)", ""]
        for title, label, c in examples:
            lines.append(f"- **{label}** ({title}): {crosscheck.describe(c)}")
            for e in c["examples"]:
                lines.append(f"  - {crosscheck.format_example(e)}")
        lines.append("")
    failures = results.get("failures", [])
    if failures:
        lines += ["## Failed steps", ""]
        for f in failures:
            lines.append(f"- {f['step']}: {f['error'].strip().splitlines()[-1] if f['error'].strip() else '?'}")
        lines.append("")
    settings = m.get("postgres_settings")
    lines += ["## How each peer was set up", "",
              "- **ours**: `hospital-locator build` (all cores); in-process figures from `hloc_peers` "
              "(benchmarks/peers/peers.cpp) on the engine's public API; batch and HTTP through the shells.",
              "- **brute force**: `hloc::geodesic_inverse` (Vincenty) to every site, partial sort; threads as stated.",
              "- **Boost.Geometry rtree**: `bgi::rtree<…, bgi::parameters<bgi::rstar<16>, "
              "strategy::index::geographic<vincenty>>>`, packed construction, `bgi::nearest(p, k)`.",
              "- **SciPy**: `cKDTree` over 3-D unit vectors, `query(..., workers=-1)`, 3k candidates re-ranked by "
              "pyproj `Geod.inv` (Karney); scikit-learn `BallTree(metric='haversine')` likewise (its query has no "
              "parallel option). The batch script reads the zip with pandas and transforms with pyproj through "
              "the OSTN15 grid.",
              "- **PostGIS**: throw-away cluster on loopback TCP, geography column with GiST, postcode btree, "
              "`pgbench -M prepared` at the best client count of a sweep (in each row's label; the sweep is in report.json); batch with `\\copy (SELECT … CROSS JOIN "
              "LATERAL …) TO file` (parallel workers allowed). Settings: "
              + (", ".join(f"{k}={val}" for k, val in settings.items()) if settings else "-") + ".",
              "- **nginx**: `worker_processes auto`, keep-alive, `access_log off`, sendfile; a static file the "
              "size of our JSON answer; wrk at the best connection count of a sweep, as for our service.", ""]
    return "\n".join(lines)


# How a row is drawn in every chart: (colour, hatch, legend text), by what its answers showed.
STYLES = {
    "ours": ("tab:green", "", "ours"),
    "agrees": ("tab:grey", "", "peer: answers equal ours"),
    "unchecked": ("lightgrey", "", "peer with no answers to check"),
    "disagrees": ("tab:red", "///", "peer whose answers DISAGREE with ours: time not comparable"),
}
# An axis is logarithmic only where the values on it span more than this factor (max / min);
# below it a linear axis shows a 2x difference as 2x.
LOG_SPAN = 20.0
PEER_NAMES = {"ours": "ours (engine)", "rtree": "Boost.Geometry rtree", "brute": "brute force",
              "ckdtree": "SciPy cKDTree + Geod"}


def row_style(r):
    if r["peer"].startswith("ours"):
        return "ours"
    if r.get("status") == "disagrees":
        return "disagrees"
    # PostGIS's build is checked by its coordinates (OSTN15 within 1 cm of ours), not answers.
    checked = r.get("check") is not None or (r.get("ostn15") or {}).get("ok")
    return "agrees" if checked else "unchecked"


def short_label(label, width=80):
    return label if len(label) <= width else label[: width - 1] + "…"


def axis_scale(values):
    """"log" where the positive values span more than LOG_SPAN, else "linear"."""
    v = [x for x in values if x is not None and x > 0]
    return "log" if v and max(v) / min(v) > LOG_SPAN else "linear"


def style_text(kind, rows):
    """The legend's words for a style; the unchecked ones are named (nginx, the HTTP ceiling)."""
    if kind != "unchecked":
        return STYLES[kind][2]
    return STYLES[kind][2] + ": " + ", ".join(sorted({r["peer"] for r in rows if row_style(r) == kind}))


def style_legend(kinds, rows):
    from matplotlib.patches import Patch
    return [Patch(facecolor=STYLES[k][0], hatch=STYLES[k][1], edgecolor="black", linewidth=0.4,
                  label=style_text(k, rows)) for k in STYLES if k in kinds]


def charts(results, out):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    out.mkdir(exist_ok=True)
    made = []

    def save(fig, name):
        for ext in ("svg", "png"):
            fig.savefig(out / f"{name}.{ext}", bbox_inches="tight", dpi=110)
        plt.close(fig)
        made.append(name)

    ws = [(k, w) for k, w in results["workloads"].items() if k in ("build", "single", "batch", "reverse")]
    ws = [(k, w, [r for r in w["rows"] if r.get("median") is not None]) for k, w in ws]
    ws = [(k, w, rows) for k, w, rows in ws if rows]
    if ws:
        # Each chart as tall as its rows, so that two bars are not drawn a hand wide.
        fig, axes = plt.subplots(len(ws), 1, figsize=(9, 1.2 * len(ws) + 0.3 * sum(len(rows) for _, _, rows in ws)),
                                 gridspec_kw={"height_ratios": [len(rows) + 1 for _, _, rows in ws]})
        if len(ws) == 1:
            axes = [axes]
        kinds = set()
        every_row = [r for _, _, rows in ws for r in rows]
        for ax, (k, w, rows) in zip(axes, ws):
            labels = [short_label(r["label"]) for r in rows]
            vals = [r["median"] for r in rows]
            errs = [[r["median"] - r["min"] for r in rows], [r["max"] - r["median"] for r in rows]]
            styles = [row_style(r) for r in rows]
            kinds.update(styles)
            ax.barh(range(len(rows)), vals, xerr=errs, color=[STYLES[s][0] for s in styles],
                    edgecolor="black", linewidth=0.4, error_kw={"elinewidth": 0.8})
            for bar, s in zip(ax.patches, styles):
                bar.set_hatch(STYLES[s][1])
            scale = axis_scale([r["min"] for r in rows] + [r["max"] for r in rows])
            ax.set_xscale(scale)
            for i, r in enumerate(rows):
                ax.annotate(fmt_value(r["median"], w["metric"]), (r["max"], i), xytext=(4, 0),
                            textcoords="offset points", va="center", fontsize=6.5)
            ax.margins(x=0.14)
            ax.set_yticks(range(len(rows)))
            ax.set_yticklabels(labels, fontsize=7)
            ax.invert_yaxis()
            ax.set_title(w["title"] + (" (higher is better)" if w["better"] == "higher" else " (lower is better)"),
                         fontsize=9)
            unit = {"seconds": "seconds", "queries_per_s": "queries per second"}.get(w["metric"], w["metric"])
            ax.set_xlabel(unit + (", log scale" if scale == "log" else "") + "; bar: median, whisker: min–max",
                          fontsize=8)
            ax.tick_params(axis="x", labelsize=7)
        fig.tight_layout()
        # Above the charts (savefig's tight box takes it in), once for all of them.
        fig.legend(handles=style_legend(kinds, every_row), loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2,
                   fontsize=7, frameon=False)
        save(fig, "workloads")

    single = results["workloads"].get("single")
    if single:
        rows = [r for r in single["rows"] if r.get("p50_ns") is not None]
        if rows:
            from matplotlib.lines import Line2D
            fig, ax = plt.subplots(figsize=(9, 0.35 * len(rows) + 1.8))
            kinds = set()
            marks = (("p50_ns", "o", "p50"), ("p90_ns", "s", "p90"), ("p99_ns", "^", "p99"))
            for i, r in enumerate(rows):
                kind = row_style(r)
                kinds.add(kind)
                ps = [r.get(p) for p, _, _ in marks if r.get(p) is not None]
                ax.plot(ps, [i] * len(ps), "-", color="lightgrey", zorder=1)
                for p, mk, _ in marks:
                    if r.get(p) is not None:
                        ax.plot(r[p], i, mk, color=STYLES[kind][0], markeredgecolor="black",
                                markeredgewidth=0.4, zorder=2)
            scale = axis_scale([r.get(p) for r in rows for p, _, _ in marks])
            ax.set_xscale(scale)
            ax.set_yticks(range(len(rows)))
            ax.set_yticklabels([short_label(r["label"]) for r in rows], fontsize=7)
            ax.invert_yaxis()
            ax.set_xlabel("latency of one query, ns" + (", log scale" if scale == "log" else ""), fontsize=8)
            ax.set_title("Single-query latency distribution (lower is better)", fontsize=9)
            handles = [Line2D([], [], marker=mk, linestyle="", color="white", markeredgecolor="black", label=name)
                       for _, mk, name in marks]
            handles += [Line2D([], [], marker="o", linestyle="", color=STYLES[k][0], markeredgecolor="black",
                               markeredgewidth=0.4, label=style_text(k, rows)) for k in STYLES if k in kinds]
            fig.tight_layout()
            fig.legend(handles=handles, fontsize=7, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=3,
                       frameon=False)
            save(fig, "latency")

    for key, xname, title in (("scaling_sites", "sites", "Nearest top-3 p50 by number of sites (1 thread)"),
                              ("scaling_queries", "queries", "Top-3 for N queries, all cores")):
        w = results["workloads"].get(key)
        if not w:
            continue
        rows = [r for r in w["rows"] if r.get("median") and r.get(xname)]
        if not rows:
            continue
        fig, ax = plt.subplots(figsize=(6.5, 4.2))
        for peer in sorted({r["peer"] for r in rows}, key=lambda p: (p != "ours", p)):
            pts = sorted((r[xname], r["median"]) for r in rows if r["peer"] == peer)
            colour = STYLES["ours"][0] if peer == "ours" else None
            ax.plot([p[0] for p in pts], [p[1] for p in pts], "o-", label=PEER_NAMES.get(peer, peer), color=colour)
        bad = [r for r in rows if r.get("status") == "disagrees"]
        if bad:
            ax.plot([r[xname] for r in bad], [r["median"] for r in bad], "x", color=STYLES["disagrees"][0],
                    markersize=11, markeredgewidth=2, linestyle="", label=STYLES["disagrees"][2])
        xscale = axis_scale([r[xname] for r in rows])
        yscale = axis_scale([r["median"] for r in rows])
        ax.set_xscale(xscale)
        ax.set_yscale(yscale)
        if yscale == "linear":
            ax.set_ylim(bottom=0)
        ax.set_xlabel(xname + (", log scale" if xscale == "log" else ""))
        ylabel = "p50 ns per query" if w["metric"] == "p50_ns" else "seconds"
        ax.set_ylabel(ylabel + (", log scale" if yscale == "log" else "") + " (lower is better)")
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=7)
        save(fig, key)
    return made


def main(directory):
    d = Path(directory)
    results = json.loads((d / "results.json").read_text())
    add_ratios(results)
    head = headline(results)
    results["headline"] = head
    results["limits"] = limits(results)
    made = charts(results, d / "charts")
    results["charts"] = made
    results["_dir"] = str(d)
    md = markdown(results, head)
    if made:
        md += "\n## Charts\n\n" + "\n".join(f"![{c}](charts/{c}.svg)" for c in made) + "\n"
    (d / "report.md").write_text(md)
    # The headline alone, for the project README.
    start = md.index("## Headline")
    end = md.index("\n## ", start + 1)
    m = results["meta"]
    (d / "headline.md").write_text(
        f"{m.get('mode', '?')} run of `benchmarks/run`, {m.get('started_utc', '?')}, commit {m.get('commit', '?')}, "
        f"{m.get('machine', {}).get('cpu', '?')} with {m.get('machine', {}).get('cores', '?')} cores "
        f"(full report: benchmarks/results/report.md).\n\n" + md[start:end].replace("charts/", "benchmarks/results/charts/")
        + "\n")
    results.pop("_dir")
    (d / "report.json").write_text(json.dumps(results, indent=1))
    print(f"report: {d / 'report.md'}")


if __name__ == "__main__":
    main(sys.argv[1])
