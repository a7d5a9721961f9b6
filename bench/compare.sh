#!/usr/bin/env bash
# Side by side: the engine (sllmr) against its Python/PyTorch peer (bench/peer/peer.py), the same
# backbone, batches, sampling and losses, seconds per training epoch (the training batches only,
# validation excluded: the engine's epoch_metrics key "seconds", the peer's "epoch_seconds").
#
#   SLLMR=build/rel/app/sllmr bench/compare.sh                 # mf,deepfm x none,selective x 1,2
#   SLLMR=... bench/compare.sh --all -W 1 -E 3 --rounds 2      # all seven backbones, 2 rounds
#   SLLMR=... bench/compare.sh --config sports.json            # a converted dataset's run config
#
# Runs are interleaved in one invocation: for each round, backbone, method and thread count the
# engine, then the peer, each a fresh process training W warm-up + E timed epochs with the same
# seed. The engine is run as
#   sllmr --db TMP/engine.db run CONFIG --set train.epochs=W+E --set train.threads=N
#         --set model.type=M --set method.name=X [--set gate.mode=reliability] --set seed=S
#         --set train.patience=0 --set train.restore_best=false --set eval.mode=sampled
#         --set eval.user_share=0.1 --json
# (the final evaluation is made cheap; it is not part of any epoch's seconds) and its per-epoch
# seconds are read back with 'sllmr runs show ID --json'. The table reports the median over the
# timed epochs of all rounds.
set -euo pipefail

usage() {
    cat <<'EOF'
usage: bench/compare.sh [options]
  --sllmr PATH        engine binary (default: $SLLMR, else 'sllmr' on PATH)
  --models LIST       comma-separated backbones (default mf,deepfm)
  --all               all seven backbones: mf,deepfm,dcnv2,xdeepfm,autoint,dcnv1,din
  --methods LIST      comma-separated methods (default none,selective; selective = reliability gate)
  --threads LIST      comma-separated thread counts (default 1,2)
  --parallel MODE     the engine's train.parallel: ops or batch (default ops; the same at 1 thread)
  -W, --warmup N      warm-up epochs per run, not counted (default 1)
  -E, --epochs N      timed epochs per run (default 3)
  --rounds N          repeat the whole interleaved sequence N times (default 1)
  --seed S            run seed for both (default 42)
  --config FILE       engine run config (default: 'sllmr config template', the bundled demo);
                      the peer reads the same files and settings from it
  --peer-args ARGS    extra arguments for peer.py (e.g. "--sparse-optimizer lazy")
  --python PATH       Python interpreter for the peer (default: python3 or /usr/bin/python3,
                      whichever imports torch)
  --markdown FILE     also write the table to FILE
  --raw FILE          also write every epoch (engine and peer) as TSV to FILE
  -h, --help          this text
EOF
}

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
sllmr="${SLLMR:-}"
models="mf,deepfm"
methods="none,selective"
threads_list="1,2"
parallel="ops"
warmup=1
epochs=3
rounds=1
seed=42
config=""
peer_args=""
python=""
markdown=""
raw=""

while [[ $# -gt 0 ]]; do
    case "$1" in
        --sllmr) sllmr="$2"; shift 2 ;;
        --models) models="$2"; shift 2 ;;
        --all) models="mf,deepfm,dcnv2,xdeepfm,autoint,dcnv1,din"; shift ;;
        --methods) methods="$2"; shift 2 ;;
        --threads) threads_list="$2"; shift 2 ;;
        --parallel) parallel="$2"; shift 2 ;;
        -W|--warmup) warmup="$2"; shift 2 ;;
        -E|--epochs) epochs="$2"; shift 2 ;;
        --rounds) rounds="$2"; shift 2 ;;
        --seed) seed="$2"; shift 2 ;;
        --config) config="$2"; shift 2 ;;
        --peer-args) peer_args="$2"; shift 2 ;;
        --python) python="$2"; shift 2 ;;
        --markdown) markdown="$2"; shift 2 ;;
        --raw) raw="$2"; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "compare.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
    esac
done

die() { echo "compare.sh: $*" >&2; exit 1; }
is_count() { [[ "$1" =~ ^[0-9]+$ ]]; }
is_positive() { [[ "$1" =~ ^[0-9]+$ && "$1" -ge 1 ]]; }
is_count "$warmup" || die "-W must be a whole number"
is_positive "$epochs" || die "-E must be at least 1"
is_positive "$rounds" || die "--rounds must be at least 1"
if [[ -z "$sllmr" ]]; then
    sllmr="$(command -v sllmr || true)"
    [[ -n "$sllmr" ]] || die "set SLLMR=path/to/sllmr (or --sllmr PATH)"
fi
[[ -x "$sllmr" ]] || die "engine binary '$sllmr' is not executable"
sllmr="$(cd "$(dirname "$sllmr")" && pwd)/$(basename "$sllmr")"
peer="$here/peer/peer.py"
[[ -f "$peer" ]] || die "missing $peer"
if [[ -z "$python" ]]; then  # the first interpreter that has torch (Debian's python3-torch)
    for p in python3 /usr/bin/python3; do
        if "$p" -c 'import torch' 2>/dev/null; then python="$p"; break; fi
    done
    [[ -n "$python" ]] || die "no python3 with torch found (install python3-torch or use --python)"
fi
"$python" -c 'import torch' 2>/dev/null || die "'$python' cannot import torch"
for m in ${models//,/ }; do
    case "$m" in mf|deepfm|dcnv2|xdeepfm|autoint|dcnv1|din) ;; *) die "unknown backbone '$m'" ;; esac
done
for x in ${methods//,/ }; do
    case "$x" in none|global|selective) ;; *) die "unknown method '$x' (none, global, selective)" ;; esac
done
for n in ${threads_list//,/ }; do is_positive "$n" || die "bad thread count '$n'"; done
[[ "$parallel" == ops || "$parallel" == batch ]] || die "bad --parallel '$parallel' (ops or batch)"

export SLLMR_DEMO_DIR="${SLLMR_DEMO_DIR:-$repo/resources/demo}"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/sllmr-compare.XXXXXX")"
cleanup() { rm -rf -- "$tmp"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ -z "$config" ]]; then
    config="$tmp/run.json"
    "$sllmr" config template >"$config"
    peer_data=()  # the peer's defaults are the same demo files
else
    [[ -f "$config" ]] || die "config '$config' not found"
    config="$(cd "$(dirname "$config")" && pwd)/$(basename "$config")"
    peer_data=(--config "$config")
fi
total_epochs=$((warmup + epochs))
results="$tmp/results.tsv"  # kind model method threads epoch seconds pairs
: >"$results"

# json_get FILE PYTHON-EXPRESSION-ON-j: prints the expression's value(s), one per line.
json_get() {
    "$python" -c 'import json,sys
j = json.load(open(sys.argv[1]))
v = eval(sys.argv[2])
print("\n".join(map(str, v)) if isinstance(v, list) else v)' "$1" "$2"
}

run_engine() {  # model method threads round
    local m="$1" x="$2" n="$3" r="$4"
    local db="$tmp/engine.db" out="$tmp/engine.json" log="$tmp/engine.log"
    local sets=(--set "train.epochs=$total_epochs" --set "train.threads=$n"
                --set "train.parallel=$parallel"
                --set "model.type=$m" --set "method.name=$x" --set "seed=$seed"
                --set train.patience=0 --set train.restore_best=false
                --set eval.mode=sampled --set eval.user_share=0.1)
    [[ "$x" == selective ]] && sets+=(--set gate.mode=reliability)
    if ! "$sllmr" --db "$db" run "$config" "${sets[@]}" --json >"$out" 2>"$log"; then
        tail -n 20 "$log" >&2
        die "engine run failed: $m $x threads $n"
    fi
    local id
    id="$(json_get "$out" 'j["run_id"]')"
    "$sllmr" --db "$db" runs show "$id" --json >"$tmp/show.json" 2>>"$log" ||
        die "could not read run $id back"
    json_get "$tmp/show.json" \
        '["%d\t%r\t%d" % (e["epoch"], e["seconds"], e.get("pairs") or 0) for e in j["epochs"]]' |
        while IFS=$'\t' read -r epoch secs pairs; do
            [[ "$epoch" -gt "$warmup" ]] || continue
            printf 'engine\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$m" "$x" "$n" "$r" "$epoch" "$secs" \
                "$pairs" >>"$results"
        done
    rm -rf -- "$db" "$db".*
}

run_peer() {  # model method threads round
    local m="$1" x="$2" n="$3" r="$4" out="$tmp/peer.json" log="$tmp/peer.log"
    # The engine gives OpenBLAS one thread (its own pool, one thread per core by default, spun
    # against torch's threads and made 2 threads slower than 1); the peer gets the same setting,
    # so that the comparison is of the training loops, not of that default.
    # shellcheck disable=SC2086  # peer_args is a list of words on purpose
    if ! OPENBLAS_NUM_THREADS=1 "$python" "$peer" "${peer_data[@]}" --model "$m" --method "$x" --threads "$n" \
            --epochs "$total_epochs" --seed "$seed" $peer_args --json >"$out" 2>"$log"; then
        tail -n 20 "$log" >&2
        die "peer run failed: $m $x threads $n"
    fi
    json_get "$out" \
        '["%d\t%r\t%d" % (k + 1, s, p) for k, (s, p) in enumerate(zip(j["epoch_seconds"], j["pairs"]))]' |
        while IFS=$'\t' read -r epoch secs pairs; do
            [[ "$epoch" -gt "$warmup" ]] || continue
            printf 'peer\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$m" "$x" "$n" "$r" "$epoch" "$secs" \
                "$pairs" >>"$results"
        done
}

echo "engine: $sllmr" >&2
echo "peer:   $python $peer ${peer_data[*]} $peer_args (torch $("$python" -c 'import torch; print(torch.__version__)'))" >&2
echo "engine: train.parallel=$parallel" >&2
echo "config: $config; $warmup warm-up + $epochs timed epochs per run, $rounds round(s)" >&2
for ((r = 1; r <= rounds; ++r)); do
    for m in ${models//,/ }; do
        for x in ${methods//,/ }; do
            for n in ${threads_list//,/ }; do
                t0=$SECONDS
                run_engine "$m" "$x" "$n" "$r"
                t1=$SECONDS
                run_peer "$m" "$x" "$n" "$r"
                echo "round $r: $m $x threads $n: engine run $((t1 - t0)) s, peer run $((SECONDS - t1)) s" >&2
            done
        done
    done
done

table="$("$python" - "$results" "$models" "$methods" "$threads_list" <<'EOF'
import statistics, sys
path, models, methods, threads = sys.argv[1], *[a.split(",") for a in sys.argv[2:]]
rows = {}
for line in open(path):
    kind, m, x, n, r, e, s, p = line.rstrip("\n").split("\t")
    rows.setdefault((m, x, n, kind), []).append((float(s), int(p)))
print("| backbone | method | threads | engine s/epoch (median) | peer s/epoch (median) "
      "| peer/engine | timed epochs (engine/peer) | LLM pairs/epoch (engine/peer) |")
print("|---|---|---:|---:|---:|---:|---:|---:|")
for m in models:
    for x in methods:
        for n in threads:
            eng, peer = rows.get((m, x, n, "engine"), []), rows.get((m, x, n, "peer"), [])
            if not eng and not peer:
                continue
            me = statistics.median(s for s, _ in eng) if eng else float("nan")
            mp = statistics.median(s for s, _ in peer) if peer else float("nan")
            pe = statistics.median(p for _, p in eng) if eng else 0
            pp = statistics.median(p for _, p in peer) if peer else 0
            ratio = mp / me if eng and peer and me > 0 else float("nan")
            print(f"| {m} | {x} | {n} | {me:.3f} | {mp:.3f} | {ratio:.2f} | "
                  f"{len(eng)}/{len(peer)} | {pe:.0f}/{pp:.0f} |")
EOF
)"
echo
echo "$table"
[[ -z "$markdown" ]] || printf '%s\n' "$table" >"$markdown"
if [[ -n "$raw" ]]; then
    { printf 'kind\tmodel\tmethod\tthreads\tround\tepoch\tseconds\tpairs\n'; cat "$results"; } >"$raw"
fi
