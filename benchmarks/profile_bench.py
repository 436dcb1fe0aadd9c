"""A profile of the slowest path (the full sweep) with pyinstrument, as a text call tree.

.venv/bin/python benchmarks/profile_bench.py --db sqlite --notifications 5000
"""

from __future__ import annotations

import argparse
import importlib.util
import json
from pathlib import Path
from typing import Any

from common import PYTHON, WORK, Backend, drop_database, env_for, fresh_database, run_measured
from generate import AS_OF, generate


def profile_sweep(backend: Backend, notifications: int, *, seed: int) -> dict[str, Any]:
    """Generate a database and profile `meldplicht sweep --full` on it (pyinstrument if
    installed, else cProfile sorted by cumulative time)."""
    db = fresh_database(backend, f"profile_{notifications}")
    try:
        generate(db, notifications, seed=seed)
        output = WORK / f"profile-sweep-{backend}.txt"
        sweep = ["-m", "meldplicht", "sweep", "--as-of", AS_OF.isoformat(), "--full"]
        if importlib.util.find_spec("pyinstrument") is not None:
            tool = "pyinstrument"
            args = [
                PYTHON, "-m", "pyinstrument", "--renderer", "text", "--no-unicode",
                "--outfile", str(output), *sweep,
            ]  # fmt: skip
        else:
            tool = "cProfile"
            stats = WORK / "sweep.pstats"
            args = [PYTHON, "-m", "cProfile", "-o", str(stats), *sweep]
        child = run_measured(args, env_for(db))
        if tool == "cProfile":
            import io
            import pstats

            buffer = io.StringIO()
            pstats.Stats(str(WORK / "sweep.pstats"), stream=buffer).sort_stats(
                "cumulative"
            ).print_stats(60)
            output.write_text(buffer.getvalue())
        return {
            "backend": backend,
            "notifications": notifications,
            "tool": tool,
            "seconds": round(child.seconds, 1),
            "returncode": child.returncode,
            "profile": str(output.relative_to(WORK.parent.parent)),
            "text": _trim(output),
        }
    finally:
        drop_database(db)


def _trim(path: Path, width: int = 150) -> str:
    """The call tree without frames below 1% (pyinstrument's text already drops most)."""
    if not path.exists():
        return ""
    return "\n".join(line[:width] for line in path.read_text().splitlines())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--notifications", type=int, default=5000)
    args = parser.parse_args()
    result = profile_sweep(args.db, args.notifications, seed=2026)
    print(json.dumps({k: v for k, v in result.items() if k != "text"}, indent=2))
    print(result["text"])


if __name__ == "__main__":
    main()
