#!/usr/bin/env bash
# tests/fuzz/run.sh SECONDS [TARGET...]: builds the preset `fuzz` (clang-14, libFuzzer, ASan +
# UBSan) and fuzzes every target (or the ones named) for SECONDS each, one after the other.
# The same build holds the Torch-free tests under ASan + UBSan: `ctest --test-dir build/fuzz`.
#
# Each target first replays its regression inputs (tests/fuzz/regressions/TARGET: inputs that
# once crashed or misbehaved), then fuzzes from a corpus seeded with tests/fixtures. Exits 1 on
# the first crash, sanitizer report, leak, timeout or uncaught exception; the input is left in
# build/fuzz/artifacts/TARGET. The corpus grows in build/fuzz/corpus/TARGET across runs.
#
#   SLLMR_JOBS=2                 build jobs (default: all cores)
#   SLLMR_FUZZ_MAX_LEN=65536     longest input tried, bytes
#   SLLMR_FUZZ_KEEP_GOING=1      campaign mode: keep fuzzing after a crash (-fork=1
#                                -ignore_crashes=1), collect every crash, fail at the end
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
seconds="${1:?usage: tests/fuzz/run.sh SECONDS [TARGET...]}"
shift
build="$root/build/fuzz"
fixtures="$root/tests/fixtures"

export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
# Each input is written to a file (the readers take paths): on tmpfs that is twice as fast.
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then export TMPDIR=/dev/shm; fi
cmake --preset fuzz -S "$root" >/dev/null
start=$(date +%s)
cmake --build "$build" -j "${SLLMR_JOBS:-$(nproc)}"
echo "fuzz: build took $(( $(date +%s) - start )) s"

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(fuzz_ratings fuzz_sequences fuzz_recbole fuzz_gzip fuzz_items fuzz_scores fuzz_run_config)
fi

# Seeds: files of tests/fixtures (and the demo config) in the layout each target reads. Targets
# whose first byte selects a variant get each seed once per variant.
seed() {
  local target="$1" corpus="$build/corpus/$1"
  mkdir -p "$corpus"
  case "$target" in
    fuzz_ratings)
      cp "$fixtures"/data/*.csv "$fixtures"/data/*.dat "$fixtures"/data/u.data \
         "$fixtures"/cli/*.csv "$fixtures"/train/tiny_t*.tsv "$corpus"/ ;;
    fuzz_sequences) cp "$fixtures"/sequences/*.txt "$corpus"/ ;;
    fuzz_recbole)
      for v in 0 1 2; do
        { printf "\\x0$v"; cat "$fixtures/data/small.inter"; } >"$corpus/small.inter.$v"
      done ;;
    fuzz_gzip) cp "$fixtures"/data/*.gz "$corpus"/ ;;
    fuzz_items)
      for f in "$fixtures"/data/movies_*.csv "$fixtures"/train/tiny_items.csv; do
        { printf '\x00'; cat "$f"; } >"$corpus/$(basename "$f").0"
      done
      { printf '\x01'; cat "$fixtures/data/small.item"; } >"$corpus/small.item.1" ;;
    fuzz_scores) cp "$fixtures"/scores/* "$fixtures"/train/tiny_llm*.tsv "$corpus"/ ;;
    fuzz_run_config) cp "$here"/seeds/fuzz_run_config/* "$corpus"/ ;;
  esac
}

failed=()
for t in "${targets[@]}"; do
  seed "$t"
  artifacts="$build/artifacts/$t"
  mkdir -p "$artifacts"
  rm -f "$artifacts"/crash-* "$artifacts"/leak-* "$artifacts"/timeout-* "$artifacts"/oom-*
  if [ -d "$here/regressions/$t" ]; then
    echo "fuzz: $t: regression inputs"
    if ! "$build/tests/fuzz/$t" -artifact_prefix="$artifacts/" "$here/regressions/$t"/* \
         >"$artifacts/regressions.log" 2>&1; then
      echo "fuzz: $t: a regression input fails (log: $artifacts/regressions.log)"
      grep -m3 -E "ERROR|SUMMARY|uncaught|deadly" "$artifacts/regressions.log" || true
      failed+=("$t (regression)")
      [ "${SLLMR_FUZZ_KEEP_GOING:-0}" = 1 ] || continue
    fi
  fi
  echo "fuzz: $t: ${seconds}s"
  extra=()
  [ "${SLLMR_FUZZ_KEEP_GOING:-0}" = 1 ] && extra=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
  if ! "$build/tests/fuzz/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
       -max_len="${SLLMR_FUZZ_MAX_LEN:-65536}" -print_final_stats=1 -artifact_prefix="$artifacts/" "${extra[@]}" \
       "$build/corpus/$t" >"$artifacts/fuzz.log" 2>&1; then
    failed+=("$t")
  fi
  grep -E "stat::number_of_executed_units|stat::average_exec_per_sec|#[0-9]+.*DONE" \
    "$artifacts/fuzz.log" | tail -3 || true
  if ls "$artifacts"/crash-* "$artifacts"/leak-* "$artifacts"/timeout-* "$artifacts"/oom-* \
       >/dev/null 2>&1; then
    echo "fuzz: $t: findings in $artifacts"
    [[ " ${failed[*]} " == *" $t "* ]] || failed+=("$t")
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]}"
  exit 1
fi
echo "fuzz: no findings"
