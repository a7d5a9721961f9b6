#!/usr/bin/env bash
# SLLMR Studio setup: installs the Debian 12 packages the project needs (idempotent; as root or
# through sudo), configures and builds with CMake + Ninja + ccache, then does what was asked.
#
#   ./setup.sh studio [ARGS...]  build and launch the Studio on the bundled demo (./experiments.db)
#   ./setup.sh test              build and run the whole test suite (ctest)
#   ./setup.sh build             build only
#   ./setup.sh deps              install packages only
#   ./setup.sh bench [ARGS...]   build in Release and run the benchmarks (bench/README.md)
#   ./setup.sh compare [ARGS...] the engine against its Python peer, side by side
#                                (bench/compare.sh; installs python3-torch for the peer)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cmd="${1:-build}"
[ $# -gt 0 ] && shift

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  qt6-base-dev libqcustomplot-dev libgl-dev
  libtorch-dev libsqlite3-dev zlib1g-dev
  # Debian's LibTorch calls the system BLAS; without OpenBLAS it gets the reference BLAS, which
  # makes DeepFM/DCNv2 training about 10x slower.
  libopenblas0-pthread
  nlohmann-json3-dev libcli11-dev libfmt-dev libboost-math-dev libcurl4-openssl-dev
  # The fuzz preset (tests/fuzz/run.sh): clang and its libFuzzer/sanitizer runtimes; the tidy
  # preset and .ci/tidy: clang-tidy.
  clang-14 libclang-rt-14-dev clang-tidy-14
  # Sweeps on Slurm: the client (sbatch, squeue, scancel) and, for tst_slurm's one-node test
  # cluster (tests/slurm/start-cluster.sh), the daemons and munge.
  slurm-client slurmctld slurmd munge
)

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else echo "setup.sh: need root or sudo to install packages: ${missing[*]}" >&2; exit 1
  fi
}

install_deps() {
  missing=()
  for p in "${packages[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "setup.sh: installing ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "${missing[@]}"
  fi
}

build() {
  local preset="${1:-dev}"
  export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
  export CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-5G}"
  cmake --preset "$preset" -S "$here" >/dev/null
  # Torch translation units need ~1.5 GB each; 2 jobs fit the smallest supported machine.
  cmake --build --preset "$preset" -j "${SLLMR_JOBS:-$(nproc)}"
}

case "$cmd" in
  deps) install_deps ;;
  build) install_deps; build dev ;;
  test)
    install_deps
    build dev
    cd "$here"
    QT_QPA_PLATFORM=offscreen ctest --preset dev -j "${SLLMR_TEST_JOBS:-2}" "$@"
    ;;
  studio)
    install_deps
    build dev
    exec "$here/build/dev/app/sllmr-studio" --db "$PWD/experiments.db" "$@"
    ;;
  bench)
    install_deps
    build release
    "$here/build/release/bench/bench_parse" "$@"
    ;;
  compare)
    # python3-torch (the same LibTorch build as libtorch-dev) only for the benchmark's peer.
    install_deps python3-torch
    build release
    SLLMR="$here/build/release/app/sllmr" exec "$here/bench/compare.sh" "$@"
    ;;
  *)
    echo "usage: ./setup.sh studio|test|build|deps|bench|compare" >&2
    exit 2
    ;;
esac
