// The `avx512` backend's class, visible to the amx backend: that one derives from it and
// overrides only the GEMMs, which run on the AMX tiles, so every other primitive is the avx512
// backend's own (amx_backend.cpp). Plain C++, like avx2_backend.hpp: the kernels it calls are
// declared in baseline headers and compiled in *_avx512.cpp.
#pragma once

#include <string>

#include "avx2_backend.hpp"

namespace mlcore {

class Avx512Backend : public Avx2Backend {
 public:
  // num_threads ≤ 0: mlcore::num_threads() at each call. The caller has checked that AVX-512
  // runs here (make_avx512_backend, cpu::avx512_unavailable_reason).
  explicit Avx512Backend(int num_threads) : Avx2Backend(num_threads) {}

  std::string name() const override { return "avx512"; }
  std::string description() const override;
  // All cores running 16-lane FMAs, and the read bandwidth of that many threads. Measured once
  // per thread count and cached.
  MachinePeaks peaks() const override;
  bool fuses_sqdist_topk() const override { return true; }  // sqdist_topk_avx512.cpp

 protected:
  void gemm_impl(Trans ta, Trans tb, float alpha, const Tensor& A, const Tensor& B, float beta,
                 Tensor& C, OpRecord& r) override;
  void sqdist_impl(const Tensor& A, const Tensor& B, Tensor& D, OpRecord& r) override;
  void argmin_rows_impl(const Tensor& D, Tensor& index, Tensor& value, OpRecord& r) override;
  void topk_rows_impl(const Tensor& D, std::int64_t k, Tensor& index, Tensor& value,
                      OpRecord& r) override;
  void sqdist_topk_impl(const Tensor& A, const Tensor& B, std::int64_t k, Tensor& index,
                        Tensor& value, OpRecord& r) override;
};

}  // namespace mlcore
