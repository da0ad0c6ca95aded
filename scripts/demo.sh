#!/usr/bin/env bash
# The main job: installs what aimc needs, builds it, and runs it on a bundled model.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build build --target aimc
model=tests/data/models/vit_tiny_op17.onnx
echo "== aimc inspect $model"
build/aimc inspect "$model"
echo
echo "== aimc run $model"
build/aimc run "$model" --input image=tests/data/models/vit_tiny_op17.input.npy --output-dir out/demo
