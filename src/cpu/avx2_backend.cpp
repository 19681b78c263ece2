// The `avx2` backend: what one modern CPU does with SIMD, caches and all of its cores.
//
// Every primitive runs an AVX2 + FMA kernel over all cores: the GEMMs (gemm_avx2.cpp,
// igemm_avx2.cpp: packing + cache blocking + register-blocked micro-kernels) and the
// memory-bound rest (primitives_avx2.hpp, one file per primitive family). This file is compiled for
// the baseline x86-64 and only forwards tensors to those kernels; the kernels' files alone carry
// -mavx2 -mfma, and make_avx2_backend refuses to build the backend on a CPU without AVX2/FMA, so no
// AVX2 instruction ever runs where it would fault. It derives from ScalarBackend only for fill().
#include "avx2_backend.hpp"

#include <algorithm>
#include <climits>
#include <map>
#include <mutex>
#include <sstream>

#include "cpu_features.hpp"
#include "gemm_avx2.hpp"
#include "loss_gradients.hpp"
#include "mlcore/backends.hpp"
#include "mlcore/parallel.hpp"
#include "peaks.hpp"
#include "primitives_avx2.hpp"

namespace mlcore {

Avx2Backend::Avx2Backend(int num_threads) : requested_threads_(std::max(num_threads, 0)) {}

int Avx2Backend::threads() const {
  return requested_threads_ > 0 ? requested_threads_ : num_threads();
}

std::string Avx2Backend::description() const {
  std::ostringstream s;
  s << "avx2: AVX2+FMA kernels, " << threads() << " thread" << (threads() > 1 ? "s" : "");
  return s.str();
}

MachinePeaks Avx2Backend::peaks() const {
  static std::mutex mutex;
  static std::map<int, MachinePeaks> cache;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = cache.find(threads());
  if (it == cache.end()) {
    MachinePeaks p{cpu::measure_avx2_fma_peak(threads()), cpu::measure_read_bandwidth(threads()),
                   "measured: 10 independent 8-lane FMA chains per thread; 64 MiB read, " +
                       std::to_string(threads()) + " threads"};
    it = cache.emplace(threads(), p).first;
  }
  return it->second;
}

void Avx2Backend::gemm_impl(Trans ta, Trans tb, float alpha, const Tensor& A, const Tensor& B,
                            float beta, Tensor& C, OpRecord& r) {
  // Tensors are dense row-major, so a leading dimension is simply the stored column count.
  if (A.dtype() == DType::f32) {
    cpu::sgemm_avx2(ta == Trans::yes, tb == Trans::yes, r.m, r.n, r.k, alpha, A.data<float>(),
                    A.cols(), B.data<float>(), B.cols(), beta, C.data<float>(), C.cols(),
                    threads());
  } else {  // int8 × int8 → int32 (alpha = 1, beta ∈ {0, 1}, checked by Backend::gemm)
    cpu::igemm_avx2(ta == Trans::yes, tb == Trans::yes, r.m, r.n, r.k, A.data<std::int8_t>(),
                    A.cols(), B.data<std::int8_t>(), B.cols(), beta != 0.0f, C.data<std::int32_t>(),
                    C.cols(), threads());
  }
}

void Avx2Backend::gemv_impl(Trans ta, float alpha, const Tensor& A, const Tensor& x, float beta,
                            Tensor& y, OpRecord&) {
  cpu::sgemv_avx2(ta == Trans::yes, A.rows(), A.cols(), alpha, A.data<float>(), x.data<float>(),
                  beta, y.data<float>(), threads());
}

void Avx2Backend::sqdist_impl(const Tensor& A, const Tensor& B, Tensor& D, OpRecord&) {
  cpu::sqdist_avx2(A.rows(), B.rows(), A.cols(), A.data<float>(), B.data<float>(), D.data<float>(),
                   threads());
}

void Avx2Backend::minkowski_dist_impl(const Tensor& A, const Tensor& B, float p_exp, Tensor& D,
                                      OpRecord&) {
  cpu::minkowski_dist_avx2(A.rows(), B.rows(), A.cols(), A.data<float>(), B.data<float>(), p_exp,
                           D.data<float>(), threads());
}

void Avx2Backend::argmin_rows_impl(const Tensor& D, Tensor& index, Tensor& value, OpRecord&) {
  cpu::argmin_rows_avx2(D.rows(), D.cols(), D.data<float>(), index.data<std::int32_t>(),
                        value.data<float>(), threads());
}

void Avx2Backend::topk_rows_impl(const Tensor& D, std::int64_t k, Tensor& index, Tensor& value,
                                 OpRecord&) {
  cpu::topk_rows_avx2(D.rows(), D.cols(), k, D.data<float>(), index.data<std::int32_t>(),
                      value.data<float>(), threads());
}

void Avx2Backend::map_impl(MapFn fn, const Tensor& X, Tensor& Y, MapArgs args, OpRecord&) {
  cpu::map_avx2(fn, X.numel(), X.data<float>(), Y.data<float>(), args, threads());
}

void Avx2Backend::softmax_rows_impl(const Tensor& X, Tensor& Y, bool log, OpRecord&) {
  cpu::softmax_rows_avx2(X.rows(), X.cols(), X.data<float>(), Y.data<float>(), log, threads());
}

void Avx2Backend::axpby_impl(float alpha, const Tensor& X, float beta, Tensor& Y, OpRecord&) {
  cpu::axpby_avx2(X.numel(), alpha, X.data<float>(), beta, Y.data<float>(), threads());
}

void Avx2Backend::multiply_impl(const Tensor& X, Tensor& Y, OpRecord&) {
  cpu::multiply_avx2(X.numel(), X.data<float>(), Y.data<float>(), threads());
}

void Avx2Backend::add_row_vector_impl(float alpha, const Tensor& v, Tensor& Y, OpRecord&) {
  cpu::add_row_vector_avx2(Y.rows(), Y.cols(), alpha, v.data<float>(), Y.data<float>(), threads());
}

void Avx2Backend::scale_rows_impl(const Tensor& w, Tensor& Y, OpRecord&) {
  cpu::scale_rows_avx2(Y.rows(), Y.cols(), w.data<float>(), Y.data<float>(), threads());
}

void Avx2Backend::spmm_impl(Trans ta, float alpha, const CsrMatrix& A, const Tensor& B, float beta,
                            Tensor& C, OpRecord&) {
  // Aᵀ·B as A′·B with A′ = Aᵀ in CSR (spmm_avx2.cpp says why a transpose, not a scatter).
  const CsrMatrix op = ta == Trans::yes ? csr_transpose(A) : A;
  cpu::spmm_avx2(op.rows, op.indptr.data<std::int64_t>(), op.indices.raw(),
                 op.indices.dtype() == DType::i64, op.data.data<float>(), alpha, B.data<float>(),
                 B.cols(), beta, C.data<float>(), threads());
}

void Avx2Backend::scatter_add_impl(const Tensor& index, const Tensor& X, Tensor& out, OpRecord&) {
  cpu::scatter_add_avx2(X.rows(), index.cols(), X.cols(), index.data<std::int32_t>(),
                        X.data<float>(), out.rows(), out.data<float>(), threads());
}

void Avx2Backend::gather_rows_impl(const Tensor& X, const Tensor& index, Tensor& Y, OpRecord&) {
  cpu::gather_rows_avx2(Y.rows(), static_cast<std::int64_t>(X.cols() * dtype_size(X.dtype())),
                        X.raw(), index.data<std::int32_t>(), Y.raw(), threads());
}

void Avx2Backend::histogram_impl(const Tensor& codes, const Tensor& offsets, const Tensor& rows,
                                 const Tensor& X, Tensor& out, OpRecord&) {
  cpu::histogram_avx2(rows.numel(), codes.cols(), X.cols(),
                      reinterpret_cast<const std::uint8_t*>(codes.raw()),
                      offsets.data<std::int32_t>(), rows.data<std::int32_t>(), X.raw(),
                      X.dtype() == DType::i64, out.raw(), out.rows(), threads());
}

void Avx2Backend::reduce_cols_impl(Reduce op, const Tensor& X, Tensor& out, OpRecord&) {
  cpu::reduce_cols_avx2(op, X.rows(), X.cols(), X.data<float>(), out.data<float>(), threads());
}

BackendPtr make_avx2_backend(int num_threads) {
  if (const std::string why = cpu::avx2_unavailable_reason(); !why.empty()) {
    throw DeviceError("backend 'avx2' is not available: " + why);
  }
  return std::make_shared<Avx2Backend>(num_threads);
}

void Avx2Backend::tree_walk_impl(const Tensor& nodes, const Tensor& roots, const Tensor& X,
                                 const Tensor* values, double scale, Tensor& out, OpRecord& r) {
  // The gathers address a block's 512 rows with i32 offsets: rows wider than 2^22 floats take
  // the reference loop.
  if (512 * X.cols() >= INT32_MAX) {
    ScalarBackend::tree_walk_impl(nodes, roots, X, values, scale, out, r);
    return;
  }
  cpu::tree_walk_avx2(
      X.rows(), X.cols(), roots.numel(), reinterpret_cast<const TreeWalkNode*>(nodes.raw()),
      roots.data<std::int32_t>(), X.data<float>(), values ? values->data<float>() : nullptr,
      values ? values->cols() : 0, scale, out.raw(), threads());
}

std::int64_t Avx2Backend::partition_rows_impl(const Tensor& codes, const RowSplit& split,
                                              Tensor& rows, OpRecord&) {
  const auto* code = reinterpret_cast<const std::uint8_t*>(codes.raw()) +
                     std::int64_t{split.feature} * codes.cols();
  return cpu::partition_rows_avx2(code, split, rows.data<std::int32_t>(), rows.numel(), threads());
}

// The reference's arithmetic (loss_gradients.cpp, so the trees are the same), the samples
// split over threads.
void Avx2Backend::loss_gradients_impl(GradientLoss loss, const Tensor& y, const Tensor& raw,
                                      const Tensor& weight, Tensor& grad, Tensor& hess,
                                      Tensor& ranges, OpRecord&) {
  cpu::loss_gradients_cpu(loss, raw.rows(), raw.cols(), y.data<double>(), raw.data<double>(),
                          weight.numel() > 0 ? weight.data<double>() : nullptr, grad.data<double>(),
                          hess.numel() > 0 ? hess.data<double>() : nullptr, ranges.data<double>(),
                          threads());
}

}  // namespace mlcore
