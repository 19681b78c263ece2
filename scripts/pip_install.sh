#!/usr/bin/env bash
# pip-installs the mlcore Python package from this checkout. The cuda backend is compiled into
# the package only on a machine with an NVIDIA GPU (elsewhere it could never run, and nvcc adds
# minutes to the build); the C++ build in scripts/test.sh still compiles it wherever nvcc exists.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
cuda=OFF
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then cuda=ON; fi
echo "== pip install mlcore (cuda backend: $cuda)"
python3 -m pip install -q --disable-pip-version-check \
  --config-settings=cmake.define.MLCORE_ENABLE_CUDA=$cuda "$here"
