#!/usr/bin/env bash
# Stops the test cluster that tests/slurm/start-cluster.sh started in DIR: slurmd, slurmctld and
# munged, by the process ids they wrote there (nothing else is touched).
#
#   tests/slurm/stop-cluster.sh [DIR]     default DIR: ${TMPDIR:-/tmp}/sllmr-slurm
set -uo pipefail

dir="${1:-${TMPDIR:-/tmp}/sllmr-slurm}"
for daemon in slurmd slurmctld munged; do
  pidfile="$dir/run/$daemon.pid"
  [ -f "$pidfile" ] || continue
  pid="$(cat "$pidfile")"
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  fi
  rm -f "$pidfile"
done
exit 0
