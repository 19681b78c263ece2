#!/usr/bin/env bash
# The cuda backend's check on a machine with an NVIDIA GPU, in one command of under 6 minutes:
# configure with CUDA for this GPU's architecture, build with every core, run every test (the
# CUDA ones included, then again under compute-sanitizer's memcheck and racecheck), the CUDA
# benchmarks against cuBLAS, the cuda pytest on an in-tree Python build, and print a short
# table last (primitive, ours, cuBLAS, ratio, target, pass/fail).
#
#   bench/gpu_check.sh            on the GPU machine
#   bench/gpu_check.sh --dry-run  here, without a GPU: every step that needs none, as the GPU
#                                 machine will see it — a fresh build folder, GoogleTest, Google
#                                 Benchmark and Eigen only from .deps (made first if missing; the
#                                 system's copies hidden from CMake), the same stages and budget
#                                 (the build stage's limit scaled by 16 / this machine's cores,
#                                 since the GPU machine has 16), the same final table with
#                                 "no GPU" in its figures. It must pass before a GPU run.
#
# Output goes to the terminal and, whole, to $OUT (when set; else build-gpu-check/out):
# gpu_check.log, configure.log, build.log, ctest.log, memcheck.log, racecheck.log,
# ctest_rest.log, bench_cuda.json and summary.md. Exit status 0 when every stage and every
# target passed; 1 when one failed; 2 when none failed but the time budget cut a stage short
# ("incomplete": the stage's own limit was not reached, the script's was).
#
# Settings (environment):
#   MLCORE_CUDA_ARCH   CMAKE_CUDA_ARCHITECTURES (default: the GPU's own, e.g. 90 on H100/H200)
#   MLCORE_DEPS        a prefix holding GoogleTest, Google Benchmark and Eigen for machines that
#                      lack them (default: .deps in the repository, made by bench/pack_gpu_deps.sh)
#   MLCORE_SANITIZE=0  skip the compute-sanitizer stages
# It exports MLCORE_REQUIRE_CUDA=1, which turns the CUDA tests' "no device" skips into failures
# (not in a dry run, where there is no device to require).
set -uo pipefail

dry_run=0
[[ "${1:-}" == "--dry-run" ]] && dry_run=1
root="$(cd "$(dirname "$0")/.." && pwd)"
if ((dry_run)); then
  build="${MLCORE_GPU_CHECK_BUILD:-$root/build-gpu-dry-run}"
  rm -rf "$build"  # fresh, as on the GPU machine
else
  build="${MLCORE_GPU_CHECK_BUILD:-$root/build-gpu-check}"
fi
out="${OUT:-$build/out}"
mkdir -p "$out" "$build"
log="$out/gpu_check.log"
: >"$log"
exec > >(tee -a "$log") 2>&1

start=$SECONDS
budget=345  # seconds: the stages below are cut off to end inside 6 minutes
jobs="$(nproc)"
build_limit=200
if ((dry_run)); then
  # The GPU machine builds with 16 cores; this one may have far fewer. Only the build stage's
  # limit (and so the budget) grows by that factor: every other stage keeps its GPU-run limit.
  scale=$(((16 + jobs - 1) / jobs))
  ((scale < 1)) && scale=1
  budget=$((budget + build_limit * (scale - 1)))
  build_limit=$((build_limit * scale))
fi
declare -A status
stages=(configure build ctest_cuda memcheck racecheck bench pytest ctest_rest)

left() { echo $((budget - (SECONDS - start))); }
stage() { echo; echo "== [$((SECONDS - start)) s] $*"; }
# run_for SECONDS_MAX NAME CMD...: runs CMD under a timeout no longer than the time left. A
# stage stopped by its own limit failed; one stopped because the script's budget ran out first
# is "incomplete" (it might have passed with the time it was owed).
run_for() {
  local max="$1" name="$2"
  shift 2
  local t
  t="$(left)"
  ((t > max)) && t="$max"
  if ((t < 10)); then
    echo "skipped: no time left"
    status[$name]="incomplete (no time left to start it)"
    return 1
  fi
  timeout --kill-after=5 "$t" "$@"
  local rc=$?
  if ((rc == 0)); then
    status[$name]="ok"
  elif ((rc == 124 || rc == 137)) && ((t < max)); then
    status[$name]="incomplete (the check's time budget ran out after ${t}s)"
  elif ((rc == 124 || rc == 137)); then
    status[$name]="FAILED (over its ${t}s limit)"
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
if ((dry_run)); then
  echo "dry run: no GPU is used; build limit ${build_limit}s for $jobs cores, budget ${budget}s"
else
  nvidia-smi --query-gpu=name,compute_cap,memory.total,clocks.max.sm,clocks.max.memory,driver_version \
    --format=csv || echo "nvidia-smi failed"
fi
nvcc --version | tail -n 2
cmake --version | head -n 1
g++ --version | head -n 1
python3 --version

arch="${MLCORE_CUDA_ARCH:-}"
if [[ -z "$arch" ]] && ((!dry_run)); then
  cap="$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -n 1 | tr -d ' .')"
  arch="${cap:-90}"
fi
arch="${arch:-90}"
deps="${MLCORE_DEPS:-$root/.deps}"
if ((dry_run)) && [[ ! -d "$deps" ]]; then
  echo "packing .deps from this machine (bench/pack_gpu_deps.sh)"
  "$root/bench/pack_gpu_deps.sh" || echo "bench/pack_gpu_deps.sh failed"
fi
hide_args=()
if [[ -d "$deps" ]]; then
  echo "using dependencies from $deps"
  # Exported, not passed as -D: every CMake run below sees it, the nested configure of
  # examples/cpp that ctest's find_package_example does included (mlcoreConfig's
  # find_dependency(Eigen3) must find .deps there too).
  export CMAKE_PREFIX_PATH="$deps${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}"
fi
if ((dry_run)); then
  # The GPU machine has no system GoogleTest, Google Benchmark or Eigen: hide this one's from
  # every find_package (the nested configure too), so that only .deps can satisfy them.
  export CMAKE_IGNORE_PREFIX_PATH="/usr;/usr/local"
fi
generator=()
command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)
unset NVIDIA_TF32_OVERRIDE      # cuBLAS's f32 reference must stay f32
((dry_run)) || export MLCORE_REQUIRE_CUDA=1  # a CUDA test that would skip for want of a device fails

stage "configure (CUDA architectures $arch)"
cmake_args=(-S "$root" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release
  -DMLCORE_ENABLE_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES="$arch" -DMLCORE_TESTS=ON
  -DMLCORE_BENCHMARKS=ON -DPython_EXECUTABLE="$(command -v python3)")
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
if ((dry_run)) && [[ "${status[configure]:-}" == ok ]]; then
  # The proof the hiding worked: every dependency CMake found lies under .deps.
  for var in GTest_DIR benchmark_DIR Eigen3_DIR; do
    where="$(grep -E "^$var:" "$build/CMakeCache.txt" | cut -d= -f2-)"
    echo "$var = ${where:-(not set)}"
    if [[ -n "$where" && "$where" != "$deps"* ]]; then
      echo "error: $var lies outside $deps: the GPU machine would not find it"
      status[configure]="FAILED ($var found outside .deps)"
    fi
  done
fi

stage "build ($jobs jobs)"
if [[ "${status[configure]:-}" == ok ]]; then
  run_for "$build_limit" build cmake --build "$build" -j "$jobs" >"$out/build.log" 2>&1
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

# compute-sanitizer over the CUDA unit tests: memcheck (out-of-bounds and misaligned accesses,
# bad frees; not leaks, since the caching allocator keeps blocks on purpose) on all of them,
# racecheck (shared-memory hazards: a missing __syncthreads) on those whose kernels share
# memory. The shapes in test_cuda are small, so both fit the budget; the
# out-of-memory test is left out (it asks the device for 4 TiB on purpose). A sanitizer that
# refuses the device (seen under gVisor: "Device not supported") is reported as such.
sanitize() {
  local name="$1" filter="$2"
  shift 2
  stage "compute-sanitizer $name on test_cuda"
  if ((dry_run)); then
    status[$name]="no GPU (dry run)"
  elif [[ "${MLCORE_SANITIZE:-1}" == 0 ]]; then
    status[$name]="skipped (MLCORE_SANITIZE=0)"
  elif ! command -v compute-sanitizer >/dev/null 2>&1; then
    status[$name]="skipped (compute-sanitizer not installed)"
  elif [[ ! -x "$build/tests/cpp/test_cuda" ]]; then
    status[$name]="skipped (not built)"
  else
    run_for 75 "$name" compute-sanitizer --tool "$name" --error-exitcode 1 "$@" \
      "$build/tests/cpp/test_cuda" --gtest_brief=1 --gtest_filter="$filter" >"$out/$name.log" 2>&1
    if grep -qiE "device not supported|not supported on this|unable to (attach|initialize)" \
      "$out/$name.log"; then
      status[$name]="refused by the device (see $name.log); not a code failure"
    fi
    tail -n 12 "$out/$name.log"
  fi
}
sanitize memcheck "Cuda*:-Cuda.OutOfMemoryIsADeviceErrorWithFileAndLine"
sanitize racecheck "Cuda.Topk*:Cuda.ScatterAdd*:Cuda.Sqdist*:Cuda.EverySgemm*:Cuda.Int8*:Cuda.Argmin*:Cuda.Tall*"

stage "CUDA benchmarks (vs cuBLAS)"
if ((dry_run)); then
  status[bench]="no GPU (dry run; bench_cuda $([[ -x "$build/bench/bench_cuda" ]] && echo built || echo NOT built))"
  [[ -x "$build/bench/bench_cuda" ]] || status[bench]="FAILED (bench_cuda not built)"
elif [[ -x "$build/bench/bench_cuda" ]]; then
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

((dry_run)) && [[ "${status[ctest_cuda]:-}" == ok ]] &&
  status[ctest_cuda]="ok (dry run: the host-side CUDA tests ran, the device ones skipped)"

stage "summary"
{
  if ((dry_run)); then
    echo "card: no GPU (dry run on $(nproc) cores), CUDA architectures $arch, $((SECONDS - start)) s"
  else
    echo "card: $(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -n 1)," \
      "CUDA architectures $arch, $((SECONDS - start)) s"
  fi
  echo
  echo "| stage | status |"
  echo "|---|---|"
  for s in "${stages[@]}"; do
    echo "| $s | ${status[$s]:-not run} |"
  done
  echo
  if ((dry_run)); then
    python3 "$root/bench/cuda_summary.py" --no-gpu
  else
    python3 "$root/bench/cuda_summary.py" "$out/bench_cuda.json"
  fi
} >"$out/summary.md" 2>&1
summary_rc=$?
cat "$out/summary.md"

# A stage that did not run at all (configure failed, say) fails the check; "incomplete" only
# when nothing failed but the budget cut something short.
failed=0
incomplete=0
for s in "${stages[@]}"; do
  v="${status[$s]:-not run}"
  case "$v" in
    ok* | skipped* | "no GPU"* | refused*) ;;
    incomplete*) incomplete=1 ;;
    *) failed=1 ;;
  esac
done
((summary_rc != 0)) && failed=1
verdict=PASSED
rc=0
if ((failed)); then
  verdict=FAILED
  rc=1
elif ((incomplete)); then
  verdict="INCOMPLETE (the time budget ran out; nothing failed)"
  rc=2
fi
echo
echo "gpu_check$( ((dry_run)) && echo " --dry-run"): $verdict in $((SECONDS - start)) s; logs in $out"
exit "$rc"
