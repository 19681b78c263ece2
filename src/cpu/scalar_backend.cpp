// The `scalar` backend: every primitive as the plainest loop that is obviously right.
//
// This is the first backend a student should read, and the reference every other backend is
// tested against. One thread, no SIMD intrinsics, no blocking: its speed is what one core gets
// from straightforward code (the compiler may still auto-vectorise simple loops; that is part
// of what "plain code on a modern CPU" means). Sums that run over many samples (column
// reductions) accumulate in double so the reference is more accurate than what it checks.
#include "scalar_backend.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <vector>

#include "gemm_scalar.hpp"
#include "loss_gradients.hpp"
#include "map_scalar.hpp"
#include "minkowski_scalar.hpp"
#include "mlcore/backends.hpp"
#include "mlcore/interrupt.hpp"
#include "peaks.hpp"
#include "row_select.hpp"

namespace mlcore {

std::string ScalarBackend::name() const { return "scalar"; }

std::string ScalarBackend::description() const { return "scalar: plain loops, 1 thread"; }

MachinePeaks ScalarBackend::peaks() const {
  // Measured once per process (~0.2 s) and cached.
  static const MachinePeaks kPeaks = {
      cpu::measure_scalar_mac_peak(), cpu::measure_read_bandwidth(1),
      "measured: 16 independent scalar multiply-add chains on 1 core; 64 MiB read by 1 thread"};
  return kPeaks;
}

void ScalarBackend::fill_impl(Tensor& Y, float value, OpRecord&) {
  if (Y.dtype() == DType::f32) {
    std::fill_n(Y.data<float>(), Y.numel(), value);
  } else if (Y.dtype() == DType::i64) {
    std::fill_n(Y.data<std::int64_t>(), Y.numel(), static_cast<std::int64_t>(value));
  } else {
    std::fill_n(Y.data<std::int32_t>(), Y.numel(), static_cast<std::int32_t>(value));
  }
}

void ScalarBackend::gemm_impl(Trans ta, Trans tb, float alpha, const Tensor& A, const Tensor& B,
                              float beta, Tensor& C, OpRecord& r) {
  const bool tra = ta == Trans::yes, trb = tb == Trans::yes;
  if (A.dtype() == DType::f32) {
    cpu::sgemm_scalar(tra, trb, r.m, r.n, r.k, alpha, A.data<float>(), A.cols(), B.data<float>(),
                      B.cols(), beta, C.data<float>(), C.cols());
  } else {
    cpu::igemm_scalar(tra, trb, r.m, r.n, r.k, A.data<std::int8_t>(), A.cols(),
                      B.data<std::int8_t>(), B.cols(), beta != 0.0f, C.data<std::int32_t>(),
                      C.cols());
  }
}

void ScalarBackend::gemv_impl(Trans ta, float alpha, const Tensor& A, const Tensor& x, float beta,
                              Tensor& y, OpRecord&) {
  // y = alpha · op(A) · x + beta · y, one dot product (or one column sweep) per output.
  const std::int64_t rows = A.rows(), cols = A.cols();
  const float* a = A.data<float>();
  const float* xv = x.data<float>();
  float* yv = y.data<float>();
  if (ta == Trans::no) {
    for (std::int64_t i = 0; i < rows; ++i) {
      float sum = 0.0f;
      for (std::int64_t j = 0; j < cols; ++j) sum += a[i * cols + j] * xv[j];
      yv[i] = alpha * sum + (beta == 0.0f ? 0.0f : beta * yv[i]);
    }
  } else {
    // Aᵀx: walk A row by row (contiguous) and spread each row into the outputs.
    std::vector<float> sum(cols, 0.0f);
    for (std::int64_t i = 0; i < rows; ++i) {
      for (std::int64_t j = 0; j < cols; ++j) sum[j] += a[i * cols + j] * xv[i];
    }
    for (std::int64_t j = 0; j < cols; ++j) {
      yv[j] = alpha * sum[j] + (beta == 0.0f ? 0.0f : beta * yv[j]);
    }
  }
}

namespace {

// The two sparse products as the plain loops of Backend::spmm's comment; Index is i32 or i64.
// No transpose, row by row of A:    C[i, :] += α·a_ip·B[j, :]   (a gather of B's rows)
// Transposed, row by row of A:      C[j, :] += α·a_ip·B[i, :]   (a scatter into C's rows)
template <class Index>
void spmm_loops(bool trans, float alpha, const CsrMatrix& A, const Index* idx, const float* B,
                std::int64_t n, float* C) {
  const std::int64_t* ptr = A.indptr.data<std::int64_t>();
  const float* v = A.data.data<float>();
  for (std::int64_t i = 0; i < A.rows; ++i) {
    for (std::int64_t p = ptr[i]; p < ptr[i + 1]; ++p) {
      const float a = alpha * v[p];
      const std::int64_t j = idx[p];
      const float* src = trans ? B + i * n : B + j * n;
      float* dst = trans ? C + j * n : C + i * n;
      for (std::int64_t q = 0; q < n; ++q) dst[q] += a * src[q];
    }
  }
}

}  // namespace

void ScalarBackend::spmm_impl(Trans ta, float alpha, const CsrMatrix& A, const Tensor& B,
                              float beta, Tensor& C, OpRecord&) {
  float* c = C.data<float>();
  if (beta == 0.0f) {
    std::fill_n(c, C.numel(), 0.0f);
  } else if (beta != 1.0f) {
    for (std::int64_t i = 0; i < C.numel(); ++i) c[i] *= beta;
  }
  const bool trans = ta == Trans::yes;
  if (A.indices.dtype() == DType::i64) {
    spmm_loops(trans, alpha, A, A.indices.data<std::int64_t>(), B.data<float>(), B.cols(), c);
  } else {
    spmm_loops(trans, alpha, A, A.indices.data<std::int32_t>(), B.data<float>(), B.cols(), c);
  }
}

void ScalarBackend::sqdist_impl(const Tensor& A, const Tensor& B, Tensor& D, OpRecord&) {
  // The textbook loop: D[i, j] = Σ_p (a_ip − b_jp)². (Faster backends use the expansion
  // ‖a‖² + ‖b‖² − 2 a·b to turn it into a GEMM; this direct form is the exact reference.)
  const std::int64_t m = A.rows(), n = B.rows(), d = A.cols();
  const float* a = A.data<float>();
  const float* b = B.data<float>();
  float* out = D.data<float>();
  for (std::int64_t i = 0; i < m; ++i) {
    check_interrupt();  // one row can be long: n·d MACs
    for (std::int64_t j = 0; j < n; ++j) {
      float sum = 0.0f;
      for (std::int64_t p = 0; p < d; ++p) {
        const float diff = a[i * d + p] - b[j * d + p];
        sum += diff * diff;
      }
      out[i * n + j] = sum;
    }
  }
}

void ScalarBackend::minkowski_dist_impl(const Tensor& A, const Tensor& B, float p_exp, Tensor& D,
                                        OpRecord&) {
  const std::int64_t m = A.rows(), n = B.rows(), d = A.cols();
  const float* a = A.data<float>();
  const float* b = B.data<float>();
  float* out = D.data<float>();
  for (std::int64_t i = 0; i < m; ++i) {
    check_interrupt();  // one row can be long: n·d differences
    for (std::int64_t j = 0; j < n; ++j)
      out[i * n + j] = cpu::minkowski_pair(a + i * d, b + j * d, d, p_exp);
  }
}

void ScalarBackend::argmin_rows_impl(const Tensor& D, Tensor& index, Tensor& value, OpRecord&) {
  const std::int64_t m = D.rows(), n = D.cols();
  const float* d = D.data<float>();
  std::int32_t* idx = index.data<std::int32_t>();
  float* val = value.data<float>();
  for (std::int64_t i = 0; i < m; ++i) {
    const cpu::RowMin best = cpu::row_argmin(d + i * n, n);
    idx[i] = best.index;
    val[i] = best.value;
  }
}

void ScalarBackend::topk_rows_impl(const Tensor& D, std::int64_t k, Tensor& index, Tensor& value,
                                   OpRecord&) {
  const std::int64_t m = D.rows(), n = D.cols();
  std::vector<std::int32_t> order(n);
  for (std::int64_t i = 0; i < m; ++i) {
    cpu::row_topk(D.data<float>() + i * n, n, k, order, index.data<std::int32_t>() + i * k,
                  value.data<float>() + i * k);
  }
}

void ScalarBackend::map_impl(MapFn fn, const Tensor& X, Tensor& Y, MapArgs args, OpRecord&) {
  const float* x = X.data<float>();
  float* y = Y.data<float>();
  for (std::int64_t i = 0; i < X.numel(); ++i) y[i] = cpu::apply_map_fn(fn, x[i], args);
}

void ScalarBackend::softmax_rows_impl(const Tensor& X, Tensor& Y, bool log, OpRecord&) {
  const std::int64_t m = X.rows(), n = X.cols();
  for (std::int64_t i = 0; i < m; ++i) {
    const float* x = X.data<float>() + i * n;
    float* y = Y.data<float>() + i * n;
    // Subtract the row max first so exp() never overflows: softmax(x) = softmax(x − max x).
    float mx = -std::numeric_limits<float>::infinity();
    for (std::int64_t j = 0; j < n; ++j) mx = std::max(mx, x[j]);
    double sum = 0.0;
    for (std::int64_t j = 0; j < n; ++j) sum += std::exp(static_cast<double>(x[j] - mx));
    const float log_sum = static_cast<float>(std::log(sum));
    for (std::int64_t j = 0; j < n; ++j) {
      const float shifted = x[j] - mx;
      y[j] = log ? shifted - log_sum : static_cast<float>(std::exp(shifted) / sum);
    }
  }
}

void ScalarBackend::axpby_impl(float alpha, const Tensor& X, float beta, Tensor& Y, OpRecord&) {
  const float* x = X.data<float>();
  float* y = Y.data<float>();
  for (std::int64_t i = 0; i < X.numel(); ++i) {
    y[i] = alpha * x[i] + (beta == 0.0f ? 0.0f : beta * y[i]);
  }
}

void ScalarBackend::multiply_impl(const Tensor& X, Tensor& Y, OpRecord&) {
  const float* x = X.data<float>();
  float* y = Y.data<float>();
  for (std::int64_t i = 0; i < X.numel(); ++i) y[i] *= x[i];
}

void ScalarBackend::add_row_vector_impl(float alpha, const Tensor& v, Tensor& Y, OpRecord&) {
  const std::int64_t m = Y.rows(), n = Y.cols();
  const float* vv = v.data<float>();
  float* y = Y.data<float>();
  for (std::int64_t i = 0; i < m; ++i) {
    for (std::int64_t j = 0; j < n; ++j) y[i * n + j] += alpha * vv[j];
  }
}

void ScalarBackend::scale_rows_impl(const Tensor& w, Tensor& Y, OpRecord&) {
  const std::int64_t m = Y.rows(), n = Y.cols();
  const float* wv = w.data<float>();
  float* y = Y.data<float>();
  for (std::int64_t i = 0; i < m; ++i) {
    for (std::int64_t j = 0; j < n; ++j) y[i * n + j] *= wv[i];
  }
}

void ScalarBackend::scatter_add_impl(const Tensor& index, const Tensor& X, Tensor& out, OpRecord&) {
  const std::int64_t n = X.rows(), c = X.cols(), p = index.cols();
  const std::int32_t* idx = index.data<std::int32_t>();
  const float* x = X.data<float>();
  float* o = out.data<float>();
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t q = 0; q < p; ++q) {
      const std::int32_t target = idx[i * p + q];
      if (target < 0) continue;  // sample not taking part (e.g. outside this tree node)
      for (std::int64_t j = 0; j < c; ++j) o[target * c + j] += x[i * c + j];
    }
  }
}

void ScalarBackend::gather_rows_impl(const Tensor& X, const Tensor& index, Tensor& Y, OpRecord&) {
  const std::size_t row_bytes = static_cast<std::size_t>(X.cols()) * dtype_size(X.dtype());
  const std::int32_t* idx = index.data<std::int32_t>();
  const char* x = static_cast<const char*>(X.raw());
  char* y = static_cast<char*>(Y.raw());
  for (std::int64_t i = 0; i < Y.rows(); ++i) {
    std::memcpy(y + i * row_bytes, x + idx[i] * row_bytes, row_bytes);
  }
}

namespace {

// T = float, or std::uint64_t for i64 statistics: unsigned, so that a sum that wraps is
// defined behaviour (two's complement modulo 2^64, what the signed sums' bits then are).
template <class T>
void histogram_loop(const Tensor& codes, const Tensor& offsets, const Tensor& rows, const T* x,
                    std::int64_t c, T* o) {
  const std::int64_t P = codes.cols(), m = rows.numel();
  const auto* code = reinterpret_cast<const std::uint8_t*>(codes.raw());  // unsigned bytes
  const std::int32_t* off = offsets.data<std::int32_t>();
  const std::int32_t* r = rows.data<std::int32_t>();
  for (std::int64_t k = 0; k < m; ++k) {
    const std::int64_t i = r[k];
    for (std::int64_t p = 0; p < P; ++p) {
      if (off[p] < 0) continue;  // feature not wanted
      const std::int64_t bin = std::int64_t{off[p]} + code[i * P + p];
      for (std::int64_t j = 0; j < c; ++j) o[bin * c + j] += x[i * c + j];
    }
  }
}

}  // namespace

void ScalarBackend::histogram_impl(const Tensor& codes, const Tensor& offsets, const Tensor& rows,
                                   const Tensor& X, Tensor& out, OpRecord&) {
  if (X.dtype() == DType::i64) {
    histogram_loop(codes, offsets, rows, static_cast<const std::uint64_t*>(X.raw()), X.cols(),
                   static_cast<std::uint64_t*>(out.raw()));
  } else {
    histogram_loop(codes, offsets, rows, X.data<float>(), X.cols(), out.data<float>());
  }
}

void ScalarBackend::reduce_cols_impl(Reduce op, const Tensor& X, Tensor& out, OpRecord&) {
  const std::int64_t m = X.rows(), n = X.cols();
  const float* x = X.data<float>();
  float* o = out.data<float>();
  std::vector<double> sum(n, 0.0);
  for (std::int64_t i = 0; i < m; ++i) {
    for (std::int64_t j = 0; j < n; ++j) sum[j] += x[i * n + j];
  }
  for (std::int64_t j = 0; j < n; ++j) {
    const double mean = sum[j] / static_cast<double>(m);
    if (op == Reduce::sum) {
      o[j] = static_cast<float>(sum[j]);
    } else if (op == Reduce::mean) {
      o[j] = static_cast<float>(mean);
    } else {
      // Two-pass variance: Σ(x − mean)² / m, which does not cancel catastrophically the way
      // E[x²] − E[x]² does when the mean is large.
      double ss = 0.0;
      for (std::int64_t i = 0; i < m; ++i) {
        const double dev = x[i * n + j] - mean;
        ss += dev * dev;
      }
      o[j] = static_cast<float>(ss / static_cast<double>(m));
    }
  }
}

BackendPtr make_scalar_backend() { return std::make_shared<ScalarBackend>(); }

// One row at a time, one tree at a time, the textbook walk: at each split a data-dependent
// branch picks the child. (The avx2 backend walks 8 rows at once without that branch.)
void ScalarBackend::tree_walk_impl(const Tensor& nodes, const Tensor& roots, const Tensor& X,
                                   const Tensor* values, double scale, Tensor& out, OpRecord&) {
  const auto* nd = reinterpret_cast<const TreeWalkNode*>(nodes.raw());
  const std::int32_t* root = roots.data<std::int32_t>();
  const std::int64_t m = X.rows(), d = X.cols(), T = roots.numel();
  const std::int64_t c = values ? values->cols() : 0;
  std::vector<double> acc(static_cast<std::size_t>(c));
  for (std::int64_t i = 0; i < m; ++i) {
    if (i % 4096 == 0) check_interrupt();
    const float* x = X.data<float>() + i * d;
    std::fill(acc.begin(), acc.end(), 0.0);
    for (std::int64_t t = 0; t < T; ++t) {
      std::int32_t j = root[t];
      while (nd[j].left >= 0) {
        const std::uint32_t fm = nd[j].feature_and_missing;
        const float v = x[fm & 0x7fffffffu];
        const bool go_left = v <= nd[j].threshold || (std::isnan(v) && (fm >> 31) != 0);
        j = go_left ? nd[j].left : nd[j].right;
      }
      if (values == nullptr) {
        out.data<std::int32_t>()[i * T + t] = j;
      } else {
        const float* v = values->data<float>() + std::int64_t{j} * c;
        for (std::int64_t q = 0; q < c; ++q) acc[q] += v[q];
      }
    }
    if (values != nullptr) {
      float* o = out.data<float>() + i * c;
      for (std::int64_t q = 0; q < c; ++q) o[q] = static_cast<float>(scale * acc[q]);
    }
  }
}

// The textbook stable partition: the lefts written back in place as they come (the write
// cursor never passes the read one), the rights collected aside and appended.
std::int64_t ScalarBackend::partition_rows_impl(const Tensor& codes, const RowSplit& split,
                                                Tensor& rows, OpRecord&) {
  const auto* code = reinterpret_cast<const std::uint8_t*>(codes.raw()) +
                     std::int64_t{split.feature} * codes.cols();
  std::int32_t* ids = rows.data<std::int32_t>();
  const std::int64_t m = rows.numel();
  std::vector<std::int32_t> right;
  std::int64_t n_left = 0;
  for (std::int64_t k = 0; k < m; ++k) {
    const int c = code[ids[k]];
    const bool goes_left = c == split.missing_code ? split.missing_left : c <= split.bin;
    if (goes_left) {
      ids[n_left++] = ids[k];
    } else {
      right.push_back(ids[k]);
    }
  }
  std::copy(right.begin(), right.end(), ids + n_left);
  return n_left;
}

// One pass over the samples on one thread (loss_gradients.cpp: the arithmetic every CPU
// backend shares).
void ScalarBackend::loss_gradients_impl(GradientLoss loss, const Tensor& y, const Tensor& raw,
                                        const Tensor& weight, Tensor& grad, Tensor& hess,
                                        Tensor& ranges, OpRecord&) {
  cpu::loss_gradients_cpu(loss, raw.rows(), raw.cols(), y.data<double>(), raw.data<double>(),
                          weight.numel() > 0 ? weight.data<double>() : nullptr, grad.data<double>(),
                          hess.numel() > 0 ? hess.data<double>() : nullptr, ranges.data<double>(),
                          1);
}

}  // namespace mlcore
