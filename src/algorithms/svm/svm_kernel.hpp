// Kernel matrices for SVC, on the backend, and a bounded cache of kernel rows for the SMO solver.
//
// A block of kernel values K(A, B) (m × n) is one MAC primitive plus element-wise maps:
//   linear   K = A·Bᵀ                         gemm
//   poly     K = (γ·A·Bᵀ + coef0)^degree      gemm, map(identity), degree−1 × multiply
//   rbf      K = exp(−γ·‖a − b‖²)             sqdist, map(exp)
//   sigmoid  K = tanh(γ·A·Bᵀ + coef0)         gemm, map(tanh)
// (The polynomial's power is repeated multiplication rather than map(pow): the base may be
// negative, and an integer power of a negative number is well defined, while pow through
// exp(p·log u) is not.)
//
// KernelRows hands the solver row i of K(X, X) as host floats. Rows are computed on demand
// through the backend (several at once when asked: one GEMM of a block of rows) and kept in an
// LRU cache of at most `max_bytes`; when the whole matrix fits it is computed up front in row
// blocks, the efficient shape for the GEMM.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "mlcore/backend.hpp"

namespace mlcore::detail {

// precomputed: the caller's Gram matrix. Its "samples" are rows of that matrix (row i of the
// training Gram matrix holds k(x_i, x_j) for every j), so the kernel of a block of rows A
// against all the samples B is A itself: kernel_block copies, the diagonal is read off.
enum class KernelKind { linear, poly, rbf, sigmoid, precomputed };

struct KernelSpec {
  KernelKind kind = KernelKind::rbf;
  double gamma = 1.0;
  double coef0 = 0.0;
  std::int64_t degree = 3;
};

// "linear", "poly", "rbf", "sigmoid", "precomputed" → KernelKind (throws mlcore::Error
// otherwise).
KernelKind parse_kernel(const std::string& name);

// K = k(A, B): A (m × d), B (n × d), K (m × n), all on the backend's device. `scratch` must be
// m × n too (used by poly only; may be empty otherwise).
void kernel_block(Backend& b, const KernelSpec& spec, const Tensor& A, const Tensor& B, Tensor& K,
                  Tensor& scratch);

// k(x_i, x_i) for each row of X (device, n × d): n host doubles. rbf gives exactly 1.
std::vector<double> kernel_diagonal(Backend& b, const KernelSpec& spec, const Tensor& X);

class KernelRows {
 public:
  // X: the device samples (n × d). max_bytes bounds the cached rows (at least two rows are
  // always kept: the solver holds rows i and j at once).
  KernelRows(Backend& b, KernelSpec spec, Tensor X, double max_bytes);

  std::int64_t size() const { return n_; }
  // Row i of K (n host floats). Valid until the next call that computes rows; the rows of the
  // two most recent calls are never evicted by each other.
  const float* row(std::int64_t i);
  // Computes, in one block, those of `rows` that are not cached (at most capacity() − 2 of them;
  // the rest are left for later).
  void prefetch(const std::vector<std::int64_t>& rows);
  std::int64_t capacity() const { return capacity_; }
  bool holds_everything() const { return capacity_ >= n_; }
  bool cached(std::int64_t i) const { return slot_of_[i] >= 0; }
  std::int64_t rows_computed() const { return rows_computed_; }

 private:
  void compute(const std::vector<std::int64_t>& rows);  // into free / evicted slots
  std::int64_t take_slot();
  void touch(std::int64_t slot);  // mark most recently used
  void unlink(std::int64_t slot);
  void push_front(std::int64_t slot);

  Backend& b_;
  KernelSpec spec_;
  Tensor X_;
  std::int64_t n_ = 0, capacity_ = 0, used_ = 0;
  std::unique_ptr<float[]> storage_;       // capacity_ × n_
  std::vector<std::int64_t> slot_of_;      // row → slot or −1
  std::vector<std::int64_t> row_of_;       // slot → row
  std::vector<std::int64_t> prev_, next_;  // LRU list of slots (head = most recent)
  std::int64_t head_ = -1, tail_ = -1;
  std::int64_t rows_computed_ = 0;
};

}  // namespace mlcore::detail
