// Kernel blocks on the backend and the LRU cache of kernel rows (see svm_kernel.hpp).
#include "algorithms/svm/svm_kernel.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "mlcore/error.hpp"

namespace mlcore::detail {

namespace {

// Rows per block when the whole matrix is computed up front: a block of K is at most this many
// floats (16 MiB), and at least one row.
constexpr std::int64_t kBlockFloats = 4ll << 20;

// Applies the kernel's function to dot products in place: T ← f(T). T: m × n device.
void apply_to_dots(Backend& b, const KernelSpec& spec, Tensor& T, Tensor& scratch) {
  const float g = static_cast<float>(spec.gamma), c0 = static_cast<float>(spec.coef0);
  switch (spec.kind) {
    case KernelKind::linear:
      return;
    case KernelKind::sigmoid:
      b.map(MapFn::tanh, T, T, MapArgs{g, c0, 1.0f});
      return;
    case KernelKind::poly: {
      if (spec.degree == 0) {
        b.fill(T, 1.0f);
        return;
      }
      // u = γ·t + coef0, then u^degree by repeated multiplication (u may be negative).
      b.map(MapFn::identity, T, T, MapArgs{g, c0, 1.0f});
      if (spec.degree == 1) return;
      b.axpby(1.0f, T, 0.0f, scratch);                                        // scratch = u
      for (std::int64_t p = 1; p < spec.degree; ++p) b.multiply(scratch, T);  // T ← u·T
      return;
    }
    case KernelKind::rbf:
    case KernelKind::precomputed:
      break;
  }
  MLCORE_ASSERT(false, "apply_to_dots: only the dot-product kernels");
}

}  // namespace

KernelKind parse_kernel(const std::string& name) {
  if (name == "linear") return KernelKind::linear;
  if (name == "poly") return KernelKind::poly;
  if (name == "rbf") return KernelKind::rbf;
  if (name == "sigmoid") return KernelKind::sigmoid;
  if (name == "precomputed") return KernelKind::precomputed;
  MLCORE_FAIL("unknown kernel '" << name
                                 << "'; known: 'linear', 'poly', 'rbf', 'sigmoid', 'precomputed'");
}

void kernel_block(Backend& b, const KernelSpec& spec, const Tensor& A, const Tensor& B, Tensor& K,
                  Tensor& scratch) {
  if (spec.kind == KernelKind::precomputed) {
    MLCORE_ASSERT(A.cols() == B.rows(), "kernel_block: a precomputed row must span the samples");
    b.axpby(1.0f, A, 0.0f, K);  // the rows are the kernel values
    return;
  }
  if (spec.kind == KernelKind::rbf) {
    b.sqdist(A, B, K);                                                              // ‖a − b‖²
    b.map(MapFn::exp, K, K, MapArgs{static_cast<float>(-spec.gamma), 0.0f, 1.0f});  // e^(−γ·)
    return;
  }
  b.gemm(Trans::no, Trans::yes, 1.0f, A, B, 0.0f, K);  // a·b
  apply_to_dots(b, spec, K, scratch);
}

std::vector<double> kernel_diagonal(Backend& b, const KernelSpec& spec, const Tensor& X) {
  const std::int64_t n = X.rows();
  std::vector<double> diag(n, 1.0);  // rbf: e⁰ = 1 exactly
  if (spec.kind == KernelKind::rbf) return diag;
  if (spec.kind == KernelKind::precomputed) {  // k(x_i, x_i) = row i's element i
    const Tensor h = b.to_host(X);
    for (std::int64_t i = 0; i < n; ++i) diag[i] = h.at<float>(i, i);
    return diag;
  }
  // ‖x_i‖² = sqdist(x_i, 0), then the kernel's function of those dot products.
  Tensor zero = b.empty(1, X.cols());
  Tensor T = b.empty(n, 1), scratch = b.empty(n, 1);
  b.sqdist(X, zero, T);
  apply_to_dots(b, spec, T, scratch);
  const Tensor h = b.to_host(T);
  for (std::int64_t i = 0; i < n; ++i) diag[i] = h.data<float>()[i];
  return diag;
}

KernelRows::KernelRows(Backend& b, KernelSpec spec, Tensor X, double max_bytes)
    : b_(b), spec_(spec), X_(std::move(X)), n_(X_.rows()) {
  const double row_bytes = static_cast<double>(n_) * sizeof(float);
  capacity_ = static_cast<std::int64_t>(std::min<double>(n_, std::floor(max_bytes / row_bytes)));
  capacity_ = std::max<std::int64_t>(capacity_, std::min<std::int64_t>(2, n_));
  storage_.reset(new float[static_cast<std::size_t>(capacity_ * n_)]);  // pages touched lazily
  slot_of_.assign(n_, -1);
  row_of_.assign(capacity_, -1);
  prev_.assign(capacity_, -1);
  next_.assign(capacity_, -1);
  if (holds_everything()) {
    // Everything fits: compute K in blocks of consecutive rows (tall GEMMs, no gather).
    const std::int64_t block =
        std::clamp<std::int64_t>(kBlockFloats / std::max<std::int64_t>(n_, 1), 1, n_);
    Tensor K = b_.empty(block, n_), scratch;
    if (spec_.kind == KernelKind::poly) scratch = b_.empty(block, n_);
    for (std::int64_t r0 = 0; r0 < n_; r0 += block) {
      const std::int64_t r1 = std::min(n_, r0 + block);
      Tensor Kb = K.row_slice(0, r1 - r0);
      Tensor Sb = scratch.empty() ? scratch : scratch.row_slice(0, r1 - r0);
      kernel_block(b_, spec_, X_.row_slice(r0, r1), X_, Kb, Sb);
      const Tensor h = b_.to_host(Kb);
      std::memcpy(storage_.get() + r0 * n_, h.raw(), h.size_bytes());
      for (std::int64_t r = r0; r < r1; ++r) {
        slot_of_[r] = r;
        row_of_[r] = r;
        push_front(r);
      }
      rows_computed_ += r1 - r0;
    }
    used_ = n_;
  }
}

void KernelRows::unlink(std::int64_t s) {
  if (prev_[s] >= 0)
    next_[prev_[s]] = next_[s];
  else
    head_ = next_[s];
  if (next_[s] >= 0)
    prev_[next_[s]] = prev_[s];
  else
    tail_ = prev_[s];
  prev_[s] = next_[s] = -1;
}

void KernelRows::push_front(std::int64_t s) {
  prev_[s] = -1;
  next_[s] = head_;
  if (head_ >= 0) prev_[head_] = s;
  head_ = s;
  if (tail_ < 0) tail_ = s;
}

void KernelRows::touch(std::int64_t s) {
  if (head_ == s) return;
  unlink(s);
  push_front(s);
}

std::int64_t KernelRows::take_slot() {
  if (used_ < capacity_) return used_++;
  const std::int64_t s = tail_;  // least recently used
  unlink(s);
  slot_of_[row_of_[s]] = -1;
  row_of_[s] = -1;
  return s;
}

void KernelRows::compute(const std::vector<std::int64_t>& rows) {
  const std::int64_t m = static_cast<std::int64_t>(rows.size());
  if (m == 0) return;
  // A (m × d) = the rows' samples, gathered on the device; K (m × n) = k(A, X).
  Tensor index(m, 1, DType::i32);
  for (std::int64_t r = 0; r < m; ++r)
    index.data<std::int32_t>()[r] = static_cast<std::int32_t>(rows[r]);
  Tensor A = b_.empty(m, X_.cols()), K = b_.empty(m, n_), scratch;
  if (spec_.kind == KernelKind::poly) scratch = b_.empty(m, n_);
  if (m == 1) {
    A = X_.row_slice(rows[0], rows[0] + 1);  // one row: no gather needed
  } else {
    b_.gather_rows(X_, b_.to_device(index), A);
  }
  kernel_block(b_, spec_, A, X_, K, scratch);
  const Tensor h = b_.to_host(K);
  for (std::int64_t r = 0; r < m; ++r) {
    const std::int64_t s = take_slot();
    std::memcpy(storage_.get() + s * n_, h.data<float>() + r * n_, n_ * sizeof(float));
    slot_of_[rows[r]] = s;
    row_of_[s] = rows[r];
    push_front(s);
  }
  rows_computed_ += m;
}

const float* KernelRows::row(std::int64_t i) {
  std::int64_t s = slot_of_[i];
  if (s < 0) {
    compute({i});
    s = slot_of_[i];
  } else {
    touch(s);
  }
  return storage_.get() + s * n_;
}

void KernelRows::prefetch(const std::vector<std::int64_t>& rows) {
  std::vector<std::int64_t> missing;
  const std::int64_t room = std::max<std::int64_t>(capacity_ - 2, 0);
  for (std::int64_t i : rows) {
    if (static_cast<std::int64_t>(missing.size()) >= room) break;
    if (slot_of_[i] < 0 && std::find(missing.begin(), missing.end(), i) == missing.end()) {
      missing.push_back(i);
    }
  }
  compute(missing);
}

}  // namespace mlcore::detail
