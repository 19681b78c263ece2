// The `scalar` backend's class, visible to the other CPU backends: the avx2 backend derives
// from it, so any primitive it does not (yet) speed up runs the reference loop, and a reader
// can see at a glance which primitives a faster backend actually changes.
#pragma once

#include "mlcore/backend.hpp"

namespace mlcore {

class ScalarBackend : public Backend {
 public:
  std::string name() const override;
  std::string description() const override;
  // One core running plain code: scalar multiply-add rate and single-thread read bandwidth.
  MachinePeaks peaks() const override;

 protected:
  void fill_impl(Tensor& Y, float value, OpRecord& record) override;
  void gemm_impl(Trans ta, Trans tb, float alpha, const Tensor& A, const Tensor& B, float beta,
                 Tensor& C, OpRecord& record) override;
  void gemv_impl(Trans ta, float alpha, const Tensor& A, const Tensor& x, float beta, Tensor& y,
                 OpRecord& record) override;
  void sqdist_impl(const Tensor& A, const Tensor& B, Tensor& D, OpRecord& record) override;
  void minkowski_dist_impl(const Tensor& A, const Tensor& B, float p_exp, Tensor& D,
                           OpRecord& record) override;
  void spmm_impl(Trans ta, float alpha, const CsrMatrix& A, const Tensor& B, float beta, Tensor& C,
                 OpRecord& record) override;
  void argmin_rows_impl(const Tensor& D, Tensor& index, Tensor& value, OpRecord& record) override;
  void topk_rows_impl(const Tensor& D, std::int64_t k, Tensor& index, Tensor& value,
                      OpRecord& record) override;
  void map_impl(MapFn fn, const Tensor& X, Tensor& Y, MapArgs args, OpRecord& record) override;
  void softmax_rows_impl(const Tensor& X, Tensor& Y, bool log, OpRecord& record) override;
  void axpby_impl(float alpha, const Tensor& X, float beta, Tensor& Y, OpRecord& record) override;
  void multiply_impl(const Tensor& X, Tensor& Y, OpRecord& record) override;
  void add_row_vector_impl(float alpha, const Tensor& v, Tensor& Y, OpRecord& record) override;
  void scale_rows_impl(const Tensor& w, Tensor& Y, OpRecord& record) override;
  void scatter_add_impl(const Tensor& index, const Tensor& X, Tensor& out,
                        OpRecord& record) override;
  void gather_rows_impl(const Tensor& X, const Tensor& index, Tensor& Y, OpRecord& record) override;
  void histogram_impl(const Tensor& codes, const Tensor& offsets, const Tensor& rows,
                      const Tensor& X, Tensor& out, OpRecord& record) override;
  void reduce_cols_impl(Reduce op, const Tensor& X, Tensor& out, OpRecord& record) override;
  void tree_walk_impl(const Tensor& nodes, const Tensor& roots, const Tensor& X,
                      const Tensor* values, double scale, Tensor& out, OpRecord& record) override;
  void loss_gradients_impl(GradientLoss loss, const Tensor& y, const Tensor& raw,
                           const Tensor& weight, Tensor& grad, Tensor& hess, Tensor& ranges,
                           OpRecord& record) override;
  std::int64_t partition_rows_impl(const Tensor& codes, const RowSplit& split, Tensor& rows,
                                   OpRecord& record) override;
};

}  // namespace mlcore
