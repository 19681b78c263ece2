#!/usr/bin/env bash
# Installs what building and testing mlcore needs on a fresh Debian/Ubuntu machine: the C++
# toolchain and libraries from Debian (Eigen, GoogleTest, Google Benchmark, CMake, Ninja) and
# the Python packages from PyPI. Skips what is already there, so it is cheap to run again.
set -euo pipefail

debian_packages=(cmake ninja-build g++ libeigen3-dev libgtest-dev libbenchmark-dev)
missing=()
for p in "${debian_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "== installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

here="$(cd "$(dirname "$0")/.." && pwd)"
echo "== installing Python packages (requirements-test.txt)"
python3 -m pip install -q --disable-pip-version-check -r "$here/requirements-test.txt"
