#!/usr/bin/env bash
# Installs the Debian packages aimc needs to build, test and run. Idempotent: apt-get only
# installs what is missing. Set AIMC_WITH_TORCH=1 to also install what re-generating the
# bundled models needs (python3-torch, xgboost, scikit-learn).
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config
  libonnx-dev libprotobuf-dev protobuf-compiler libonnx-testdata
  libopenblas-dev libopenblas0-pthread
  libyaml-cpp-dev nlohmann-json3-dev libcli11-dev libfmt-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  zlib1g-dev dataset-fashion-mnist fortunes
  python3-onnx  # reference checker of the ONNX files aimc finetune writes (tests only)
  # The MLIR dialect and aimc-opt (docs/mlir.md; cmake -DAIMC_WITH_MLIR=ON): libMLIR.so,
  # mlir-tblgen, and FileCheck / lit for tests/mlir.
  libmlir-16-dev mlir-16-tools llvm-16-dev llvm-16-tools
  # The Python module `import aimc` (docs/python.md; cmake -DAIMC_WITH_PYTHON=ON) and its
  # tests under tests/python (pytest, numpy).
  pybind11-dev python3-dev python3-numpy python3-pytest
  # aimc sweep across machines (docs/sweep.md; mpirun -np N aimc sweep ...), and the browser
  # that renders aimc report's HTML page in its test.
  libopenmpi-dev openmpi-bin chromium
)
if [[ "${AIMC_WITH_TORCH:-0}" == "1" ]]; then
  packages+=(python3-torch python3-numpy python3-xgboost python3-sklearn)
fi
missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
echo "aimc: dependencies installed"
