#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for SECONDS (default 60).
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
#   (targets: fuzz_onnx fuzz_onnx_external fuzz_npy fuzz_ir fuzz_trees)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
((${#targets[@]})) || targets=(fuzz_onnx fuzz_onnx_external fuzz_npy fuzz_ir fuzz_trees)
if ! command -v clang++ > /dev/null; then
  sudo_cmd=""; [[ $(id -u) -ne 0 ]] && sudo_cmd=sudo
  $sudo_cmd apt-get install -y -qq clang libclang-rt-14-dev
fi
scripts/install_deps.sh
CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DAIMC_BUILD_FUZZERS=ON -DAIMC_BUILD_TESTS=OFF -DAIMC_BUILD_BENCH=OFF > /dev/null
cmake --build build-fuzz --target "${targets[@]}"
for target in "${targets[@]}"; do
  corpus=fuzz/corpus-${target#fuzz_}
  mkdir -p "$corpus"
  case $target in
    fuzz_onnx) seeds=(tests/data/models/*.onnx tests/data/special/*.onnx) ;;
    fuzz_onnx_external) seeds=(tests/data/special/*.onnx) ;;
    fuzz_trees) seeds=(tests/data/trees/*.json) ;;
    fuzz_npy) seeds=(tests/data/models/*.npy) ;;
    fuzz_ir) seeds=(tests/passes/ir/*.ir) ;;
  esac
  cp -n "${seeds[@]}" "$corpus"/ 2> /dev/null || true
  echo "== $target for ${seconds}s"
  build-fuzz/fuzz/$target "$corpus" -max_total_time="$seconds" -rss_limit_mb=4096 \
    -max_len=262144 -print_final_stats=1 2>&1 | tail -n 12
done
