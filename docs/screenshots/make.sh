#!/bin/sh
# Renders the README screenshots from the real Studio on the offscreen platform: trains a small
# demo ablation (MF, 5 variants, 1 seed, 5 epochs) into a scratch experiments.db, then opens the
# Studio on each page and saves the window as PNG.
#   docs/screenshots/make.sh [BUILD_DIR]      (default: build/dev)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build/dev}
sllmr=$build/app/sllmr
studio=$build/app/sllmr-studio
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
export QT_QPA_PLATFORM=offscreen
export XDG_CONFIG_HOME="$work/config"  # no saved window layout or configuration

cat > grid.json <<'GRID'
{
  "name": "screenshot ablation",
  "base": {"train": {"epochs": 5, "patience": 0}},
  "variants": [
    {"label": "none", "set": {"method.name": "none", "gate.mode": "off"}},
    {"label": "global", "set": {"method.name": "global"}},
    {"label": "paper", "set": {"method.name": "selective", "gate.mode": "paper"}},
    {"label": "reliability", "set": {"method.name": "selective", "gate.mode": "reliability"}},
    {"label": "random", "set": {"method.name": "selective", "gate.mode": "random",
                                "gate.reference_run": "@reliability"}}
  ],
  "seeds": [1, 2],
  "reference": "global"
}
GRID
"$sllmr" sweep grid.json >/dev/null

shot() {  # shot NAME WAIT_MS ARGS...
    name=$1; wait=$2; shift 2
    "$studio" --db experiments.db --fresh --screenshot "$here/$name.png" \
        --screenshot-after "$wait" "$@"
    echo "wrote $here/$name.png"
}
shot data 5000 --page data
shot scores 5000 --page scores
shot model 5000 --page model
shot results 5000 --page results --show-runs 1,3,5,7,9
shot runs 5000 --page runs
shot inspector 9000 --inspect 7
shot inspector-user 12000 --inspect 7 --inspect-user 1 --page inspector
shot ablation 12000 --matrix 1
shot run 16000 --page run --start
