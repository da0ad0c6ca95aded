#!/usr/bin/env bash
# Installs what aimc needs, builds everything and runs the whole test suite, then the
# loaders' tests under sanitizers.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DAIMC_WITH_MLIR=ON \
  -DAIMC_WITH_PYTHON=ON > /dev/null
cmake --build build
ctest --test-dir build --output-on-failure -j "$(nproc)"
# The loaders of untrusted input (ONNX with external data, IDX and text data, architecture
# YAML) and ONNX's node tests again under AddressSanitizer + UndefinedBehaviorSanitizer
# (docs/security.md); about 7 minutes on 2 cores.
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE= -DAIMC_SANITIZE=ON \
  -DAIMC_BUILD_BENCH=OFF > /dev/null
cmake --build build-asan --target aimc_frontend_tests aimc_data_tests aimc_arch_tests \
  aimc_conformance
for t in frontend_tests data_tests arch_tests conformance; do
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    "build-asan/tests/aimc_$t" --gtest_brief=1
done
