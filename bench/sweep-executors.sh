#!/usr/bin/env bash
# Wall time of an ablation grid with the processes executor at --jobs 1 and --jobs 2, back to
# back, each into a fresh database (bench/README.md, "Sweep executors").
#
#   bench/sweep-executors.sh SLLMR [GRID] [EPOCHS]
#
# GRID defaults to resources/grids/demo-ablation.json; EPOCHS, when given, replaces the grid's
# train.epochs (a reduced measurement: say so when quoting it). Prints one line per run.
set -euo pipefail

sllmr="$(realpath "$1")"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
grid="${2:-$here/resources/grids/demo-ablation.json}"
epochs="${3:-}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if [ -n "$epochs" ]; then
  # The same grid with train.epochs replaced (the demo grid's base is an object).
  sed -E "s/\"epochs\": *[0-9]+/\"epochs\": $epochs/" "$grid" > "$work/grid.json"
  grid="$work/grid.json"
fi
echo "grid $grid${epochs:+ (train.epochs = $epochs)}, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for jobs in 1 2; do
  start=$(date +%s.%N)
  "$sllmr" --db "$work/jobs$jobs.db" sweep "$grid" --executor processes --jobs "$jobs" \
    > "$work/jobs$jobs.out" 2> "$work/jobs$jobs.err"
  end=$(date +%s.%N)
  printf 'jobs %d: %.1f s wall (%s); load after %s\n' "$jobs" "$(echo "$end - $start" | bc)" \
    "$(tail -n 2 "$work/jobs$jobs.out" | head -n 1)" "$(cut -d' ' -f1-3 /proc/loadavg)"
done
# The two databases hold the same runs: with threads = cores / jobs, their metrics may differ in
# the last bits (thread count), not more.
