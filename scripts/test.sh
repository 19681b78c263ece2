#!/usr/bin/env bash
# Runs every test: checks the formatting (scripts/check_format.sh), builds the C++ library, tests, examples and benchmarks, runs the GoogleTest
# suite (ctest, which also builds examples/cpp against an installed copy), runs it again built
# with AddressSanitizer + UndefinedBehaviorSanitizer (scripts/sanitize.sh), then pip-installs the
# Python package as a fresh machine would (scripts/pip_install.sh) and runs pytest (which also
# executes the notebooks in quick mode, and fuzzes every estimator and primitive).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="$(nproc)"

scripts/install_deps.sh

scripts/check_format.sh

echo "== C++ build (build/test)"
cmake -S . -B build/test -G Ninja -DCMAKE_BUILD_TYPE=Release -DMLCORE_TESTS=ON \
  -DMLCORE_BENCHMARKS=ON -DMLCORE_PYTHON=OFF >/dev/null
cmake --build build/test -j "$jobs"

echo "== C++ tests"
ctest --test-dir build/test --output-on-failure -j "$jobs"

scripts/sanitize.sh

scripts/pip_install.sh

echo "== Python tests"
# Run from tests/ so that `import mlcore` finds the installed package, not the source folder.
cd tests/python
python3 -m pytest -q -p no:cacheprovider .
