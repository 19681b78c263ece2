#!/usr/bin/env bash
# Packs this machine's GoogleTest, Google Benchmark and Eigen (headers, libraries and CMake
# package files, Debian/Ubuntu x86-64 layout) into .deps/ in the repository, for a GPU machine
# that has a CUDA toolchain but not these: bench/gpu_check.sh uses .deps when it is there (pass
# it along with the working tree). About 12 MB. .deps is kept out of git via .git/info/exclude.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/.deps"
arch_lib=lib/x86_64-linux-gnu
rm -rf "$dest"
mkdir -p "$dest/include" "$dest/$arch_lib/cmake" "$dest/share"
cp -a /usr/include/gtest /usr/include/gmock /usr/include/benchmark /usr/include/eigen3 \
  "$dest/include/"
cp -a /usr/$arch_lib/libgtest*.a /usr/$arch_lib/libgmock*.a /usr/$arch_lib/libbenchmark* \
  "$dest/$arch_lib/"
cp -a /usr/$arch_lib/cmake/GTest /usr/$arch_lib/cmake/benchmark "$dest/$arch_lib/cmake/"
cp -a /usr/share/eigen3 "$dest/share/"
exclude="$(git -C "$root" rev-parse --git-path info/exclude)"
[[ "$exclude" = /* ]] || exclude="$root/$exclude"
grep -qx '/.deps/' "$exclude" 2>/dev/null || echo '/.deps/' >>"$exclude"
du -sh "$dest"
