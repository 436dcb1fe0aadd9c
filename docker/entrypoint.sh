#!/bin/sh
# Starts any meldplicht command; empties the Prometheus multiprocess directory first, because
# files left by an earlier start would be added to the new counters.
set -eu
if [ -n "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
    mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
    find "$PROMETHEUS_MULTIPROC_DIR" -mindepth 1 -delete
fi
exec "$@"
