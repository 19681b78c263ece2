#!/usr/bin/env bash
# pip-installs the mlcore Python package from this checkout for python3 (which the pytest suite
# runs), and on the way checks that `pip install .` works on a machine with only Python 3.9+ and
# a C++ compiler. One build serves both:
#   1. a clean virtual environment (build/fresh-venv, no system site-packages) builds the wheel
#      with pip, in pip's isolated build environment, with the system's Eigen hidden from CMake:
#      CMake, Ninja, pybind11 and Eigen (cmeel-eigen) must all come from pyproject.toml's build
#      requirements, and the script fails unless CMake took Eigen from cmeel-eigen;
#   2. that wheel is installed into the clean environment (numpy and scikit-learn from PyPI),
#      imported and fitted there, from a folder outside the checkout;
#   3. the same wheel is installed for python3.
# The cuda backend is compiled into the package only on a machine with an NVIDIA GPU (elsewhere it
# could never run, and nvcc adds minutes to the build); the C++ build in scripts/test.sh still
# compiles it wherever nvcc exists.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
cuda=OFF
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then cuda=ON; fi
pip_quiet=(-q --disable-pip-version-check)

venv="$here/build/fresh-venv"
wheels="$here/build/wheelhouse"
build_dir="$here/build/pip-wheel"
echo "== pip install mlcore in a clean virtual environment, system Eigen hidden (cuda backend: $cuda)"
python3 -m venv --clear "$venv"
rm -rf "$wheels"
start=$SECONDS
# CMAKE_IGNORE_PREFIX_PATH hides every system prefix CMake's find_package searches (/usr,
# /usr/local, and / — through Debian's /lib -> /usr/lib link); Eigen3_DIR-NOTFOUND makes CMake
# search again even when the persistent build folder cached an Eigen from an earlier build.
"$venv/bin/python" -m pip wheel "${pip_quiet[@]}" --no-deps -w "$wheels" \
  --config-settings=build-dir="$build_dir" \
  "--config-settings=cmake.define.CMAKE_IGNORE_PREFIX_PATH=/usr;/usr/local;/" \
  --config-settings=cmake.define.Eigen3_DIR=Eigen3_DIR-NOTFOUND \
  --config-settings=cmake.define.MLCORE_ENABLE_CUDA=$cuda "$here"
echo "   wheel built in $((SECONDS - start)) s"
eigen_dir="$(sed -n 's/^Eigen3_DIR:PATH=//p' "$build_dir/CMakeCache.txt")"
case "$eigen_dir" in
  */cmeel.prefix/*) echo "   Eigen from PyPI's cmeel-eigen: $eigen_dir" ;;
  *) echo "error: the pip build took Eigen from '$eigen_dir', not from cmeel-eigen" >&2; exit 1 ;;
esac
wheel="$(ls "$wheels"/mlcore-*.whl)"
"$venv/bin/python" -m pip install "${pip_quiet[@]}" "$wheel"
(cd "$venv" && "$venv/bin/python" - <<'EOF'
import numpy as np
import mlcore
assert "site-packages" in mlcore.__file__, mlcore.__file__
rng = np.random.default_rng(0)
X = rng.normal(size=(200, 5))
y = (X[:, 0] + X[:, 1] > 0).astype(int)
for name in mlcore.available_backends():
    score = mlcore.LogisticRegression(backend=name).fit(X, y).score(X, y)
    assert score > 0.9, (name, score)
print("   the clean environment imports mlcore", mlcore.__version__, "and fits on",
      ", ".join(mlcore.available_backends()))
EOF
)

echo "== pip install the same wheel for python3"
python3 -m pip install "${pip_quiet[@]}" --force-reinstall --no-deps "$wheel"
