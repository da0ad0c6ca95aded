#!/usr/bin/env bash
# The main job: installs what aimc needs, builds it, and runs it on a bundled model.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build build --target aimc
model=models/vit-fmnist.onnx
echo "== aimc inspect $model"
build/aimc inspect "$model"
echo
echo "== aimc run $model (PyTorch's first 64 test inputs)"
build/aimc run "$model" --input image=models/vit-fmnist.ref-input.npy --output-dir out/demo
echo
echo "== aimc eval $model --dataset fashion-mnist"
build/aimc eval "$model" --dataset fashion-mnist
echo
echo "== aimc eval $model --dataset fashion-mnist --arch presets/race.yaml (3 simulated chips, 1,000 images: ±1 %)"
build/aimc eval "$model" --dataset fashion-mnist --arch presets/race.yaml --limit 1000 --trials 3
echo
echo "== aimc estimate $model --arch presets/race.yaml --baseline gpu"
build/aimc estimate "$model" --arch presets/race.yaml --baseline gpu
