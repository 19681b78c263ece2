// Factories for configured backend instances.
//
// mlcore::backend("avx2") (backend.hpp) returns a shared default instance; these functions
// build a new instance with explicit settings. Each throws mlcore::DeviceError, naming the
// reason, when the backend cannot run here.
#pragma once

#include <cstdint>
#include <string>

#include "mlcore/backend.hpp"

namespace mlcore {

// Plain loops on one core: the reference every other backend is tested against.
BackendPtr make_scalar_backend();

// AVX2 + FMA kernels on `num_threads` threads (0: one per core).
BackendPtr make_avx2_backend(int num_threads = 0);
// True when this CPU and OS support AVX2 and FMA (checked with CPUID at run time, so a build
// for the baseline x86-64 never executes an AVX2 instruction on a CPU without it).
bool cpu_supports_avx2();

// AVX-512 (F, DQ, BW, VL, VNNI) kernels on `num_threads` threads (0: one per core): 16 f32 lanes
// per FMA, 32 zmm registers, masked tails, and an int8 GEMM on vpdpbusd.
BackendPtr make_avx512_backend(int num_threads = 0);
// True when this CPU has those extensions and the OS saves the zmm and opmask registers (CPUID
// and XCR0, checked at run time; the library itself is built for the baseline x86-64).
bool cpu_supports_avx512();

// The host's exact int8 GEMM, the fastest this machine runs ("amx", "avx512_vnni", "avx2" or
// "scalar"): the simulator's functional int8 products run on it. AMX tiles are used only after
// CPUID, XCR0, Linux's permission and a self-test agree; amx_unavailable_reason() says which
// did not ("" when AMX runs).
std::string host_int8_kernel();
std::string amx_unavailable_reason();
// C (m × n, i32) = A (m × k, i8) · B (k × n, i8), host tensors, exact, on that kernel with
// `num_threads` threads (0: the default): what the int8 benchmarks time.
void host_int8_gemm(const Tensor& A, const Tensor& B, Tensor& C, int num_threads = 0);
// int8 MACs/s of the AMX tile unit on `num_threads` cores, from a loop of tile multiplies on
// resident tiles (the ceiling an AMX GEMM is measured against). Throws DeviceError with
// amx_unavailable_reason() where AMX cannot run.
double measure_amx_int8_peak(int num_threads);

// Settings of an amx backend instance.
struct AmxOptions {
  // Threads of its GEMMs and of the avx512 primitives (0: mlcore::num_threads() at each call).
  int num_threads = 0;
  // Run the tiles on the plain-C++ model of the tile unit (bit-identical results, far slower):
  // the backend's tests on machines without AMX. Needs only AVX-512.
  bool emulate_tiles = false;
  // Estimate each f32 GEMM's quantization error against a float64 reference on a sample of
  // outputs (OpRecord::quant_error), as the systolic backend does. Its time is kept out of the
  // record's `seconds` (it is the profiler's work, not the tiles').
  bool record_quant_error = true;
};

// The CPU's AMX tile unit: int8 GEMMs on tiles, f32 GEMMs quantized to int8 exactly as on the
// systolic backend (the same codes, scales and hints: the simulator's functional result, bit for
// bit, measured on real hardware); every other primitive is the avx512 backend's. Throws
// DeviceError with the reason where AMX or AVX-512 cannot run (the tile model needs AVX-512 only).
BackendPtr make_amx_backend(const AmxOptions& options = {});

// Settings of a cuda backend instance.
struct CudaOptions {
  // Run f32 GEMMs on the tensor cores in TF32: inputs rounded to a 10-bit mantissa, products
  // accumulated in f32. Several times the f32 rate, at a relative error near 1e-3 instead of
  // 1e-6 (int8 GEMMs use the tensor cores whatever this says).
  bool tf32 = false;
};

// The CUDA GPU `device_index`. Throws DeviceError when mlcore was built without CUDA, no
// device is present, or the device is older than compute capability 8.0 (Ampere).
BackendPtr make_cuda_backend(int device_index = 0);
BackendPtr make_cuda_backend(int device_index, const CudaOptions& options);
// Empty when the CUDA backend can run here; otherwise the reason it cannot.
std::string cuda_unavailable_reason();

// What a GPU is and what it can do at most: the denominators of "% of peak". The peaks are
// computed from the device's SM count and maximum clocks and the per-SM rates of its
// architecture (dense tensor-core rates, no sparsity), so they sit a little above the
// datasheet where the datasheet uses a lower boost clock.
struct CudaDeviceInfo {
  int index = 0;
  std::string name;  // "NVIDIA H100 80GB HBM3"
  int compute_capability_major = 0;
  int compute_capability_minor = 0;
  int sm_count = 0;
  double sm_clock_hz = 0;      // maximum SM clock
  double memory_clock_hz = 0;  // maximum memory clock
  int memory_bus_width_bits = 0;
  std::int64_t global_memory_bytes = 0;
  std::int64_t l2_cache_bytes = 0;
  std::int64_t shared_memory_per_sm_bytes = 0;
  std::int64_t shared_memory_per_block_optin_bytes = 0;
  double peak_f32_flops = 0;         // 2 × FP32 lanes per SM × SMs × clock
  double peak_tf32_flops = 0;        // tensor cores, TF32 inputs, f32 accumulation
  double peak_int8_ops = 0;          // tensor cores, int8 × int8 → int32 (2 ops per MAC)
  double peak_bytes_per_second = 0;  // DRAM: 2 transfers per clock × bus width
};
// Throws DeviceError when mlcore was built without CUDA or there is no such device.
CudaDeviceInfo cuda_device_info(int device_index = 0);

}  // namespace mlcore
