"""Regenerate every benchmark figure and write benchmarks/results.md (and results.json).

.venv/bin/python benchmarks/run_all.py --size small --db both   # a few minutes
.venv/bin/python benchmarks/run_all.py --size full --db both    # hours: a quiet machine
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from common import BENCH, REPO, Backend, Database, drop_database, machine, versions
from intake import CLIENTS, bench_intake
from meldplicht.core.db import create_db_engine
from payroll_bench import bench_payroll
from profile_bench import profile_sweep
from queue_bench import bench_queue
from sweep_bench import bench_sweep

ONE_MILLION = 1_000_000
SEED = 2026


@dataclass(frozen=True, slots=True)
class Size:
    sweep: tuple[int, ...]  # notifications per generated database (the last gets the queue)
    intake_requests: int
    bulk_rows: int
    queue_requests: int
    export_days: tuple[int, int]  # ~1% and ~10% of the flags (first_seen spread over 720 days)
    payroll_rows: int
    profile: int
    sweep_timeout: float  # seconds before a full sweep is stopped (its progress is kept)
    incremental_timeout: float
    # The largest database's full sweep gets this long: enough for its rate and memory at
    # that scale; the whole-run rate comes from the complete sweep of the smaller one, and
    # the incremental day then runs on the database marked as swept (sweep_bench.mark_swept).
    largest_sweep_timeout: float


SIZES = {
    "small": Size(
        sweep=(1_000, 3_000),
        intake_requests=400,
        bulk_rows=300,
        queue_requests=60,
        export_days=(7, 72),
        payroll_rows=20_000,
        profile=1_000,
        sweep_timeout=900,
        incremental_timeout=300,
        largest_sweep_timeout=900,
    ),
    "full": Size(
        sweep=(100_000, ONE_MILLION),
        intake_requests=10_000,
        bulk_rows=10_000,
        queue_requests=400,
        export_days=(7, 72),
        payroll_rows=ONE_MILLION,
        profile=20_000,
        sweep_timeout=3600,
        incremental_timeout=600,
        largest_sweep_timeout=120,
    ),
}


def git_state() -> dict[str, str]:
    def git(*args: str) -> str:
        result = subprocess.run(
            ["git", *args], cwd=REPO, capture_output=True, text=True, check=False
        )
        return result.stdout

    dirty = [line[3:] for line in git("status", "--porcelain", "src").splitlines() if line]
    return {
        "commit": git("rev-parse", "--short", "HEAD").strip(),
        "uncommitted changes in src/": ", ".join(dirty) if dirty else "none",
    }


def run(size_name: str, backends: list[Backend], keep: bool) -> dict[str, Any]:
    size = SIZES[size_name]
    results: dict[str, Any] = {
        "size": size_name,
        "sizes": asdict(size),
        "command": " ".join([".venv/bin/python", "benchmarks/run_all.py", *sys.argv[1:]]),
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "versions": versions(),
        "git": git_state(),
    }
    started = time.perf_counter()
    _step("intake and bulk upload")
    results["intake"] = bench_intake(backends, size.intake_requests, size.bulk_rows)
    results["sweeps"] = []
    results["queue"] = []
    results["payroll"] = []
    for backend in backends:
        for n in size.sweep:
            largest = n == size.sweep[-1]
            _step(f"generate + sweep {n:,} on {backend}")

            def queue_hook(db: Database, size: Size = size) -> dict[str, Any]:
                _step(f"queue and export on {db.backend}")
                return bench_queue(db, requests=size.queue_requests, export_days=size.export_days)

            sweep = bench_sweep(
                backend,
                n,
                seed=SEED,
                timeout=size.largest_sweep_timeout if largest else size.sweep_timeout,
                incremental_timeout=size.incremental_timeout,
                before_sweep=queue_hook if largest else None,
            )
            if "before_sweep" in sweep:
                results["queue"].append(
                    {**sweep.pop("before_sweep"), "flags": sweep["rows"]["flag"]}
                )
            db_url = sweep.pop("url")
            results["sweeps"].append(sweep)
            db = _database(backend, f"sweep_{n}", db_url)
            if largest:
                _step(f"payroll import on {backend}")
                results["payroll"].append(
                    bench_payroll(db, size.payroll_rows, seed=SEED, world_size=n)
                )
            if not keep:
                drop_database(db)
    results["profiles"] = []
    for backend in backends:
        _step(f"profile of the sweep on {backend}")
        results["profiles"].append(profile_sweep(backend, size.profile, seed=SEED))
    results["seconds"] = round(time.perf_counter() - started, 1)
    results["machine"]["load average at end"] = machine()["load average (1/5/15 min) at start"]
    return results


def _database(backend: Backend, name: str, url: str) -> Database:
    path = Path(url.split("///", 1)[1]) if backend == "sqlite" else None
    return Database(backend, name, url, path)


def _step(text: str) -> None:
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


# --- targets ---------------------------------------------------------------------------------


def _verdict(ok: bool, projected: bool = False) -> str:
    word = "met" if ok else "missed"
    return f"{word} (projected)" if projected else word


def targets(r: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(target, what was measured, met / missed); a figure measured below the target's own
    size is projected linearly from the measured rate and marked so."""
    out: list[tuple[str, str, str]] = []
    loads = {(x["backend"], x["target"]): x for x in r["intake"]["loads"]}
    for backend in sorted({b for b, _ in loads}):
        ours, base = loads[(backend, "meldplicht")], loads[(backend, "baseline")]
        ratio = ours["throughput"] / base["throughput"] if base["throughput"] else 0.0
        out.append(
            (
                f"intake {backend}: throughput >= 0.5 x baseline",
                f"{ours['throughput']:.0f} vs {base['throughput']:.0f} req/s ({ratio:.2f} x)",
                _verdict(ratio >= 0.5),
            )
        )
        out.append(
            (
                f"intake {backend}: zero errors",
                f"{ours['errors']} of {ours['requests']}",
                _verdict(ours["errors"] == 0),
            )
        )
        if backend == "postgres":
            out.append(
                (
                    "intake postgres: p99 <= baseline p99",
                    f"{ours['p99_ms']} vs {base['p99_ms']} ms",
                    _verdict(ours["p99_ms"] <= base["p99_ms"]),
                )
            )
        else:
            out.append(
                (
                    "intake sqlite: p99 < 200 ms",
                    f"{ours['p99_ms']} ms",
                    _verdict(ours["p99_ms"] < 200),
                )
            )
    for bulk in r["intake"]["bulk"]:
        out.append(
            (
                f"bulk upload {bulk['backend']}: >= 1,000 rows/s",
                f"{bulk['rows_per_second']:.0f} rows/s ({bulk['accepted']} of {bulk['rows']})",
                _verdict(bulk["rows_per_second"] >= 1000 and bulk["accepted"] == bulk["rows"]),
            )
        )
    for backend in sorted({s["backend"] for s in r["sweeps"]}):
        sweep = max((s for s in r["sweeps"] if s["backend"] == backend), key=_n)
        n = sweep["notifications"]
        full = sweep["full"]
        at_scale = n >= ONE_MILLION
        if full["timed_out"]:
            # Stopped at its time limit: project from the largest complete run (every phase),
            # and say how far the stopped one got.
            done = [
                s for s in r["sweeps"] if s["backend"] == backend and not s["full"]["timed_out"]
            ]
            whole = max(done, key=_n) if done else sweep
            rate = whole["full"]["rows_per_second"] or 1e-9
            measured = (
                f"{ONE_MILLION / rate:,.0f} s (from {rate:,.0f} rows/s over the complete run at "
                f"{_n(whole):,}; at {n:,} stopped after {full['seconds']:,.0f} s with "
                f"{full['evaluated']:,} notifications evaluated)"
            )
            out.append((f"sweep {backend}: full at 1M < 60 s", measured, _verdict(False, True)))
        else:
            rate = full["rows_per_second"] or 1e-9
            seconds = full["seconds"] if at_scale else ONE_MILLION / rate
            out.append(
                (
                    f"sweep {backend}: full at 1M < 60 s",
                    f"{seconds:,.0f} s"
                    + ("" if at_scale else f" (from {rate:,.0f} rows/s at {n:,})"),
                    _verdict(seconds < 60, projected=not at_scale),
                )
            )
        out.append(
            (
                f"sweep {backend}: full peak memory < 1 GB",
                f"{full['peak_rss_mb']:,.0f} MB at {n:,}",
                _verdict(full["peak_rss_mb"] < 1024, projected=not at_scale),
            )
        )
        if "incremental" not in sweep:
            out.append(
                (f"sweep {backend}: incremental day at 1M < 5 s", "not run", _verdict(False))
            )
            continue
        inc = sweep["incremental"]
        inc_seconds = inc["seconds"] * (1 if at_scale else ONE_MILLION / n)
        basis = ", after a marked full run" if "marked" in sweep else ""
        out.append(
            (
                f"sweep {backend}: incremental day at 1M < 5 s",
                f"{inc_seconds:,.1f} s (ran as {inc['ran_as']}, {inc['seconds']} s at {n:,}"
                f"{basis})",
                _verdict(inc_seconds < 5 and inc["ran_as"] == "incremental", not at_scale),
            )
        )
    for q in r["queue"]:
        scale = q["flags"] >= ONE_MILLION
        for part in ("list", "detail"):
            out.append(
                (
                    f"queue {q['backend']}: {part} p95 < 50 ms at 1M flags",
                    f"{q[part]['p95_ms']} ms at {q['flags']:,} flags",
                    _verdict(q[part]["p95_ms"] < 50 and not q[part]["errors"], not scale),
                )
            )
        small, large = q["export"][0], q["export"][-1]
        flat = large["rss_growth_mb"] <= small["rss_growth_mb"] + 16
        out.append(
            (
                f"queue {q['backend']}: export of 100k flags in flat memory",
                f"+{large['rss_growth_mb']} MB for {large['rows']:,} rows vs "
                f"+{small['rss_growth_mb']} MB for {small['rows']:,}",
                _verdict(flat, projected=large["rows"] < 100_000),
            )
        )
    for p in r["payroll"]:
        large, small = p["large"], p["small"]
        at_scale = large["rows"] >= ONE_MILLION
        seconds = large["seconds"] if at_scale else ONE_MILLION / (large["rows_per_second"] or 1e-9)
        out.append(
            (
                f"payroll {p['backend']}: 1M rows < 2 min",
                f"{seconds:,.0f} s" + ("" if at_scale else f" (from {large['rows']:,} rows)"),
                _verdict(seconds < 120 and large["returncode"] == 0, projected=not at_scale),
            )
        )
        out.append(
            (
                f"payroll {p['backend']}: flat memory",
                f"{large['peak_rss_mb']} MB for {large['rows']:,} rows vs "
                f"{small['peak_rss_mb']} MB for {small['rows']:,}",
                _verdict(large["peak_rss_mb"] <= small["peak_rss_mb"] + 32),
            )
        )
    return out


def _n(sweep: dict[str, Any]) -> int:
    return int(sweep["notifications"])


# --- the report ------------------------------------------------------------------------------


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _ratio(a: float, b: float) -> str:
    if not b:
        return "-"
    value = a / b
    return f"{value:.2f} x" if value < 10 else f"{value:,.0f} x"


def render(r: dict[str, Any]) -> str:
    out = [
        "# meldplicht benchmarks",
        "",
        f"Size **{r['size']}**, run {r['started']} (UTC), {r['seconds']:,.0f} s in all.",
        "",
        f"Command: `{r['command']}`",
        "",
        *(
            f"Re-measured since: the {x['part']} figures"
            f"{' on ' + ' and '.join(x['backends']) if x.get('backends') else ''}, "
            f"{x['started']} (UTC), commit "
            f"{x['commit']}, load average {x['load average at start']}: `{x['command']}`.\n"
            for x in r.get("reruns", [])
        ),
        "Regenerate with the same command; benchmarks/README.md explains every figure.",
        "",
        "## Machine and versions",
        "",
        _table(["", ""], [[k, v] for k, v in {**r["machine"], **r["git"]}.items()]),
        "",
        _table(["component", "version"], [[k, v] for k, v in r["versions"].items()]),
        "",
        "## Targets",
        "",
        _table(["target", "measured", "verdict"], [list(t) for t in targets(r)]),
        "",
        '"(projected)": measured below the target\'s size and scaled linearly from the '
        "measured rate; only a `--size full` run gives the verdict itself.",
        "",
    ]
    out += _intake_section(r)
    out += _sweep_section(r)
    out += _queue_section(r)
    out += _payroll_section(r)
    out += _profile_section(r)
    return "\n".join(out) + "\n"


def _intake_section(r: dict[str, Any]) -> list[str]:
    loads = r["intake"]["loads"]
    base = {x["backend"]: x for x in loads if x["target"] == "baseline"}
    rows = [
        [
            x["backend"], x["target"], x["requests"], x["throughput"],
            _ratio(x["throughput"], base[x["backend"]]["throughput"]), x["p50_ms"], x["p95_ms"],
            x["p99_ms"], x["max_ms"], x["errors"], x["server_peak_rss_mb"],
        ]
        for x in loads
    ]  # fmt: skip
    bulk = [
        [b["backend"], b["rows"], b["accepted"], b["rejected"], b["seconds"], b["rows_per_second"]]
        for b in r["intake"]["bulk"]
    ]
    errors = [f"- {x['backend']} {x['target']}: {x['error_sample']}" for x in loads if x["errors"]]
    rejected = [
        f"- {b['backend']}: {b['first_rejection']}" for b in r["intake"]["bulk"] if b["rejected"]
    ]
    return [
        f"## Intake: POST /api/v1/notifications, {CLIENTS} concurrent clients",
        "",
        _table(
            [
                "db",
                "server",
                "requests",
                "req/s",
                "vs baseline",
                "p50 ms",
                "p95 ms",
                "p99 ms",
                "max ms",
                "errors",
                "server peak RSS MB",
            ],
            rows,
        ),
        "",
        f"Each backend's baseline and meldplicht servers ran side by side, the load alternating "
        f"between them in {r['intake'].get('rounds', 1)} rounds (benchmarks/README.md).",
        "",
        *(["First error of each failing run:", "", *errors, ""] if errors else []),
        "## Bulk upload: POST /api/v1/notifications/bulk (one CSV, one request)",
        "",
        _table(["db", "rows", "accepted", "rejected", "seconds", "rows/s"], bulk),
        "",
        *(["First rejection:", "", *rejected, ""] if rejected else []),
    ]


def _sweep_section(r: dict[str, Any]) -> list[str]:
    gen = [
        [s["backend"], f"{s['notifications']:,}", f"{s['generate_rows']:,}", s["generate_seconds"],
         f"{s['generate_rows_per_second']:,.0f}", s["database_mb"]]
        for s in r["sweeps"]
    ]  # fmt: skip
    full = []
    for s in r["sweeps"]:
        f, read, sql = s["full"], s["floor_read"], s["floor_sql"]
        full.append(
            [
                s["backend"],
                f"{s['notifications']:,}",
                f"{f['evaluated']:,}",
                _phases(f),
                f["seconds"],
                f"{f['rows_per_second']:,.0f}",
                f["peak_rss_mb"],
                f["status"],
                f"{read['seconds']} s ({read['rows_per_second']:,.0f}/s)",
                f"{sql['seconds']} s",
                _ratio(f["seconds"], read["seconds"]),
                _ratio(f["seconds"], sql["seconds"]),
            ]
        )
    inc = []
    for s in r["sweeps"]:
        for key, label in (("incremental", "as shipped"), ("incremental_patched", "patched")):
            if key in s:
                i = s[key]
                if key == "incremental" and "marked" in s:
                    label = (
                        f"after a marked full run ({s['marked']['notifications']:,} marked in "
                        f"{s['marked']['seconds']} s)"
                    )
                inc.append(
                    [
                        s["backend"],
                        f"{s['notifications']:,}",
                        s["day_notices"],
                        label,
                        i["ran_as"],
                        f"{i['selected']:,}",
                        _phases(i),
                        i["seconds"],
                        i["peak_rss_mb"],
                        i["status"],
                    ]
                )
    return [
        "## Generated data",
        "",
        _table(["db", "notifications", "rows written", "seconds", "rows/s", "database MB"], gen),
        "",
        "## Sweep: `meldplicht sweep --full` and its floors",
        "",
        _table(
            [
                "db",
                "notifications",
                "evaluated",
                "phases",
                "seconds",
                "rows/s",
                "peak RSS MB",
                "status",
                "floor: raw read",
                "floor: bare SQL",
                "sweep / raw read",
                "sweep / bare SQL",
            ],
            full,
        ),
        "",
        "## Sweep: a typical day in the default (incremental) mode",
        "",
        _table(
            [
                "db",
                "notifications",
                "new that day",
                "data",
                "ran as",
                "selected",
                "phases",
                "seconds",
                "peak RSS MB",
                "status",
            ],
            inc,
        ),
        "",
        *(
            [
                '"patched": the same, a day later, after setting next_check_date on the closed '
                "notifications no sweep selects (see README: the incremental fallback).",
                "",
            ]
            if any(s.get("incremental_patched") for s in r["sweeps"])
            else []
        ),
    ]


def _phases(run: dict[str, Any]) -> str:
    """What the run's other phases went through (persons, employers, payroll records)."""
    counts = run.get("counts", {})
    parts = [f"{counts.get(k, 0):,} {label}" for k, label in PHASES if k in counts]
    return ", ".join(parts) or "-"


PHASES = (
    ("persons", "persons"),
    ("employers", "employers"),
    ("payroll_records", "payroll records"),
    ("payroll_notifications", "payroll notices"),
    ("register_employers", "register employers"),
)


def _queue_section(r: dict[str, Any]) -> list[str]:
    rows = []
    exports = []
    for q in r["queue"]:
        for part in ("list", "detail"):
            x = q[part]
            rows.append(
                [
                    q["backend"],
                    f"{q['flags']:,}",
                    part,
                    x["requests"],
                    x["p50_ms"],
                    x["p95_ms"],
                    x["max_ms"],
                    x["errors"],
                ]
            )
        for e in q["export"]:
            exports.append(
                [
                    q["backend"],
                    e["days"],
                    f"{e['rows']:,}",
                    e["mb"],
                    e["seconds"],
                    f"{e['rows_per_second']:,.0f}",
                    e["rss_before_mb"],
                    e["rss_peak_mb"],
                    e["rss_growth_mb"],
                ]
            )
    return [
        "## Inspection queue (HTTP against `meldplicht serve`, one client)",
        "",
        _table(
            ["db", "flags", "request", "requests", "p50 ms", "p95 ms", "max ms", "errors"], rows
        ),
        "",
        "## Queue CSV export (streamed; server RSS sampled every 50 ms)",
        "",
        _table(
            [
                "db",
                "days of flags",
                "rows",
                "MB",
                "seconds",
                "rows/s",
                "RSS before MB",
                "RSS peak MB",
                "growth MB",
            ],
            exports,
        ),
        "",
    ]


def _payroll_section(r: dict[str, Any]) -> list[str]:
    rows = [
        [p["backend"], label, f"{x['rows']:,}", f"{x['imported']:,}", x["rejected"], x["seconds"],
         f"{x['rows_per_second']:,.0f}", x["peak_rss_mb"]]
        for p in r["payroll"]
        for label, x in (("small", p["small"]), ("large", p["large"]))
    ]  # fmt: skip
    return [
        "## Payroll import: `meldplicht import-payroll FILE`",
        "",
        _table(
            ["db", "file", "rows", "imported", "rejected", "seconds", "rows/s", "peak RSS MB"],
            rows,
        ),
        "",
    ]


def _profile_section(r: dict[str, Any]) -> list[str]:
    out = ["## Profile of the slowest path (the full sweep)", ""]
    for p in r["profiles"]:
        out += [
            f"{p['backend']}, {p['notifications']:,} notifications, {p['tool']}, "
            f"{p['seconds']} s (profiled). Full tree: `{p['profile']}` (not committed).",
            "",
            "<details><summary>call tree</summary>",
            "",
            "```",
            "\n".join(p["text"].splitlines()[:120]),
            "```",
            "",
            "</details>",
            "",
        ]
    return out


def rerun(part: str, size_name: str, backends: list[Backend], results_path: Path) -> dict[str, Any]:
    """Measure one part again (intake with its bulk upload, on fresh empty databases; the
    queue or the payroll import, on a freshly generated database of the size's largest) and
    put its figures into an earlier run's results, noting the re-run; everything else stays."""
    from common import fresh_database
    from generate import generate

    r: dict[str, Any] = json.loads(results_path.read_text(encoding="utf-8"))
    if r.get("size") != size_name:
        raise SystemExit(f"{results_path} holds a --size {r.get('size')} run, not {size_name}")
    size = SIZES[size_name]
    n = size.sweep[-1]
    started = datetime.now(UTC).isoformat(timespec="seconds")
    load = machine()["load average (1/5/15 min) at start"]
    fresh: list[dict[str, Any]] = []
    if part == "intake":
        _step(f"intake: {size.intake_requests:,} requests, {size.bulk_rows:,} bulk rows")
        again = bench_intake(backends, size.intake_requests, size.bulk_rows)
        for key in ("loads", "bulk"):
            kept = [x for x in r["intake"][key] if x["backend"] not in backends]
            r["intake"][key] = kept + again[key]
        r["intake"]["rounds"] = again["rounds"]
    for backend in backends if part != "intake" else []:
        _step(f"generate {n:,} + {part} on {backend}")
        db = fresh_database(backend, f"{part}_{n}")
        try:
            generated = generate(db, n, seed=SEED)
            if part == "queue":
                q = bench_queue(db, requests=size.queue_requests, export_days=size.export_days)
                fresh.append({**q, "flags": generated.counts["flag"]})
            else:
                fresh.append(bench_payroll(db, size.payroll_rows, seed=SEED, world_size=n))
        finally:
            drop_database(db)
    if part != "intake":
        r[part] = [x for x in r[part] if x["backend"] not in backends] + fresh
    r.setdefault("reruns", []).append(
        {
            "part": part,
            "command": " ".join([".venv/bin/python", "benchmarks/run_all.py", *sys.argv[1:]]),
            "started": started,
            "commit": git_state().get("commit", ""),
            "load average at start": load,
            "backends": backends,
        }
    )
    return r


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--keep", action="store_true", help="Keep the generated databases.")
    parser.add_argument("--output", type=Path, default=BENCH / "results.md")
    parser.add_argument(
        "--only",
        choices=["intake", "queue", "payroll"],
        help="Re-measure one part into the existing results (e.g. after a fix to it).",
    )
    args = parser.parse_args()
    backends: list[Backend] = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    create_db_engine  # noqa: B018 - imported so a broken meldplicht install fails here, early
    if args.only is not None:
        results = rerun(args.only, args.size, backends, args.output.with_suffix(".json"))
    else:
        results = run(args.size, backends, args.keep)
    args.output.write_text(render(results), encoding="utf-8")
    args.output.with_suffix(".json").write_text(
        json.dumps(results, indent=2, default=str), encoding="utf-8"
    )
    print(f"wrote {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
