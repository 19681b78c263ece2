// The `avx2` backend: the scalar backend's primitives, replaced one by one with AVX2 + FMA
// kernels that use every core. A primitive not overridden here runs ScalarBackend's loop.
#include <omp.h>

#include <algorithm>
#include <sstream>

#include "gemm_avx2.hpp"
#include "mlcore/backends.hpp"
#include "scalar_backend.hpp"

namespace mlcore {
namespace {

class Avx2Backend final : public ScalarBackend {
 public:
  explicit Avx2Backend(int num_threads)
      : num_threads_(num_threads > 0 ? num_threads : std::max(1, omp_get_num_procs())) {}

  std::string name() const override { return "avx2"; }
  std::string description() const override {
    std::ostringstream s;
    s << "avx2: AVX2+FMA kernels, " << num_threads_ << " thread" << (num_threads_ > 1 ? "s" : "");
    return s.str();
  }

 protected:
  void gemm_impl(Trans ta, Trans tb, float alpha, const Tensor& A, const Tensor& B, float beta,
                 Tensor& C, OpRecord& r) override {
    if (A.dtype() != DType::f32) {
      ScalarBackend::gemm_impl(ta, tb, alpha, A, B, beta, C, r);
      return;
    }
    cpu::sgemm_avx2(ta == Trans::yes, tb == Trans::yes, r.m, r.n, r.k, alpha, A.data<float>(),
                    A.cols(), B.data<float>(), B.cols(), beta, C.data<float>(), C.cols(),
                    num_threads_);
  }

 private:
  int num_threads_;
};

}  // namespace

BackendPtr make_avx2_backend(int num_threads) {
  if (!cpu_supports_avx2())
    throw DeviceError("backend 'avx2' is not available: this CPU lacks AVX2/FMA");
  return std::make_shared<Avx2Backend>(num_threads);
}

}  // namespace mlcore
