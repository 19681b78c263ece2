// The `avx2` backend's class, visible to the avx512 backend: that one derives from it and
// overrides the primitives AVX-512 speeds up, so a reader sees at a glance which primitives the
// wider registers change and which stay on the AVX2 kernels (avx512_backend.cpp says why).
// Plain C++: the kernels it calls are declared in baseline headers and compiled in *_avx2.cpp.
#pragma once

#include <string>

#include "scalar_backend.hpp"

namespace mlcore {

class Avx2Backend : public ScalarBackend {
 public:
  // num_threads ≤ 0: mlcore::num_threads() at each call, so set_num_threads() reaches it.
  explicit Avx2Backend(int num_threads);

  std::string name() const override { return "avx2"; }
  std::string description() const override;
  // All cores running 8-lane FMAs, and the read bandwidth of that many threads. Measured once
  // per thread count and cached (~0.2 s).
  MachinePeaks peaks() const override;
  // The thread count of this call: the configured one, or mlcore::num_threads().
  int threads() const;

 protected:
  void gemm_impl(Trans ta, Trans tb, float alpha, const Tensor& A, const Tensor& B, float beta,
                 Tensor& C, OpRecord& r) override;
  void gemv_impl(Trans ta, float alpha, const Tensor& A, const Tensor& x, float beta, Tensor& y,
                 OpRecord& r) override;
  void sqdist_impl(const Tensor& A, const Tensor& B, Tensor& D, OpRecord& r) override;
  void minkowski_dist_impl(const Tensor& A, const Tensor& B, float p_exp, Tensor& D,
                           OpRecord& r) override;
  void spmm_impl(Trans ta, float alpha, const CsrMatrix& A, const Tensor& B, float beta, Tensor& C,
                 OpRecord& r) override;
  void argmin_rows_impl(const Tensor& D, Tensor& index, Tensor& value, OpRecord& r) override;
  void topk_rows_impl(const Tensor& D, std::int64_t k, Tensor& index, Tensor& value,
                      OpRecord& r) override;
  void map_impl(MapFn fn, const Tensor& X, Tensor& Y, MapArgs args, OpRecord& r) override;
  void softmax_rows_impl(const Tensor& X, Tensor& Y, bool log, OpRecord& r) override;
  void axpby_impl(float alpha, const Tensor& X, float beta, Tensor& Y, OpRecord& r) override;
  void multiply_impl(const Tensor& X, Tensor& Y, OpRecord& r) override;
  void add_row_vector_impl(float alpha, const Tensor& v, Tensor& Y, OpRecord& r) override;
  void scale_rows_impl(const Tensor& w, Tensor& Y, OpRecord& r) override;
  void scatter_add_impl(const Tensor& index, const Tensor& X, Tensor& out, OpRecord& r) override;
  void gather_rows_impl(const Tensor& X, const Tensor& index, Tensor& Y, OpRecord& r) override;
  void histogram_impl(const Tensor& codes, const Tensor& offsets, const Tensor& rows,
                      const Tensor& X, Tensor& out, OpRecord& r) override;
  void reduce_cols_impl(Reduce op, const Tensor& X, Tensor& out, OpRecord& r) override;
  void tree_walk_impl(const Tensor& nodes, const Tensor& roots, const Tensor& X,
                      const Tensor* values, double scale, Tensor& out, OpRecord& r) override;
  void loss_gradients_impl(GradientLoss loss, const Tensor& y, const Tensor& raw,
                           const Tensor& weight, Tensor& grad, Tensor& hess, Tensor& ranges,
                           OpRecord& record) override;
  std::int64_t partition_rows_impl(const Tensor& codes, const RowSplit& split, Tensor& rows,
                                   OpRecord& r) override;

 private:
  int requested_threads_;
};

}  // namespace mlcore
