// CUDA benchmarks: mlcore's kernels against cuBLAS (the reference, linked here only — never by
// the library) and against the memory-bound floor. Run by bench/gpu_check.sh, which turns the
// JSON output into the table of bench/RESULTS.md (bench/cuda_summary.py).
//
//   sgemm/<step>/4096           every step of the SGEMM ladder, 4096³ f32 (TF32 off)
//   sgemm/cublas/4096           cublasSgemm, CUBLAS_DEFAULT_MATH (no TF32)
//   sgemm_tf32/{ours,cublas}    the TF32 option against cuBLAS in TF32 tensor-op mode
//   igemm/ours/4096             int8 × int8 → int32 on the tensor cores, A m×k and B n×k
//   igemm/ours_packed/4096      the same with B stored k×n (adds the packing pass)
//   igemm/cublas/4096           cublasGemmEx, CUDA_R_8I, CUBLAS_COMPUTE_32I, the same layout
//   gemv_{n,t}/{ours,cublas}    8192 × 8192 f32 (256 MiB: streams from DRAM, not L2)
//   kmeans_step/library         sqdist + argmin_rows + scatter_add through the Backend API,
//                               1,000,000 × 32 points, 64 centroids; "floor_seconds" is the
//                               three records' compulsory bytes over the measured copy bandwidth
//   memcpy_d2d                  that bandwidth (bytes read + bytes written)
//   <primitive>/ours            the other primitives at sizes that fill the chip (GB/s)
//   scatter_add/atomic          the atomicAdd rung of scatter_add, for comparison
//
// GPU timing: CUDA events around each iteration after a warm-up call (STYLE.md 11); Google
// Benchmark's manual time is set from them. Counters: seconds (mean per call), TFLOPs (2 flops
// per MAC; TOPs for int8), GBps (compulsory bytes).
#include <benchmark/benchmark.h>
#include <cuda_runtime.h>
#if MLCORE_BENCH_HAVE_CUBLAS  // set by bench/CMakeLists.txt when the toolkit has cuBLAS
#include <cublas_v2.h>
#endif

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

#include "cuda/cuda_check.hpp"
#include "cuda/device_memory.hpp"
#include "cuda/kernels.hpp"
#include "mlcore/backends.hpp"

namespace {

using i64 = std::int64_t;
namespace cuda = mlcore::cuda;

#if MLCORE_BENCH_HAVE_CUBLAS
#define BENCH_CUBLAS_CHECK(expr)                                                                 \
  do {                                                                                           \
    const cublasStatus_t status_ = (expr);                                                       \
    if (status_ != CUBLAS_STATUS_SUCCESS) {                                                      \
      throw std::runtime_error(std::string(#expr) + " failed: " + cublasGetStatusName(status_) + \
                               ": " + cublasGetStatusString(status_));                           \
    }                                                                                            \
  } while (0)
#endif

// ---- device buffers and random data ----------------------------------------------------------

__device__ __forceinline__ unsigned hash32(unsigned x) {
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return x;
}

__global__ void fill_uniform_kernel(float* p, i64 n, unsigned seed, float lo, float hi) {
  for (i64 i = static_cast<i64>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<i64>(gridDim.x) * blockDim.x) {
    const unsigned h = hash32(static_cast<unsigned>(i) * 0x9e3779b9u ^ hash32(seed + (i >> 32)));
    p[i] = lo + (hi - lo) * static_cast<float>(h >> 8) * (1.0f / 16777216.0f);
  }
}

__global__ void fill_int8_kernel(std::int8_t* p, i64 n, unsigned seed) {
  for (i64 i = static_cast<i64>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<i64>(gridDim.x) * blockDim.x) {
    p[i] = static_cast<std::int8_t>(hash32(static_cast<unsigned>(i) ^ seed) & 0xff);
  }
}

__global__ void fill_labels_kernel(std::int32_t* p, i64 n, int m, unsigned seed) {
  for (i64 i = static_cast<i64>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<i64>(gridDim.x) * blockDim.x) {
    p[i] = static_cast<std::int32_t>(hash32(static_cast<unsigned>(i) ^ seed) % m);
  }
}

template <class T>
struct DeviceArray {
  std::shared_ptr<void> memory;
  T* ptr = nullptr;
  i64 count = 0;
  explicit DeviceArray(i64 n) : memory(cuda::device_allocate(n * sizeof(T))), count(n) {
    ptr = static_cast<T*>(memory.get());
  }
  std::size_t bytes() const { return static_cast<std::size_t>(count) * sizeof(T); }
};

DeviceArray<float> random_floats(i64 n, unsigned seed, float lo = -1.0f, float hi = 1.0f) {
  DeviceArray<float> a(n);
  fill_uniform_kernel<<<1024, 256>>>(a.ptr, n, seed, lo, hi);
  MLCORE_CUDA_CHECK_LAUNCH();
  return a;
}

DeviceArray<std::int8_t> random_int8(i64 n, unsigned seed) {
  DeviceArray<std::int8_t> a(n);
  fill_int8_kernel<<<1024, 256>>>(a.ptr, n, seed);
  MLCORE_CUDA_CHECK_LAUNCH();
  return a;
}

#if !MLCORE_BENCH_HAVE_CUBLAS
// The reference rows then report this instead of a time, and the summary table says so.
constexpr const char* kNoCublas = "cuBLAS is not installed with this CUDA toolkit: no reference";
#endif

// ---- shared state and timing -----------------------------------------------------------------

struct Gpu {
  cudaStream_t stream = nullptr;
#if MLCORE_BENCH_HAVE_CUBLAS
  cublasHandle_t cublas = nullptr;
#endif
  cudaEvent_t start = nullptr, stop = nullptr;

  static Gpu& get() {
    static Gpu* gpu = [] {
      auto* g = new Gpu();
      MLCORE_CUDA_CHECK(cudaStreamCreateWithFlags(&g->stream, cudaStreamNonBlocking));
      MLCORE_CUDA_CHECK(cudaEventCreate(&g->start));
      MLCORE_CUDA_CHECK(cudaEventCreate(&g->stop));
#if MLCORE_BENCH_HAVE_CUBLAS
      BENCH_CUBLAS_CHECK(cublasCreate(&g->cublas));
      BENCH_CUBLAS_CHECK(cublasSetStream(g->cublas, g->stream));
#endif
      return g;
    }();
    return *gpu;
  }
};

// Times `f` (which enqueues work on Gpu::stream) with events: one warm-up call, then one timed
// call per benchmark iteration.
// `workspace`, when the timed call takes one: rewound before every run (after the previous run
// has finished), so its buffers are allocated once, by the untimed warm-up run, and reused —
// no cudaMalloc inside the event window and no memory growth per iteration.
void time_gpu(benchmark::State& state, const std::function<void()>& f, double flops, double bytes,
              cuda::Workspace* workspace = nullptr) {
  try {
    Gpu& g = Gpu::get();
    MLCORE_CUDA_CHECK(cudaDeviceSynchronize());
    f();
    MLCORE_CUDA_CHECK(cudaStreamSynchronize(g.stream));
    double total = 0.0;
    i64 iterations = 0;
    for (auto _ : state) {
      if (workspace != nullptr) workspace->rewind();
      MLCORE_CUDA_CHECK(cudaEventRecord(g.start, g.stream));
      f();
      MLCORE_CUDA_CHECK(cudaEventRecord(g.stop, g.stream));
      MLCORE_CUDA_CHECK(cudaEventSynchronize(g.stop));
      float ms = 0.0f;
      MLCORE_CUDA_CHECK(cudaEventElapsedTime(&ms, g.start, g.stop));
      state.SetIterationTime(1e-3 * ms);
      total += 1e-3 * ms;
      ++iterations;
    }
    const double seconds = total / static_cast<double>(iterations);
    state.counters["seconds"] = seconds;
    if (flops > 0) state.counters["TFLOPs"] = flops / seconds / 1e12;
    if (bytes > 0) state.counters["GBps"] = bytes / seconds / 1e9;
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
  }
}

// ---- SGEMM -------------------------------------------------------------------------------------

void BM_sgemm_step(benchmark::State& state, cuda::SgemmStep step) {
  const i64 n = state.range(0);
  auto A = random_floats(n * n, 1), B = random_floats(n * n, 2);
  DeviceArray<float> C(n * n);
  Gpu& g = Gpu::get();
  time_gpu(
      state,
      [&] {
        cuda::sgemm(step, false, false, n, n, n, 1.0f, A.ptr, n, B.ptr, n, 0.0f, C.ptr, n,
                    g.stream);
      },
      2.0 * n * n * n, 0);
}

// Row-major C = A·B is column-major Cᵀ = Bᵀ·Aᵀ: cuBLAS gets (B, A) with no transposes.
#if MLCORE_BENCH_HAVE_CUBLAS
void BM_sgemm_cublas(benchmark::State& state, bool tf32) {
  const i64 n = state.range(0);
  auto A = random_floats(n * n, 1), B = random_floats(n * n, 2);
  DeviceArray<float> C(n * n);
  Gpu& g = Gpu::get();
  const float alpha = 1.0f, beta = 0.0f;
  const int N = static_cast<int>(n);
  BENCH_CUBLAS_CHECK(
      cublasSetMathMode(g.cublas, tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
  time_gpu(
      state,
      [&] {
        BENCH_CUBLAS_CHECK(cublasSgemm(g.cublas, CUBLAS_OP_N, CUBLAS_OP_N, N, N, N, &alpha, B.ptr,
                                       N, A.ptr, N, &beta, C.ptr, N));
      },
      2.0 * n * n * n, 0);
  BENCH_CUBLAS_CHECK(cublasSetMathMode(g.cublas, CUBLAS_DEFAULT_MATH));
}
#else
void BM_sgemm_cublas(benchmark::State& state, bool tf32) {
  (void)tf32;
  state.SkipWithError(kNoCublas);
}
#endif

void BM_sgemm_tf32_ours(benchmark::State& state) {
  const i64 n = state.range(0);
  auto A = random_floats(n * n, 1), B = random_floats(n * n, 2);
  DeviceArray<float> C(n * n);
  Gpu& g = Gpu::get();
  time_gpu(
      state,
      [&] {
        cuda::sgemm_tf32(false, false, n, n, n, 1.0f, A.ptr, n, B.ptr, n, 0.0f, C.ptr, n, g.stream);
      },
      2.0 * n * n * n, 0);
}

// ---- int8 GEMM
// -----------------------------------------------------------------------------------

// Ours: A (n × n, K contiguous), B stored n × k (trans_b): the tensor-core kernel's own layout.
// `packed`: B stored k × n instead, so a packing pass runs first.
void BM_igemm_ours(benchmark::State& state, bool packed) {
  const i64 n = state.range(0);
  auto A = random_int8(n * n, 3), B = random_int8(n * n, 4);
  DeviceArray<std::int32_t> C(n * n);
  Gpu& g = Gpu::get();
  cuda::Workspace workspace;
  time_gpu(
      state,
      [&] {
        cuda::igemm(false, !packed, n, n, n, A.ptr, n, B.ptr, n, false, C.ptr, n, g.stream,
                    workspace);
      },
      2.0 * n * n * n, 0, &workspace);
}

// cuBLAS int8 wants the "TN" form (both operands K-contiguous): column-major Cᵀ (n × m) =
// op(Bs)·op(A) with Bs = our n×k B seen as k×n column-major (transposed: OP_T) and A = our m×k
// seen as k×m column-major (OP_N).
#if MLCORE_BENCH_HAVE_CUBLAS
void BM_igemm_cublas(benchmark::State& state) {
  const i64 n = state.range(0);
  auto A = random_int8(n * n, 3), B = random_int8(n * n, 4);
  DeviceArray<std::int32_t> C(n * n);
  Gpu& g = Gpu::get();
  const std::int32_t alpha = 1, beta = 0;
  const int N = static_cast<int>(n);
  time_gpu(
      state,
      [&] {
        BENCH_CUBLAS_CHECK(cublasGemmEx(g.cublas, CUBLAS_OP_T, CUBLAS_OP_N, N, N, N, &alpha, B.ptr,
                                        CUDA_R_8I, N, A.ptr, CUDA_R_8I, N, &beta, C.ptr, CUDA_R_32I,
                                        N, CUBLAS_COMPUTE_32I, CUBLAS_GEMM_DEFAULT));
      },
      2.0 * n * n * n, 0);
}
#else
void BM_igemm_cublas(benchmark::State& state) { state.SkipWithError(kNoCublas); }
#endif

// ---- GEMV --------------------------------------------------------------------------------------

void BM_gemv_ours(benchmark::State& state, bool trans) {
  const i64 n = state.range(0);
  auto A = random_floats(n * n, 5), x = random_floats(n, 6);
  DeviceArray<float> y(n);
  Gpu& g = Gpu::get();
  cuda::Workspace workspace;
  time_gpu(
      state, [&] { cuda::gemv(trans, n, n, 1.0f, A.ptr, x.ptr, 0.0f, y.ptr, g.stream, workspace); },
      2.0 * n * n, 4.0 * (n * n + 2 * n), &workspace);
}

// Row-major A is column-major Aᵀ: y = A·x is cuBLAS's OP_T, y = Aᵀ·x its OP_N.
#if MLCORE_BENCH_HAVE_CUBLAS
void BM_gemv_cublas(benchmark::State& state, bool trans) {
  const i64 n = state.range(0);
  auto A = random_floats(n * n, 5), x = random_floats(n, 6);
  DeviceArray<float> y(n);
  Gpu& g = Gpu::get();
  const float alpha = 1.0f, beta = 0.0f;
  const int N = static_cast<int>(n);
  time_gpu(
      state,
      [&] {
        BENCH_CUBLAS_CHECK(cublasSgemv(g.cublas, trans ? CUBLAS_OP_N : CUBLAS_OP_T, N, N, &alpha,
                                       A.ptr, N, x.ptr, 1, &beta, y.ptr, 1));
      },
      2.0 * n * n, 4.0 * (n * n + 2 * n));
}
#else
void BM_gemv_cublas(benchmark::State& state, bool trans) {
  (void)trans;
  state.SkipWithError(kNoCublas);
}
#endif

// ---- memory bandwidth and the k-means step -----------------------------------------------------

double measured_bandwidth = 0.0;  // bytes read + written per second, from BM_memcpy_d2d

void BM_memcpy_d2d(benchmark::State& state) {
  const i64 bytes = i64{1} << 30;
  DeviceArray<char> a(bytes), b(bytes);
  MLCORE_CUDA_CHECK(cudaMemset(a.ptr, 1, bytes));
  Gpu& g = Gpu::get();
  time_gpu(
      state,
      [&] {
        MLCORE_CUDA_CHECK(cudaMemcpyAsync(b.ptr, a.ptr, bytes, cudaMemcpyDeviceToDevice, g.stream));
      },
      0, 2.0 * bytes);
  if (state.counters.count("GBps")) measured_bandwidth = 1e9 * state.counters["GBps"];
}

// One Lloyd step's distance, assignment and sum phases through the public Backend API, as an
// algorithm runs them (each call synchronous, its GPU time in the profile).
void BM_kmeans_step(benchmark::State& state) {
  try {
    const i64 n = 1000000, d = 32, k = 64;
    mlcore::BackendPtr gpu = mlcore::backend("cuda");
    auto X = random_floats(n * d, 7, -5.0f, 5.0f), centroids = random_floats(k * d, 8, -5.0f, 5.0f);
    MLCORE_CUDA_CHECK(cudaDeviceSynchronize());
    mlcore::Tensor tX =
        mlcore::Tensor::borrow(X.ptr, n, d, mlcore::DType::f32, mlcore::Device::cuda);
    mlcore::Tensor tC =
        mlcore::Tensor::borrow(centroids.ptr, k, d, mlcore::DType::f32, mlcore::Device::cuda);
    mlcore::Tensor D = gpu->empty(n, k), labels = gpu->empty(n, 1, mlcore::DType::i32),
                   best = gpu->empty(n, 1), sums = gpu->empty(k, d);
    auto step = [&] {
      gpu->sqdist(tX, tC, D);
      gpu->argmin_rows(D, labels, best);
      gpu->scatter_add(labels, tX, sums);
    };
    step();  // warm-up
    double wall = 0.0, gpu_seconds = 0.0, bytes = 0.0;
    i64 iterations = 0;
    for (auto _ : state) {
      mlcore::Profile profile;
      const auto t0 = std::chrono::steady_clock::now();
      {
        mlcore::ProfileScope scope(profile);
        step();
      }
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      state.SetIterationTime(s);
      wall += s;
      gpu_seconds += profile.total().seconds;
      bytes = static_cast<double>(profile.total().bytes_read + profile.total().bytes_written);
      ++iterations;
    }
    state.counters["seconds"] = wall / iterations;
    state.counters["gpu_seconds"] = gpu_seconds / iterations;
    state.counters["bytes"] = bytes;
    if (measured_bandwidth > 0) {
      state.counters["floor_seconds"] = bytes / measured_bandwidth;
      state.counters["floor_ratio"] = (wall / iterations) / (bytes / measured_bandwidth);
    }
    // A single fused pass (read X once, write the labels) would need only this:
    state.counters["fused_floor_seconds"] =
        measured_bandwidth > 0 ? (4.0 * n * d + 4.0 * n) / measured_bandwidth : 0.0;
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
  }
}

// ---- the other primitives (bandwidth-bound)
// ------------------------------------------------------

void BM_sqdist(benchmark::State& state) {
  const i64 m = 1000000, n = 64, d = 32;
  auto A = random_floats(m * d, 9), B = random_floats(n * d, 10);
  DeviceArray<float> D(m * n);
  Gpu& g = Gpu::get();
  time_gpu(
      state, [&] { cuda::sqdist(m, n, d, A.ptr, B.ptr, D.ptr, g.stream); }, 2.0 * m * n * d,
      4.0 * (m * d + n * d + m * n));
}

void BM_argmin_rows(benchmark::State& state) {
  const i64 m = 1000000, n = 64;
  auto D = random_floats(m * n, 11);
  DeviceArray<std::int32_t> idx(m);
  DeviceArray<float> val(m);
  Gpu& g = Gpu::get();
  time_gpu(
      state, [&] { cuda::argmin_rows(m, n, D.ptr, idx.ptr, val.ptr, g.stream); }, 0,
      4.0 * (m * n + 2 * m));
}

void BM_scatter_add(benchmark::State& state, bool atomic) {
  const i64 n = 1000000, c = 32, m = 64;
  auto X = random_floats(n * c, 12);
  DeviceArray<std::int32_t> labels(n);
  fill_labels_kernel<<<1024, 256>>>(labels.ptr, n, static_cast<int>(m), 13);
  DeviceArray<float> out(m * c);
  Gpu& g = Gpu::get();
  cuda::Workspace workspace;
  time_gpu(
      state,
      [&] {
        if (atomic) {
          cuda::scatter_add_atomic(n, 1, c, labels.ptr, X.ptr, out.ptr, g.stream);
        } else {
          cuda::scatter_add(n, 1, c, m, labels.ptr, X.ptr, out.ptr, nullptr, g.stream, workspace);
        }
      },
      0, 4.0 * (n * c + n + 2 * m * c), &workspace);
}

void BM_topk_rows(benchmark::State& state) {
  const i64 m = 10000, n = 8192, k = state.range(0);
  auto D = random_floats(m * n, 14);
  DeviceArray<std::int32_t> idx(m * k);
  DeviceArray<float> val(m * k);
  Gpu& g = Gpu::get();
  cuda::Workspace workspace;
  time_gpu(
      state, [&] { cuda::topk_rows(m, n, k, D.ptr, idx.ptr, val.ptr, g.stream, workspace); }, 0,
      4.0 * (m * n + 2 * m * k), &workspace);
}

void BM_softmax_rows(benchmark::State& state) {
  const i64 m = 65536, n = 1000;
  auto X = random_floats(m * n, 15, -5.0f, 5.0f);
  DeviceArray<float> Y(m * n);
  Gpu& g = Gpu::get();
  time_gpu(state, [&] { cuda::softmax_rows(m, n, X.ptr, Y.ptr, false, g.stream); }, 0, 8.0 * m * n);
}

void BM_reduce_cols_var(benchmark::State& state) {
  const i64 m = 1000000, n = 32;
  auto X = random_floats(m * n, 16);
  DeviceArray<float> out(n);
  Gpu& g = Gpu::get();
  cuda::Workspace workspace;
  time_gpu(
      state,
      [&] { cuda::reduce_cols(mlcore::Reduce::var, m, n, X.ptr, out.ptr, g.stream, workspace); }, 0,
      4.0 * m * n, &workspace);  // compulsory bytes: one read (the two passes read X twice)
}

void BM_map_exp(benchmark::State& state) {
  const i64 count = i64{1} << 26;
  auto X = random_floats(count, 17, -10.0f, 10.0f);
  DeviceArray<float> Y(count);
  Gpu& g = Gpu::get();
  time_gpu(
      state, [&] { cuda::map(mlcore::MapFn::exp, count, X.ptr, Y.ptr, {}, g.stream); }, 0,
      8.0 * count);
}

// Registers `body(state, args...)`; an exception before the timed loop (out of memory, a cuBLAS
// error) marks the benchmark as errored instead of ending the program.
template <class Body, class... Args>
benchmark::internal::Benchmark* add(const std::string& name, Body body, Args... args) {
  return benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& state) {
    try {
      body(state, args...);
    } catch (const std::exception& e) {
      state.SkipWithError(e.what());
    }
  });
}

void add_device_context() {
  try {
    const mlcore::CudaDeviceInfo info = mlcore::cuda_device_info(0);
    benchmark::AddCustomContext("gpu_name", info.name);
    benchmark::AddCustomContext("gpu_compute_capability",
                                std::to_string(info.compute_capability_major) + "." +
                                    std::to_string(info.compute_capability_minor));
    benchmark::AddCustomContext("gpu_sm_count", std::to_string(info.sm_count));
    benchmark::AddCustomContext("gpu_sm_clock_ghz", std::to_string(info.sm_clock_hz / 1e9));
    benchmark::AddCustomContext("gpu_peak_f32_tflops", std::to_string(info.peak_f32_flops / 1e12));
    benchmark::AddCustomContext("gpu_peak_tf32_tflops",
                                std::to_string(info.peak_tf32_flops / 1e12));
    benchmark::AddCustomContext("gpu_peak_int8_tops", std::to_string(info.peak_int8_ops / 1e12));
    benchmark::AddCustomContext("gpu_peak_dram_gbps",
                                std::to_string(info.peak_bytes_per_second / 1e9));
  } catch (const std::exception& e) {
    benchmark::AddCustomContext("gpu_error", e.what());
  }
}

constexpr i64 kGemm = 4096, kGemv = 8192;

}  // namespace

int main(int argc, char** argv) {
  bool listing = false;  // --benchmark_list_tests works without a GPU
  for (int i = 1; i < argc; ++i)
    listing |= std::string(argv[i]).rfind("--benchmark_list_tests", 0) == 0;
  const std::string reason = mlcore::cuda_unavailable_reason();
  if (!reason.empty() && !listing) {
    std::fprintf(stderr, "bench_cuda: no CUDA device: %s\n", reason.c_str());
    return 0;  // nothing to measure here; not a failure of the build
  }
  if (!listing) add_device_context();
  // Memory bandwidth first: the k-means floor divides by it.
  add("memcpy_d2d", BM_memcpy_d2d)->UseManualTime()->MinTime(0.2);
  using cuda::SgemmStep;
  for (SgemmStep step : {SgemmStep::naive, SgemmStep::coalesced, SgemmStep::shared_tiles,
                         SgemmStep::register_blocked}) {
    auto* b = add(std::string("sgemm/") + cuda::sgemm_step_name(step), BM_sgemm_step, step)
                  ->Arg(kGemm)
                  ->UseManualTime()
                  ->Unit(benchmark::kMillisecond);
    // The first two steps take up to a second per call at 4096³: two timed calls are plenty.
    if (step == SgemmStep::naive || step == SgemmStep::coalesced) {
      b->Iterations(2);
    } else {
      b->MinTime(0.3);
    }
  }
  auto gemm = [](benchmark::internal::Benchmark* b) {
    b->Arg(kGemm)->UseManualTime()->MinTime(0.3)->Unit(benchmark::kMillisecond);
  };
  gemm(add("sgemm/cublas", BM_sgemm_cublas, false));
  gemm(add("sgemm_tf32/ours", BM_sgemm_tf32_ours));
  gemm(add("sgemm_tf32/cublas", BM_sgemm_cublas, true));
  gemm(add("igemm/ours", BM_igemm_ours, false));
  gemm(add("igemm/ours_packed", BM_igemm_ours, true));
  gemm(add("igemm/cublas", BM_igemm_cublas));
  for (bool trans : {false, true}) {
    const std::string op = trans ? "gemv_t" : "gemv_n";
    add(op + "/ours", BM_gemv_ours, trans)
        ->Arg(kGemv)
        ->UseManualTime()
        ->MinTime(0.2)
        ->Unit(benchmark::kMicrosecond);
    add(op + "/cublas", BM_gemv_cublas, trans)
        ->Arg(kGemv)
        ->UseManualTime()
        ->MinTime(0.2)
        ->Unit(benchmark::kMicrosecond);
  }
  auto bandwidth = [](benchmark::internal::Benchmark* b) {
    b->UseManualTime()->MinTime(0.2)->Unit(benchmark::kMicrosecond);
  };
  bandwidth(add("kmeans_step/library", BM_kmeans_step));
  bandwidth(add("sqdist/ours", BM_sqdist));
  bandwidth(add("argmin_rows/ours", BM_argmin_rows));
  bandwidth(add("scatter_add/ours", BM_scatter_add, false));
  bandwidth(add("scatter_add/atomic", BM_scatter_add, true));
  bandwidth(add("topk_rows/ours", BM_topk_rows)->Arg(10)->Arg(100));
  bandwidth(add("softmax_rows/ours", BM_softmax_rows));
  bandwidth(add("reduce_cols_var/ours", BM_reduce_cols_var));
  bandwidth(add("map_exp/ours", BM_map_exp));

  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
