#!/usr/bin/env bash
# Installs what aimc needs, builds everything and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build build
ctest --test-dir build --output-on-failure -j "$(nproc)"
