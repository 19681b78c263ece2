#!/usr/bin/env bash
# Builds the C++ library and its GoogleTest suite with AddressSanitizer and
# UndefinedBehaviorSanitizer (RelWithDebInfo: optimised as shipped, with line numbers in the
# reports; CUDA off: the sanitizers do not see device code) in its own folder, build/sanitize,
# and runs ctest there. Any report fails the run: -fno-sanitize-recover turns every UBSan finding
# into an error, and ASan stops at its first. scripts/test.sh runs it.
#
# The flags travel as CXXFLAGS / LDFLAGS in the environment rather than as cache variables, so
# the outside project that ctest builds against the installed library (examples/cpp, the
# find_package test) is compiled and linked with the sanitizer runtime too.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="$(nproc)"

sanitizers="address,undefined"
export CXXFLAGS="-fsanitize=$sanitizers -fno-sanitize-recover=all -fno-omit-frame-pointer"
export LDFLAGS="-fsanitize=$sanitizers"
# detect_leaks: a leak is a finding too. check_initialization_order / strict_init_order: static
# initialisers that read another file's statics (the backend registry). UBSan prints the stack.
export ASAN_OPTIONS="detect_leaks=1:check_initialization_order=1:strict_init_order=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

echo "== C++ build with ASan + UBSan (build/sanitize)"
start=$SECONDS
cmake -S . -B build/sanitize -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMLCORE_ENABLE_CUDA=OFF \
  -DMLCORE_TESTS=ON -DMLCORE_BENCHMARKS=OFF -DMLCORE_PYTHON=OFF >/dev/null
cmake --build build/sanitize -j "$jobs"
echo "   built in $((SECONDS - start)) s"

echo "== C++ tests under ASan + UBSan"
start=$SECONDS
ctest --test-dir build/sanitize --output-on-failure -j "$jobs"
echo "   ran in $((SECONDS - start)) s"
