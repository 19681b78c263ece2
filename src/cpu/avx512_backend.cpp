// The `avx512` backend: a recent CPU's 16-lane SIMD — 32 zmm registers, mask registers and
// AVX-512 VNNI's int8 dot products — on all of its cores.
//
// It derives from the avx2 backend and overrides the primitives AVX-512 makes faster; the
// others run the AVX2 kernels (every AVX-512 CPU has AVX2), each for a stated reason:
//
//   overridden here (AVX-512 kernels)
//     gemm         f32: sgemm_avx512, the 14 × 32 zmm tile (gemm_avx512.cpp); int8: igemm_avx512
//                  on vpdpbusd, 64 MACs per instruction (igemm_avx512.cpp)
//     sqdist       one sgemm_avx512 plus 16-lane norms and a masked clamp pass
//     argmin_rows  16 lanes per compare, mask-register blends, a masked tail
//     topk_rows    for k ≤ 16 the best k of a row sorted in one zmm register: an insertion is a
//                  compare, a popcount and a masked permute instead of a shifting loop
//   inherited from avx2 (primitives_avx2.hpp), and why
//     gemv, axpby, multiply, add_row_vector, scale_rows, gather_rows, reduce_cols:
//                  memory-bound — 1 or 2 flops per 4-8 bytes moved. The AVX2 kernels already
//                  stream at the cores' read bandwidth (bench/RESULTS.md, avx2 section), so a
//                  wider register moves the same bytes in the same time.
//     spmm:        each nonzero gathers one row of B from a random place: bound by memory
//                  latency and bandwidth, not width (spmm_avx2.cpp).
//     scatter_add, histogram: bound by read-modify-writes of scattered rows (one load, add,
//                  store per update; the row width, 4-8 floats, is what the trees pad to), not
//                  by vector width.
//     topk_rows for k > 16: bound by the sorted-buffer insertions of the few columns that beat
//                  the k-th best, not by the 8-column filter.
//     tree_walk, tree_walk_sum: bound by the latency of each level's two dependent gathers
//                  (the node, then the row's value), not by width; a 16-lane walk also idles
//                  more lanes behind its deepest row, and Zen 4 runs zmm operations as two
//                  256-bit halves. Not ported (tree_walk_avx2.cpp).
//     partition_rows: bound by one random byte read per row (its code); vpcompressd would
//                  pack 16 ids per instruction, but a byte gather over-reads the codes' ends
//                  and the loop's stores are not its cost. Not ported (partition_rows_avx2.cpp).
//     map, softmax_rows: the exp/log polynomials are compute-bound, and a 16-lane port of
//                  vecmath_avx2.hpp would double the work per instruction on cores with two
//                  512-bit FMA units; on AMD Zen 4 (this project's machine) a zmm operation runs
//                  as two 256-bit halves, so it would gain nothing there. Not yet ported.
//
// This file is compiled for the baseline x86-64; make_avx512_backend refuses to build the
// backend unless CPUID and XCR0 say AVX-512 (F, DQ, BW, VL, VNNI) can run (cpu_features.cpp).
#include "avx512_backend.hpp"

#include <map>
#include <mutex>
#include <sstream>

#include "cpu_features.hpp"
#include "gemm_avx512.hpp"
#include "mlcore/backends.hpp"
#include "peaks.hpp"
#include "primitives_avx512.hpp"

namespace mlcore {

std::string Avx512Backend::description() const {
  std::ostringstream s;
  s << "avx512: AVX-512 F/BW/DQ/VL + VNNI kernels, " << threads() << " thread"
    << (threads() > 1 ? "s" : "");
  return s.str();
}

MachinePeaks Avx512Backend::peaks() const {
  static std::mutex mutex;
  static std::map<int, MachinePeaks> cache;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = cache.find(threads());
  if (it == cache.end()) {
    MachinePeaks p{cpu::measure_avx512_fma_peak(threads()), cpu::measure_read_bandwidth(threads()),
                   "measured: 12 independent 16-lane FMA chains per thread; 64 MiB read, " +
                       std::to_string(threads()) + " threads"};
    it = cache.emplace(threads(), p).first;
  }
  return it->second;
}

void Avx512Backend::gemm_impl(Trans ta, Trans tb, float alpha, const Tensor& A, const Tensor& B,
                              float beta, Tensor& C, OpRecord& r) {
  if (A.dtype() == DType::f32) {
    cpu::sgemm_avx512(ta == Trans::yes, tb == Trans::yes, r.m, r.n, r.k, alpha, A.data<float>(),
                      A.cols(), B.data<float>(), B.cols(), beta, C.data<float>(), C.cols(),
                      threads());
  } else {  // int8 × int8 → int32 (alpha = 1, beta ∈ {0, 1}, checked by Backend::gemm)
    cpu::igemm_avx512(ta == Trans::yes, tb == Trans::yes, r.m, r.n, r.k, A.data<std::int8_t>(),
                      A.cols(), B.data<std::int8_t>(), B.cols(), beta != 0.0f,
                      C.data<std::int32_t>(), C.cols(), threads());
  }
}

void Avx512Backend::sqdist_impl(const Tensor& A, const Tensor& B, Tensor& D, OpRecord&) {
  cpu::sqdist_avx512(A.rows(), B.rows(), A.cols(), A.data<float>(), B.data<float>(),
                     D.data<float>(), threads());
}

void Avx512Backend::argmin_rows_impl(const Tensor& D, Tensor& index, Tensor& value, OpRecord&) {
  cpu::argmin_rows_avx512(D.rows(), D.cols(), D.data<float>(), index.data<std::int32_t>(),
                          value.data<float>(), threads());
}

void Avx512Backend::topk_rows_impl(const Tensor& D, std::int64_t k, Tensor& index, Tensor& value,
                                   OpRecord&) {
  cpu::topk_rows_avx512(D.rows(), D.cols(), k, D.data<float>(), index.data<std::int32_t>(),
                        value.data<float>(), threads());
}

void Avx512Backend::sqdist_topk_impl(const Tensor& A, const Tensor& B, std::int64_t k,
                                     Tensor& index, Tensor& value, OpRecord&) {
  cpu::sqdist_topk_avx512(A.rows(), B.rows(), A.cols(), A.data<float>(), B.data<float>(), k,
                          index.data<std::int32_t>(), value.data<float>(), threads());
}

BackendPtr make_avx512_backend(int num_threads) {
  if (const std::string why = cpu::avx512_unavailable_reason(); !why.empty()) {
    throw DeviceError("backend 'avx512' is not available: " + why);
  }
  return std::make_shared<Avx512Backend>(num_threads);
}

}  // namespace mlcore
