#!/usr/bin/env bash
# The cuda backend's check on a machine with an NVIDIA GPU, in one command of under 6 minutes:
# configure with CUDA for this GPU's architecture, build with every core, run every test (the
# CUDA ones included), the CUDA benchmarks against cuBLAS, the cuda pytest on an in-tree Python
# build, and print a short table last (primitive, ours, cuBLAS, ratio, target, pass/fail).
#
#   bench/gpu_check.sh
#
# Output goes to the terminal and, whole, to $OUT (when set; else build-gpu-check/out):
# gpu_check.log, configure.log, build.log, ctest.log, ctest_rest.log, bench_cuda.json and
# summary.md (sanitize.log with MLCORE_SANITIZE=1). Exit status 0 when every stage and every
# target passed.
#
# Settings (environment):
#   MLCORE_CUDA_ARCH   CMAKE_CUDA_ARCHITECTURES (default: the GPU's own, e.g. 90 on H100/H200)
#   MLCORE_DEPS        a prefix holding GoogleTest, Google Benchmark and Eigen for machines that
#                      lack them (default: .deps in the repository, made by bench/pack_gpu_deps.sh)
#   MLCORE_SANITIZE=1  also run test_cuda under compute-sanitizer memcheck (adds ~1 minute)
# It exports MLCORE_REQUIRE_CUDA=1, which turns the CUDA tests' "no device" skips into failures.
set -uo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
build="${MLCORE_GPU_CHECK_BUILD:-$root/build-gpu-check}"
out="${OUT:-$build/out}"
mkdir -p "$out" "$build"
log="$out/gpu_check.log"
: >"$log"
exec > >(tee -a "$log") 2>&1

start=$SECONDS
budget=345  # seconds: the stages below are cut off to end inside 6 minutes
jobs="$(nproc)"
declare -A status

left() { echo $((budget - (SECONDS - start))); }
stage() { echo; echo "== [$((SECONDS - start)) s] $*"; }
# run_for SECONDS_MAX NAME CMD...: runs CMD under a timeout no longer than the time left.
run_for() {
  local max="$1" name="$2"
  shift 2
  local t
  t="$(left)"
  ((t > max)) && t="$max"
  if ((t < 10)); then
    echo "skipped: no time left"
    status[$name]="skipped (no time left)"
    return 1
  fi
  timeout --kill-after=5 "$t" "$@"
  local rc=$?
  if ((rc == 0)); then
    status[$name]="ok"
  elif ((rc == 124 || rc == 137)); then
    status[$name]="TIMEOUT after ${t}s"
  else
    status[$name]="FAILED (exit $rc)"
  fi
  return $rc
}

stage "machine"
if ! command -v nvcc >/dev/null 2>&1 && [[ -x /usr/local/cuda/bin/nvcc ]]; then
  export PATH="/usr/local/cuda/bin:$PATH"
fi
command -v nvcc >/dev/null 2>&1 && export CUDACXX="${CUDACXX:-$(command -v nvcc)}"
nvidia-smi --query-gpu=name,compute_cap,memory.total,clocks.max.sm,clocks.max.memory,driver_version \
  --format=csv || echo "nvidia-smi failed"
nvcc --version | tail -n 2
cmake --version | head -n 1
g++ --version | head -n 1
python3 --version

arch="${MLCORE_CUDA_ARCH:-}"
if [[ -z "$arch" ]]; then
  cap="$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -n 1 | tr -d ' .')"
  arch="${cap:-90}"
fi
deps="${MLCORE_DEPS:-$root/.deps}"
prefix_args=()
if [[ -d "$deps" ]]; then
  echo "using dependencies from $deps"
  prefix_args=("-DCMAKE_PREFIX_PATH=$deps")
fi
generator=()
command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)
unset NVIDIA_TF32_OVERRIDE      # cuBLAS's f32 reference must stay f32
export MLCORE_REQUIRE_CUDA=1   # here a CUDA test that would skip for want of a device fails

stage "configure (CUDA architectures $arch)"
cmake_args=(-S "$root" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release
  -DMLCORE_ENABLE_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES="$arch" -DMLCORE_TESTS=ON
  -DMLCORE_BENCHMARKS=ON -DPython_EXECUTABLE="$(command -v python3)" "${prefix_args[@]}")
python_build=ON
if ! run_for 90 configure cmake "${cmake_args[@]}" -DMLCORE_PYTHON=ON >"$out/configure.log" 2>&1
then
  echo "configure with the Python module failed (tail below); retrying without it"
  tail -n 15 "$out/configure.log"
  python_build=OFF
  run_for 90 configure cmake "${cmake_args[@]}" -DMLCORE_PYTHON=OFF >"$out/configure.log" 2>&1 ||
    tail -n 40 "$out/configure.log"
fi
tail -n 4 "$out/configure.log"

stage "build ($jobs jobs)"
if [[ "${status[configure]:-}" == ok ]]; then
  run_for 200 build cmake --build "$build" -j "$jobs" >"$out/build.log" 2>&1
  grep -E "error:|FAILED" "$out/build.log" | head -n 20
  tail -n 3 "$out/build.log"
else
  status[build]="skipped (configure failed)"
fi

stage "ctest: the CUDA tests (the others run after the benchmarks)"
if [[ -x "$build/tests/cpp/test_cuda" ]]; then
  # test_cuda, and the cuda instances of the backend-parameterised suites (names end in /cuda).
  run_for 100 ctest_cuda ctest --test-dir "$build" -R "[Cc]uda" --output-on-failure -j "$jobs" \
    --timeout 90 >"$out/ctest.log" 2>&1
  grep -E "tests passed|tests failed|Failed|Not Run|\*\*\*" "$out/ctest.log" | tail -n 30
else
  status[ctest_cuda]="skipped (not built)"
fi

if [[ "${MLCORE_SANITIZE:-0}" == 1 && -x "$build/tests/cpp/test_cuda" ]]; then
  stage "compute-sanitizer memcheck on test_cuda"
  run_for 90 sanitize compute-sanitizer --tool memcheck --error-exitcode 1 \
    "$build/tests/cpp/test_cuda" --gtest_brief=1 >"$out/sanitize.log" 2>&1
  tail -n 20 "$out/sanitize.log"
fi

stage "CUDA benchmarks (vs cuBLAS)"
if [[ -x "$build/bench/bench_cuda" ]]; then
  run_for 100 bench "$build/bench/bench_cuda" --benchmark_out="$out/bench_cuda.json" \
    --benchmark_out_format=json --benchmark_counters_tabular=true
else
  status[bench]="skipped (not built)"
fi

stage "pytest tests/python/test_cuda.py (in-tree Python build)"
if [[ "$python_build" == ON && -d "$build/python/mlcore" ]]; then
  run_for 45 pytest env PYTHONPATH="$build/python" PYTHONUNBUFFERED=1 \
    bash -c 'cd "$1" && exec python3 -m pytest -q -p no:cacheprovider test_cuda.py' \
    pytest "$root/tests/python"
else
  status[pytest]="skipped (no Python build on this machine)"
fi

stage "ctest: every other test, in the time left"
if [[ -x "$build/tests/cpp/test_cuda" ]]; then
  run_for 150 ctest_rest ctest --test-dir "$build" -E "[Cc]uda" --output-on-failure -j "$jobs" \
    --timeout 100 >"$out/ctest_rest.log" 2>&1
  grep -E "tests passed|tests failed|Failed|Not Run|\*\*\*" "$out/ctest_rest.log" | tail -n 30
fi

stage "summary"
{
  echo "card: $(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -n 1)," \
    "CUDA architectures $arch, $((SECONDS - start)) s"
  echo
  echo "| stage | status |"
  echo "|---|---|"
  for s in configure build ctest_cuda ctest_rest sanitize bench pytest; do
    [[ -n "${status[$s]:-}" ]] && echo "| $s | ${status[$s]} |"
  done
  echo
  python3 "$root/bench/cuda_summary.py" "$out/bench_cuda.json"
} >"$out/summary.md" 2>&1
summary_rc=$?
cat "$out/summary.md"

failed=0
for s in configure build ctest_cuda ctest_rest sanitize bench pytest; do
  v="${status[$s]:-}"
  [[ -z "$v" || "$v" == ok || "$v" == skipped* ]] || failed=1
done
((summary_rc != 0)) && failed=1
echo
echo "gpu_check: $([[ $failed == 0 ]] && echo PASSED || echo FAILED) in $((SECONDS - start)) s;" \
  "logs in $out"
exit "$failed"
