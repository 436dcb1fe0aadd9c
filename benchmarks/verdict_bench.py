"""Verdict first, explanation on demand: microseconds per notification, side by side.

.venv/bin/python benchmarks/verdict_bench.py --rows 20000 --repeats 5

On the same generated notifications (benchmarks/verdict_facts.py, seeded), judged as of one
sweep day, it times three ways through the rules, alternating them in every repeat:

- full: `evaluate_notification` (every verdict explained: messages, evidence, references);
- verdicts: `evaluate_verdicts` alone (what a rule decided, no words);
- verdicts + new: the verdicts, then the explanation only of those whose flag (rule and
  period key) the day before did not have: what a nightly sweep needs when it refreshes
  existing flags without rewriting their words. The day before's verdicts are computed
  beforehand and not timed (the sweep reads them from its flags).

It prints a table and, with --json, the raw figures. The lowest of the repeats is the figure
(the least disturbed by other work on the machine), in CPU time of this process (a shared
machine's load inflates wall time, shown beside it); the median is shown too.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import statistics
import subprocess
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from meldplicht.rules.checks import evaluate_notification, evaluate_verdicts, explain_all
from meldplicht.rules.facts import Evaluation, NotificationFacts
from meldplicht.rules.params import get_parameters
from verdict_facts import random_facts

SWEEP_DAY = date(2026, 12, 3)
ROOT = Path(__file__).resolve().parents[1]


def _commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _timed(fn: Callable[[], int]) -> tuple[float, float, int]:
    """(CPU microseconds of this process, wall microseconds, what fn counted)."""
    gc.collect()
    cpu, wall = time.process_time_ns(), time.perf_counter_ns()
    produced = fn()
    return (time.process_time_ns() - cpu) / 1000, (time.perf_counter_ns() - wall) / 1000, produced


def run(rows: int, repeats: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    facts: list[NotificationFacts] = [random_facts(rng) for _ in range(rows)]
    params = get_parameters()
    sweep = Evaluation.SWEEP
    yesterday = SWEEP_DAY - timedelta(days=1)
    before = [
        {v.key for v in evaluate_verdicts(f, as_of=yesterday, evaluation=sweep, params=params)}
        for f in facts
    ]

    def full() -> int:
        n = 0
        for f in facts:
            n += len(evaluate_notification(f, as_of=SWEEP_DAY, evaluation=sweep, params=params))
        return n

    def verdicts() -> int:
        n = 0
        for f in facts:
            n += len(evaluate_verdicts(f, as_of=SWEEP_DAY, evaluation=sweep, params=params))
        return n

    def verdicts_then_new() -> int:
        explained = 0
        for f, known in zip(facts, before, strict=True):
            found = evaluate_verdicts(f, as_of=SWEEP_DAY, evaluation=sweep, params=params)
            new = [v for v in found if v.key not in known]
            if new:
                explained += len(
                    explain_all(new, f, as_of=SWEEP_DAY, evaluation=sweep, params=params)
                )
        return explained

    ways: dict[str, Callable[[], int]] = {
        "full": full,
        "verdicts": verdicts,
        "verdicts + new": verdicts_then_new,
    }
    full()  # warm the caches every way shares (timeliness, minimum wages, hour limits)
    times: dict[str, list[float]] = {name: [] for name in ways}
    walls: dict[str, list[float]] = {name: [] for name in ways}
    produced: dict[str, int] = {}
    for _ in range(repeats):
        for name, fn in ways.items():
            cpu, wall, count = _timed(fn)
            times[name].append(cpu / rows)
            walls[name].append(wall / rows)
            produced[name] = count
    return {
        "rows": rows,
        "repeats": repeats,
        "seed": seed,
        "sweep_day": SWEEP_DAY.isoformat(),
        "commit": _commit(),
        "python": platform.python_version(),
        "load_average_at_end": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "findings": produced["full"],
        "verdicts": produced["verdicts"],
        "explained_new": produced["verdicts + new"],
        "us_per_row": {
            name: {
                "min": round(min(v), 1),
                "median": round(statistics.median(v), 1),
                "wall_min": round(min(walls[name]), 1),
            }
            for name, v in times.items()
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="print the raw figures as JSON")
    args = parser.parse_args()
    result = run(args.rows, args.repeats, args.seed)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    full = result["us_per_row"]["full"]["min"]
    print(
        f"{result['rows']} notifications, sweep day {result['sweep_day']}, "
        f"{result['repeats']} repeats, commit {result['commit']}, "
        f"load average at end {result['load_average_at_end']}"
    )
    print(
        f"{result['findings']} findings = {result['verdicts']} verdicts; "
        f"{result['explained_new']} of them new since the day before"
    )
    print("| way | CPU us per row (lowest) | median | wall (lowest) | against full |")
    print("|---|---:|---:|---:|---:|")
    for name, f in result["us_per_row"].items():
        ratio = f["min"] / full
        print(f"| {name} | {f['min']} | {f['median']} | {f['wall_min']} | {ratio:.2f} |")


if __name__ == "__main__":
    main()
