// The `avx2` backend: what one modern CPU does with SIMD, caches and all of its cores.
//
// Every primitive runs an AVX2 + FMA kernel over all cores: the GEMMs (gemm_avx2.cpp,
// igemm_avx2.cpp: packing + cache blocking + register-blocked micro-kernels) and the
// memory-bound rest (primitives_avx2.cpp). This file is compiled for the baseline x86-64 and
// only forwards tensors to those kernels; the kernels' files alone carry -mavx2 -mfma, and
// make_avx2_backend refuses to build the backend on a CPU without AVX2/FMA, so no AVX2
// instruction ever runs where it would fault. It derives from ScalarBackend only for fill().
#include <algorithm>
#include <map>
#include <mutex>
#include <sstream>

#include "gemm_avx2.hpp"
#include "mlcore/backends.hpp"
#include "mlcore/parallel.hpp"
#include "peaks.hpp"
#include "primitives_avx2.hpp"
#include "scalar_backend.hpp"

namespace mlcore {
namespace {

class Avx2Backend final : public ScalarBackend {
 public:
  // num_threads 0: mlcore::num_threads() at each call, so set_num_threads() reaches it.
  explicit Avx2Backend(int num_threads) : requested_threads_(std::max(num_threads, 0)) {}

  std::string name() const override { return "avx2"; }
  std::string description() const override {
    std::ostringstream s;
    s << "avx2: AVX2+FMA kernels, " << threads() << " thread" << (threads() > 1 ? "s" : "");
    return s.str();
  }
  // All cores running 8-lane FMAs, and the read bandwidth of that many threads. Measured once
  // per thread count and cached (~0.2 s).
  MachinePeaks peaks() const override {
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

 protected:
  void gemm_impl(Trans ta, Trans tb, float alpha, const Tensor& A, const Tensor& B, float beta,
                 Tensor& C, OpRecord& r) override {
    // Tensors are dense row-major, so a leading dimension is simply the stored column count.
    if (A.dtype() == DType::f32) {
      cpu::sgemm_avx2(ta == Trans::yes, tb == Trans::yes, r.m, r.n, r.k, alpha, A.data<float>(),
                      A.cols(), B.data<float>(), B.cols(), beta, C.data<float>(), C.cols(),
                      threads());
    } else {  // int8 × int8 → int32 (alpha = 1, beta ∈ {0, 1}, checked by Backend::gemm)
      cpu::igemm_avx2(ta == Trans::yes, tb == Trans::yes, r.m, r.n, r.k, A.data<std::int8_t>(),
                      A.cols(), B.data<std::int8_t>(), B.cols(), beta != 0.0f,
                      C.data<std::int32_t>(), C.cols(), threads());
    }
  }

  void gemv_impl(Trans ta, float alpha, const Tensor& A, const Tensor& x, float beta, Tensor& y,
                 OpRecord&) override {
    cpu::sgemv_avx2(ta == Trans::yes, A.rows(), A.cols(), alpha, A.data<float>(), x.data<float>(),
                    beta, y.data<float>(), threads());
  }

  void sqdist_impl(const Tensor& A, const Tensor& B, Tensor& D, OpRecord&) override {
    cpu::sqdist_avx2(A.rows(), B.rows(), A.cols(), A.data<float>(), B.data<float>(),
                     D.data<float>(), threads());
  }

  void argmin_rows_impl(const Tensor& D, Tensor& index, Tensor& value, OpRecord&) override {
    cpu::argmin_rows_avx2(D.rows(), D.cols(), D.data<float>(), index.data<std::int32_t>(),
                          value.data<float>(), threads());
  }

  void topk_rows_impl(const Tensor& D, std::int64_t k, Tensor& index, Tensor& value,
                      OpRecord&) override {
    cpu::topk_rows_avx2(D.rows(), D.cols(), k, D.data<float>(), index.data<std::int32_t>(),
                        value.data<float>(), threads());
  }

  void map_impl(MapFn fn, const Tensor& X, Tensor& Y, MapArgs args, OpRecord&) override {
    cpu::map_avx2(fn, X.numel(), X.data<float>(), Y.data<float>(), args, threads());
  }

  void softmax_rows_impl(const Tensor& X, Tensor& Y, bool log, OpRecord&) override {
    cpu::softmax_rows_avx2(X.rows(), X.cols(), X.data<float>(), Y.data<float>(), log, threads());
  }

  void axpby_impl(float alpha, const Tensor& X, float beta, Tensor& Y, OpRecord&) override {
    cpu::axpby_avx2(X.numel(), alpha, X.data<float>(), beta, Y.data<float>(), threads());
  }

  void multiply_impl(const Tensor& X, Tensor& Y, OpRecord&) override {
    cpu::multiply_avx2(X.numel(), X.data<float>(), Y.data<float>(), threads());
  }

  void add_row_vector_impl(float alpha, const Tensor& v, Tensor& Y, OpRecord&) override {
    cpu::add_row_vector_avx2(Y.rows(), Y.cols(), alpha, v.data<float>(), Y.data<float>(),
                             threads());
  }

  void scale_rows_impl(const Tensor& w, Tensor& Y, OpRecord&) override {
    cpu::scale_rows_avx2(Y.rows(), Y.cols(), w.data<float>(), Y.data<float>(), threads());
  }

  void scatter_add_impl(const Tensor& index, const Tensor& X, Tensor& out, OpRecord&) override {
    cpu::scatter_add_avx2(X.rows(), index.cols(), X.cols(), index.data<std::int32_t>(),
                          X.data<float>(), out.rows(), out.data<float>(), threads());
  }

  void gather_rows_impl(const Tensor& X, const Tensor& index, Tensor& Y, OpRecord&) override {
    cpu::gather_rows_avx2(Y.rows(), static_cast<std::int64_t>(X.cols() * dtype_size(X.dtype())),
                          X.raw(), index.data<std::int32_t>(), Y.raw(), threads());
  }

  void histogram_impl(const Tensor& codes, const Tensor& offsets, const Tensor& rows,
                      const Tensor& X, Tensor& out, OpRecord&) override {
    cpu::histogram_avx2(rows.numel(), codes.cols(), X.cols(),
                        reinterpret_cast<const std::uint8_t*>(codes.raw()),
                        offsets.data<std::int32_t>(), rows.data<std::int32_t>(), X.raw(),
                        X.dtype() == DType::i64, out.raw(), out.rows(), threads());
  }

  void reduce_cols_impl(Reduce op, const Tensor& X, Tensor& out, OpRecord&) override {
    cpu::reduce_cols_avx2(op, X.rows(), X.cols(), X.data<float>(), out.data<float>(), threads());
  }

 private:
  int threads() const { return requested_threads_ > 0 ? requested_threads_ : num_threads(); }
  int requested_threads_;
};

}  // namespace

BackendPtr make_avx2_backend(int num_threads) {
  if (!cpu_supports_avx2()) {
    throw DeviceError("backend 'avx2' is not available: this CPU lacks AVX2/FMA");
  }
  return std::make_shared<Avx2Backend>(num_threads);
}

}  // namespace mlcore
