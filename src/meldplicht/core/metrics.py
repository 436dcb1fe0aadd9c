"""Prometheus metrics: the counters other modules bump, and the exposition for /metrics.

Counters and histograms live in each process. Under several web workers set
PROMETHEUS_MULTIPROC_DIR (an empty directory per start, shared by the workers): prometheus-client
then writes the values to files there and `render` aggregates them with MultiProcessCollector.
Values that the database knows better than any one process (flags by status, the last sweep)
are computed at scrape time by `DatabaseCollector` with a few cheap aggregate queries, so they
are right whichever process serves the scrape and whichever process ran the sweep.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

# The *_created series double the output and mean nothing once aggregated over workers.
disable_created_metrics()  # type: ignore[no-untyped-call]

CONTENT_TYPE = CONTENT_TYPE_LATEST
UNMATCHED_ROUTE = "<unmatched>"

HTTP_REQUESTS = Counter(
    "meldplicht_http_requests_total",
    "HTTP requests answered, by method, route template and status code.",
    ["method", "route", "status"],
)
HTTP_DURATION = Histogram(
    "meldplicht_http_request_duration_seconds",
    "Time from receiving a request to the end of its response, by route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
NOTIFICATIONS_RECEIVED = Counter(
    "meldplicht_notifications_received_total",
    "Notifications stored, by channel (api, form, bulk, import).",
    ["channel"],
)
FINDINGS_EMITTED = Counter(
    "meldplicht_findings_total",
    "Findings produced by the rules, by rule code and where (intake or sweep).",
    ["rule", "source"],
)
SWEEP_RUNS = Counter(
    "meldplicht_sweep_runs_total",
    "Sweep runs finished in this process, by status (succeeded, failed, interrupted).",
    ["status"],
)
SWEEP_DURATION = Histogram(
    "meldplicht_sweep_duration_seconds",
    "Wall time of sweep runs finished in this process.",
    buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200),
)
SWEEP_ITEMS = Counter(
    "meldplicht_sweep_items_total",
    "What sweeps did, by kind (checked, flags_opened, flags_cleared, errors...).",
    ["kind"],
)
REGISTER_CALLS = Counter(
    "meldplicht_register_calls_total",
    "Calls to outside registers (kvk...), by register and outcome (ok, failed).",
    ["register", "outcome"],
)
REGISTER_DURATION = Histogram(
    "meldplicht_register_call_duration_seconds",
    "Latency of calls to outside registers, by register.",
    ["register"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


# --- helpers other modules call ------------------------------------------------------------


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    """Called by the ops middleware once per response."""
    HTTP_REQUESTS.labels(method, route, str(status)).inc()
    HTTP_DURATION.labels(method, route).observe(seconds)


def notification_received(channel: str) -> None:
    """One notification stored (call after the flush that stored it; a rollback over-counts
    by at most the failed request, which is acceptable for a rate)."""
    NOTIFICATIONS_RECEIVED.labels(str(channel)).inc()


def finding_emitted(code: str, source: str = "intake", count: int = 1) -> None:
    """`count` findings of rule `code` produced at `source` (intake or sweep)."""
    if count > 0:
        FINDINGS_EMITTED.labels(code, source).inc(count)


def findings_emitted(codes: Iterable[str], source: str = "intake") -> None:
    """Convenience: one increment per code in `codes` (e.g. [f.code for f in findings])."""
    for code in codes:
        FINDINGS_EMITTED.labels(code, source).inc()


def sweep_finished(
    status: str, duration_seconds: float, counts: Mapping[str, int] | None = None
) -> None:
    """A sweep run ended (succeeded, failed or interrupted), with its counts."""
    SWEEP_RUNS.labels(status).inc()
    SWEEP_DURATION.observe(duration_seconds)
    for kind, value in (counts or {}).items():
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            SWEEP_ITEMS.labels(kind).inc(value)


def register_call(name: str, ok: bool, duration_seconds: float | None = None) -> None:
    """One call to an outside register (e.g. "kvk"); ok=False for errors and timeouts."""
    REGISTER_CALLS.labels(name, "ok" if ok else "failed").inc()
    if duration_seconds is not None:
        REGISTER_DURATION.labels(name).observe(duration_seconds)


# --- scrape-time values from the database --------------------------------------------------

DatabaseSnapshot = Callable[[], Mapping[str, Any]]


class DatabaseCollector(Collector):
    """Gauges read from the database when scraped; `snapshot` runs the queries.

    `snapshot` returns {"flags": {status: n}, "last_success": datetime | None,
    "last_run": {"status", "started_at", "finished_at", "counts"} | None}; when it raises, the
    scrape still succeeds and meldplicht_database_up says 0.
    """

    def __init__(self, snapshot: DatabaseSnapshot) -> None:
        self.snapshot = snapshot

    def collect(self) -> Iterable[Metric]:
        up = GaugeMetricFamily(
            "meldplicht_database_up", "1 when the scrape could read the database, else 0."
        )
        try:
            data = self.snapshot()
        except Exception:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        flags = GaugeMetricFamily(
            "meldplicht_flags", "Flags in the inspection queue, by status.", labels=["status"]
        )
        for status, n in sorted(data.get("flags", {}).items()):
            flags.add_metric([str(status)], n)
        yield flags
        last_success: datetime | None = data.get("last_success")
        if last_success is not None:
            yield GaugeMetricFamily(
                "meldplicht_sweep_last_success_timestamp_seconds",
                "When the newest successful sweep finished (Unix time).",
                value=last_success.timestamp(),
            )
        last_run: Mapping[str, Any] | None = data.get("last_run")
        if last_run is not None:
            started: datetime = last_run["started_at"]
            finished: datetime | None = last_run.get("finished_at")
            if finished is not None:
                yield GaugeMetricFamily(
                    "meldplicht_sweep_last_run_duration_seconds",
                    "Wall time of the newest finished sweep run.",
                    value=(finished - started).total_seconds(),
                )
            counts = GaugeMetricFamily(
                "meldplicht_sweep_last_run_items",
                "Counts recorded by the newest sweep run, by kind.",
                labels=["kind"],
            )
            for kind, n in sorted((last_run.get("counts") or {}).items()):
                if isinstance(n, int | float) and not isinstance(n, bool):
                    counts.add_metric([str(kind)], n)
            yield counts


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def render(snapshot: DatabaseSnapshot | None = None) -> bytes:
    """The exposition text: this process's (or all workers') metrics plus the database gauges."""
    if multiprocess_dir():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        process_text = generate_latest(registry)
    else:
        process_text = generate_latest(REGISTRY)
    if snapshot is None:
        return process_text
    db_registry = CollectorRegistry(auto_describe=False)
    db_registry.register(DatabaseCollector(snapshot))
    return process_text + generate_latest(db_registry)
