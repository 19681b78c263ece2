// The non-virtual half of Backend: argument checks, MAC and byte accounting, timing and the
// profile record, identical for every backend. The counts are the op's *compulsory* work: each
// input read once, each output written once, the MACs of the textbook algorithm. A backend that
// moves more (the simulator re-reading tiles from DRAM) reports that in its SimCounters.
#include "mlcore/backend.hpp"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstdint>
#include <vector>

#include "mlcore/interrupt.hpp"

namespace mlcore {

namespace {

using Clock = std::chrono::steady_clock;

std::int64_t bytes_of(const Tensor& t) { return static_cast<std::int64_t>(t.size_bytes()); }

// True when the byte ranges of a and b intersect (an output aliasing an input).
bool overlaps(const Tensor& a, const Tensor& b) {
  if (a.size_bytes() == 0 || b.size_bytes() == 0) return false;
  auto a0 = reinterpret_cast<std::uintptr_t>(a.raw());
  auto b0 = reinterpret_cast<std::uintptr_t>(b.raw());
  return a0 < b0 + b.size_bytes() && b0 < a0 + a.size_bytes();
}

void check_no_overlap(const Tensor& out, const Tensor& in, const char* op, const char* out_name,
                      const char* in_name) {
  MLCORE_CHECK(!overlaps(out, in), op << ": output " << out_name << " must not overlap input "
                                      << in_name << " (" << out.describe() << ")");
}

// In-place is allowed (same storage), partial overlap is not: it would read half-updated data.
void check_same_or_disjoint(const Tensor& out, const Tensor& in, const char* op) {
  MLCORE_CHECK(out.raw() == in.raw() || !overlaps(out, in),
               op << ": output partially overlaps the input; pass the same tensor for in-place");
}

void check_same_shape(const Tensor& X, const Tensor& Y, const char* op) {
  MLCORE_CHECK(
      X.rows() == Y.rows() && X.cols() == Y.cols(),
      op << ": X and Y must have the same shape, got " << X.describe() << " and " << Y.describe());
}

// Runs `body` (which calls the backend's hook), timing it, and hands the record to the
// installed profiles. `seconds` stays as the hook left it if the hook set it (simulated cycles,
// CUDA events); otherwise it is the measured wall time.
template <class Body>
void run_and_record(OpRecord& record, Body&& body) {
  check_interrupt();  // every primitive call is a point where a long fit can be stopped
  record.seconds = -1.0;
  const auto start = Clock::now();
  body();
  record.wall_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (record.seconds < 0.0) record.seconds = record.wall_seconds;
  if (ProfileScope::active()) ProfileScope::record(record);
}

OpRecord new_record(std::string op, std::string backend, std::string dtype, std::int64_t m,
                    std::int64_t n, std::int64_t k, std::int64_t macs = 0) {
  OpRecord r;
  r.op = std::move(op);
  r.backend = std::move(backend);
  r.dtype = std::move(dtype);
  r.m = m;
  r.n = n;
  r.k = k;
  r.macs = macs;
  return r;
}

}  // namespace

const char* map_fn_name(MapFn fn) {
  switch (fn) {
    case MapFn::identity:
      return "identity";
    case MapFn::exp:
      return "exp";
    case MapFn::log:
      return "log";
    case MapFn::sigmoid:
      return "sigmoid";
    case MapFn::tanh:
      return "tanh";
    case MapFn::sqrt:
      return "sqrt";
    case MapFn::square:
      return "square";
    case MapFn::abs:
      return "abs";
    case MapFn::relu:
      return "relu";
    case MapFn::reciprocal:
      return "reciprocal";
    case MapFn::pow:
      return "pow";
    case MapFn::log1pexp:
      return "log1pexp";
  }
  return "?";
}

const char* reduce_name(Reduce r) {
  switch (r) {
    case Reduce::sum:
      return "sum";
    case Reduce::mean:
      return "mean";
    case Reduce::var:
      return "var";
  }
  return "?";
}

void Backend::check_on_device(const Tensor& t, const char* what) const {
  MLCORE_CHECK(t.device() == device(),
               what << " is on " << device_name(t.device()) << " but backend '" << name()
                    << "' works on " << device_name(device()) << "; move it with to_device()");
}

// ---- memory ---------------------------------------------------------------------------------

Tensor Backend::alloc_impl(std::int64_t rows, std::int64_t cols, DType dtype) {
  return Tensor(rows, cols, dtype);
}

Tensor Backend::to_device_impl(const Tensor& t, OpRecord&) { return t; }

Tensor Backend::to_host_impl(const Tensor& t, OpRecord&) { return t; }

Tensor Backend::empty(std::int64_t rows, std::int64_t cols, DType dtype) {
  MLCORE_CHECK(rows >= 0 && cols >= 0,
               "empty(): dimensions must be non-negative, got " << rows << " x " << cols);
  return alloc_impl(rows, cols, dtype);
}

Tensor Backend::to_device(const Tensor& t) {
  if (t.device() == device()) return t;
  MLCORE_CHECK(t.device() == Device::host,
               "to_device(): backend '" << name() << "' cannot take " << t.describe());
  OpRecord r = new_record("to_device", name(), dtype_name(t.dtype()), t.rows(), t.cols(), 0);
  r.host_to_device_bytes = bytes_of(t);
  Tensor out;
  run_and_record(r, [&] { out = to_device_impl(t, r); });
  return out;
}

Tensor Backend::to_host(const Tensor& t) {
  if (t.device() == Device::host) return t;
  check_on_device(t, "to_host() argument");
  OpRecord r = new_record("to_host", name(), dtype_name(t.dtype()), t.rows(), t.cols(), 0);
  r.device_to_host_bytes = bytes_of(t);
  Tensor out;
  run_and_record(r, [&] { out = to_host_impl(t, r); });
  return out;
}

void Backend::fill(Tensor& Y, float value) {
  check_on_device(Y, "fill(): Y");
  MLCORE_CHECK(Y.dtype() != DType::i8, "fill(): Y must be f32, i32 or i64, got " << Y.describe());
  OpRecord r = new_record("fill", name(), dtype_name(Y.dtype()), Y.rows(), Y.cols(), 0);
  r.bytes_written = bytes_of(Y);
  run_and_record(r, [&] { fill_impl(Y, value, r); });
}

// ---- multiply-accumulate --------------------------------------------------------------------

void Backend::gemm(Trans trans_a, Trans trans_b, float alpha, const Tensor& A, const Tensor& B,
                   float beta, Tensor& C) {
  gemm(trans_a, trans_b, alpha, A, B, beta, C, GemmHints{});
}

void Backend::gemm(Trans trans_a, Trans trans_b, float alpha, const Tensor& A, const Tensor& B,
                   float beta, Tensor& C, const GemmHints& hints) {
  check_on_device(A, "gemm(): A");
  check_on_device(B, "gemm(): B");
  check_on_device(C, "gemm(): C");
  const bool ta = trans_a == Trans::yes, tb = trans_b == Trans::yes;
  const std::int64_t m = ta ? A.cols() : A.rows();
  const std::int64_t k = ta ? A.rows() : A.cols();
  const std::int64_t kb = tb ? B.cols() : B.rows();
  const std::int64_t n = tb ? B.rows() : B.cols();
  MLCORE_CHECK(k == kb, "gemm(): inner dimensions differ: op(A) is "
                            << m << "x" << k << " but op(B) is " << kb << "x" << n);
  MLCORE_CHECK(C.rows() == m && C.cols() == n,
               "gemm(): C must be " << m << "x" << n << ", got " << C.describe());
  if (A.dtype() == DType::f32) {
    check_dtype(B, DType::f32, "gemm(): B (A is f32)");
    check_dtype(C, DType::f32, "gemm(): C (A is f32)");
  } else {
    MLCORE_CHECK(A.dtype() == DType::i8, "gemm(): A must be f32 or i8, got " << A.describe());
    check_dtype(B, DType::i8, "gemm(): B (A is i8)");
    check_dtype(C, DType::i32, "gemm(): C (int8 GEMM accumulates in i32)");
    MLCORE_CHECK(alpha == 1.0f && (beta == 0.0f || beta == 1.0f),
                 "gemm(): int8 GEMM needs alpha = 1 and beta in {0, 1}, got alpha = "
                     << alpha << ", beta = " << beta);
    MLCORE_CHECK(!hints.wide_range_b && !hints.rows_up_to_constant,
                 "gemm(): hints describe f32 operands; an int8 GEMM is exact and takes none");
  }
  check_no_overlap(C, A, "gemm()", "C", "A");
  check_no_overlap(C, B, "gemm()", "C", "B");
  OpRecord r = new_record("gemm", name(), dtype_name(A.dtype()), m, n, k, m * n * k);
  r.bytes_read = bytes_of(A) + bytes_of(B) + (beta != 0.0f ? bytes_of(C) : 0);
  r.bytes_written = bytes_of(C);
  run_and_record(r, [&] { gemm_hinted_impl(trans_a, trans_b, alpha, A, B, beta, C, hints, r); });
}

void Backend::gemv(Trans trans_a, float alpha, const Tensor& A, const Tensor& x, float beta,
                   Tensor& y) {
  check_on_device(A, "gemv(): A");
  check_on_device(x, "gemv(): x");
  check_on_device(y, "gemv(): y");
  check_dtype(A, DType::f32, "gemv(): A");
  check_dtype(x, DType::f32, "gemv(): x");
  check_dtype(y, DType::f32, "gemv(): y");
  const bool ta = trans_a == Trans::yes;
  const std::int64_t out_len = ta ? A.cols() : A.rows();
  const std::int64_t in_len = ta ? A.rows() : A.cols();
  check_vector(x, in_len, "gemv(): x");
  check_vector(y, out_len, "gemv(): y");
  check_no_overlap(y, A, "gemv()", "y", "A");
  check_no_overlap(y, x, "gemv()", "y", "x");
  OpRecord r = new_record("gemv", name(), "f32", out_len, 1, in_len, out_len * in_len);
  r.bytes_read = bytes_of(A) + bytes_of(x) + (beta != 0.0f ? bytes_of(y) : 0);
  r.bytes_written = bytes_of(y);
  run_and_record(r, [&] { gemv_impl(trans_a, alpha, A, x, beta, y, r); });
}

void Backend::sqdist(const Tensor& A, const Tensor& B, Tensor& D) {
  check_on_device(A, "sqdist(): A");
  check_on_device(B, "sqdist(): B");
  check_on_device(D, "sqdist(): D");
  check_dtype(A, DType::f32, "sqdist(): A");
  check_dtype(B, DType::f32, "sqdist(): B");
  check_dtype(D, DType::f32, "sqdist(): D");
  MLCORE_CHECK(A.cols() == B.cols(), "sqdist(): A and B need the same number of columns, got "
                                         << A.describe() << " and " << B.describe());
  check_shape(D, A.rows(), B.rows(), "sqdist(): D");
  check_no_overlap(D, A, "sqdist()", "D", "A");
  check_no_overlap(D, B, "sqdist()", "D", "B");
  const std::int64_t m = A.rows(), n = B.rows(), d = A.cols();
  OpRecord r = new_record("sqdist", name(), "f32", m, n, d, m * n * d + (m + n) * d);
  r.bytes_read = bytes_of(A) + bytes_of(B);
  r.bytes_written = bytes_of(D);
  run_and_record(r, [&] { sqdist_impl(A, B, D, r); });
}

void Backend::minkowski_dist(const Tensor& A, const Tensor& B, float p_exp, Tensor& D) {
  check_on_device(A, "minkowski_dist(): A");
  check_on_device(B, "minkowski_dist(): B");
  check_on_device(D, "minkowski_dist(): D");
  check_dtype(A, DType::f32, "minkowski_dist(): A");
  check_dtype(B, DType::f32, "minkowski_dist(): B");
  check_dtype(D, DType::f32, "minkowski_dist(): D");
  MLCORE_CHECK(p_exp > 0.0f, "minkowski_dist(): p must be > 0 (or +inf), got " << p_exp);
  MLCORE_CHECK(A.cols() == B.cols(),
               "minkowski_dist(): A and B need the same number of columns, got "
                   << A.describe() << " and " << B.describe());
  check_shape(D, A.rows(), B.rows(), "minkowski_dist(): D");
  check_no_overlap(D, A, "minkowski_dist()", "D", "A");
  check_no_overlap(D, B, "minkowski_dist()", "D", "B");
  const std::int64_t m = A.rows(), n = B.rows(), d = A.cols();
  OpRecord r = new_record("minkowski_dist", name(), "f32", m, n, d, 0);
  r.bytes_read = bytes_of(A) + bytes_of(B);
  r.bytes_written = bytes_of(D);
  run_and_record(r, [&] { minkowski_dist_impl(A, B, p_exp, D, r); });
}

// ---- sparse × dense ---------------------------------------------------------------------------

void Backend::spmm(Trans trans_a, float alpha, const CsrMatrix& A, const Tensor& B, float beta,
                   Tensor& C) {
  check_on_device(A.indptr, "spmm(): A's indptr");
  check_on_device(A.indices, "spmm(): A's indices");
  check_on_device(A.data, "spmm(): A's data");
  check_on_device(B, "spmm(): B");
  check_on_device(C, "spmm(): C");
  check_dtype(B, DType::f32, "spmm(): B");
  check_dtype(C, DType::f32, "spmm(): C");
  // The structure is checked where the host can read it; device arrays are copied to the host
  // for the check (counted: host↔device bytes of indptr and indices), so every backend raises
  // the same errors for the same matrix.
  if (A.device() == Device::host) {
    check_csr(A, "spmm(): A");
  } else {
    CsrMatrix host = A;
    host.indptr = to_host(A.indptr);
    host.indices = to_host(A.indices);
    check_csr(host, "spmm(): A");
  }
  const bool tra = trans_a == Trans::yes;
  const std::int64_t m = tra ? A.cols : A.rows, k = tra ? A.rows : A.cols;
  MLCORE_CHECK(B.rows() == k, "spmm(): B needs " << k << " rows (op(A) is " << m << " x " << k
                                                 << ", A " << A.describe() << "), got "
                                                 << B.describe());
  check_shape(C, m, B.cols(), "spmm(): C");
  check_no_overlap(C, B, "spmm()", "C", "B");
  check_no_overlap(C, A.data, "spmm()", "C", "A's data");
  const std::int64_t n = B.cols();
  OpRecord r = new_record(tra ? "spmm_t" : "spmm", name(), "f32", m, n, k, A.nnz() * n);
  // Compulsory traffic: A's three arrays, B (only the rows A's entries touch are needed, but a
  // row of B is read for every row of op(A)'s inner dimension that is not empty; counted whole),
  // and C (read too when β ≠ 0).
  r.bytes_read = bytes_of(A.indptr) + bytes_of(A.indices) + bytes_of(A.data) + bytes_of(B) +
                 (beta != 0.0f ? bytes_of(C) : 0);
  r.bytes_written = bytes_of(C);
  run_and_record(r, [&] { spmm_impl(trans_a, alpha, A, B, beta, C, r); });
}

// ---- row selections -------------------------------------------------------------------------

void Backend::argmin_rows(const Tensor& D, Tensor& index, Tensor& value) {
  check_on_device(D, "argmin_rows(): D");
  check_on_device(index, "argmin_rows(): index");
  check_on_device(value, "argmin_rows(): value");
  check_dtype(D, DType::f32, "argmin_rows(): D");
  check_dtype(index, DType::i32, "argmin_rows(): index");
  check_dtype(value, DType::f32, "argmin_rows(): value");
  MLCORE_CHECK(D.cols() >= 1 || D.rows() == 0,
               "argmin_rows(): D needs at least one column, got " << D.describe());
  check_vector(index, D.rows(), "argmin_rows(): index");
  check_vector(value, D.rows(), "argmin_rows(): value");
  OpRecord r = new_record("argmin_rows", name(), "f32", D.rows(), D.cols(), 0, 0);
  r.bytes_read = bytes_of(D);
  r.bytes_written = bytes_of(index) + bytes_of(value);
  run_and_record(r, [&] { argmin_rows_impl(D, index, value, r); });
}

void Backend::topk_rows(const Tensor& D, std::int64_t k, Tensor& index, Tensor& value) {
  check_on_device(D, "topk_rows(): D");
  check_on_device(index, "topk_rows(): index");
  check_on_device(value, "topk_rows(): value");
  check_dtype(D, DType::f32, "topk_rows(): D");
  check_dtype(index, DType::i32, "topk_rows(): index");
  check_dtype(value, DType::f32, "topk_rows(): value");
  MLCORE_CHECK(k >= 1 && k <= D.cols(), "topk_rows(): k must be in [1, " << D.cols() << "] for "
                                                                         << D.describe() << ", got "
                                                                         << k);
  check_shape(index, D.rows(), k, "topk_rows(): index");
  check_shape(value, D.rows(), k, "topk_rows(): value");
  OpRecord r = new_record("topk_rows", name(), "f32", D.rows(), D.cols(), k, 0);
  r.bytes_read = bytes_of(D);
  r.bytes_written = bytes_of(index) + bytes_of(value);
  run_and_record(r, [&] { topk_rows_impl(D, k, index, value, r); });
}

void Backend::sqdist_topk(const Tensor& A, const Tensor& B, std::int64_t k, Tensor& index,
                          Tensor& value) {
  check_on_device(A, "sqdist_topk(): A");
  check_on_device(B, "sqdist_topk(): B");
  check_on_device(index, "sqdist_topk(): index");
  check_on_device(value, "sqdist_topk(): value");
  check_dtype(A, DType::f32, "sqdist_topk(): A");
  check_dtype(B, DType::f32, "sqdist_topk(): B");
  check_dtype(index, DType::i32, "sqdist_topk(): index");
  check_dtype(value, DType::f32, "sqdist_topk(): value");
  MLCORE_CHECK(A.cols() == B.cols(), "sqdist_topk(): A and B need the same number of columns, got "
                                         << A.describe() << " and " << B.describe());
  MLCORE_CHECK(k >= 1 && k <= B.rows(), "sqdist_topk(): k must be in [1, "
                                            << B.rows() << "] for B " << B.describe() << ", got "
                                            << k);
  check_shape(index, A.rows(), k, "sqdist_topk(): index");
  check_shape(value, A.rows(), k, "sqdist_topk(): value");
  if (!fuses_sqdist_topk()) {
    Tensor D = empty(A.rows(), B.rows());
    sqdist(A, B, D);
    topk_rows(D, k, index, value);
    return;
  }
  const std::int64_t m = A.rows(), n = B.rows(), d = A.cols();
  OpRecord r = new_record("sqdist_topk", name(), "f32", m, n, d, m * n * d + (m + n) * d);
  r.bytes_read = bytes_of(A) + bytes_of(B);
  r.bytes_written = bytes_of(index) + bytes_of(value);
  run_and_record(r, [&] { sqdist_topk_impl(A, B, k, index, value, r); });
}

void Backend::sqdist_topk_impl(const Tensor&, const Tensor&, std::int64_t, Tensor&, Tensor&,
                               OpRecord&) {
  MLCORE_ASSERT(false,
                "sqdist_topk_impl called on backend " << name() << ", which does not fuse it");
}

// ---- element-wise and row-wise --------------------------------------------------------------

void Backend::map(MapFn fn, const Tensor& X, Tensor& Y, MapArgs args) {
  check_on_device(X, "map(): X");
  check_on_device(Y, "map(): Y");
  check_dtype(X, DType::f32, "map(): X");
  check_dtype(Y, DType::f32, "map(): Y");
  check_same_shape(X, Y, "map()");
  check_same_or_disjoint(Y, X, "map()");
  OpRecord r =
      new_record(std::string("map_") + map_fn_name(fn), name(), "f32", X.rows(), X.cols(), 0, 0);
  r.bytes_read = bytes_of(X);
  r.bytes_written = bytes_of(Y);
  run_and_record(r, [&] { map_impl(fn, X, Y, args, r); });
}

void Backend::softmax_rows(const Tensor& X, Tensor& Y, bool log) {
  check_on_device(X, "softmax_rows(): X");
  check_on_device(Y, "softmax_rows(): Y");
  check_dtype(X, DType::f32, "softmax_rows(): X");
  check_dtype(Y, DType::f32, "softmax_rows(): Y");
  check_same_shape(X, Y, "softmax_rows()");
  check_same_or_disjoint(Y, X, "softmax_rows()");
  OpRecord r = new_record(log ? "log_softmax_rows" : "softmax_rows", name(), "f32", X.rows(),
                          X.cols(), 0, 0);
  r.bytes_read = bytes_of(X);
  r.bytes_written = bytes_of(Y);
  run_and_record(r, [&] { softmax_rows_impl(X, Y, log, r); });
}

void Backend::axpby(float alpha, const Tensor& X, float beta, Tensor& Y) {
  check_on_device(X, "axpby(): X");
  check_on_device(Y, "axpby(): Y");
  check_dtype(X, DType::f32, "axpby(): X");
  check_dtype(Y, DType::f32, "axpby(): Y");
  check_same_shape(X, Y, "axpby()");
  check_same_or_disjoint(Y, X, "axpby()");
  OpRecord r = new_record("axpby", name(), "f32", X.rows(), X.cols(), 0, 0);
  r.bytes_read = bytes_of(X) + (beta != 0.0f ? bytes_of(Y) : 0);
  r.bytes_written = bytes_of(Y);
  run_and_record(r, [&] { axpby_impl(alpha, X, beta, Y, r); });
}

void Backend::multiply(const Tensor& X, Tensor& Y) {
  check_on_device(X, "multiply(): X");
  check_on_device(Y, "multiply(): Y");
  check_dtype(X, DType::f32, "multiply(): X");
  check_dtype(Y, DType::f32, "multiply(): Y");
  check_same_shape(X, Y, "multiply()");
  check_same_or_disjoint(Y, X, "multiply()");
  OpRecord r = new_record("multiply", name(), "f32", X.rows(), X.cols(), 0, 0);
  r.bytes_read = bytes_of(X) + bytes_of(Y);
  r.bytes_written = bytes_of(Y);
  run_and_record(r, [&] { multiply_impl(X, Y, r); });
}

void Backend::add_row_vector(float alpha, const Tensor& v, Tensor& Y) {
  check_on_device(v, "add_row_vector(): v");
  check_on_device(Y, "add_row_vector(): Y");
  check_dtype(v, DType::f32, "add_row_vector(): v");
  check_dtype(Y, DType::f32, "add_row_vector(): Y");
  check_vector(v, Y.cols(), "add_row_vector(): v");
  check_no_overlap(Y, v, "add_row_vector()", "Y", "v");
  OpRecord r = new_record("add_row_vector", name(), "f32", Y.rows(), Y.cols(), 0, 0);
  r.bytes_read = bytes_of(v) + bytes_of(Y);
  r.bytes_written = bytes_of(Y);
  run_and_record(r, [&] { add_row_vector_impl(alpha, v, Y, r); });
}

void Backend::scale_rows(const Tensor& w, Tensor& Y) {
  check_on_device(w, "scale_rows(): w");
  check_on_device(Y, "scale_rows(): Y");
  check_dtype(w, DType::f32, "scale_rows(): w");
  check_dtype(Y, DType::f32, "scale_rows(): Y");
  check_vector(w, Y.rows(), "scale_rows(): w");
  check_no_overlap(Y, w, "scale_rows()", "Y", "w");
  OpRecord r = new_record("scale_rows", name(), "f32", Y.rows(), Y.cols(), 0, 0);
  r.bytes_read = bytes_of(w) + bytes_of(Y);
  r.bytes_written = bytes_of(Y);
  run_and_record(r, [&] { scale_rows_impl(w, Y, r); });
}

// ---- scatter / gather -----------------------------------------------------------------------

void Backend::scatter_add(const Tensor& index, const Tensor& X, Tensor& out) {
  check_on_device(index, "scatter_add(): index");
  check_on_device(X, "scatter_add(): X");
  check_on_device(out, "scatter_add(): out");
  check_dtype(index, DType::i32, "scatter_add(): index");
  check_dtype(X, DType::f32, "scatter_add(): X");
  check_dtype(out, DType::f32, "scatter_add(): out");
  MLCORE_CHECK(index.rows() == X.rows(), "scatter_add(): index needs one row per sample of X, got "
                                             << index.describe() << " and " << X.describe());
  MLCORE_CHECK(out.cols() == X.cols(),
               "scatter_add(): out needs X's " << X.cols() << " columns, got " << out.describe());
  check_no_overlap(out, X, "scatter_add()", "out", "X");
  check_no_overlap(out, index, "scatter_add()", "out", "index");
  // Out-of-range indices would write outside `out`: check them on the host-visible backends.
  // (The CUDA backend checks on the device and raises the same error.)
  if (index.device() == Device::host) {
    const std::int32_t* idx = index.data<std::int32_t>();
    for (std::int64_t i = 0; i < index.numel(); ++i) {
      MLCORE_CHECK(idx[i] < out.rows(), "scatter_add(): index["
                                            << i / index.cols() << ", " << i % index.cols()
                                            << "] = " << idx[i] << " but out has only "
                                            << out.rows() << " rows");
    }
  }
  const std::int64_t n = X.rows(), p = index.cols(), c = X.cols();
  OpRecord r = new_record("scatter_add", name(), "f32", out.rows(), n, c, n * p * c);
  r.bytes_read = bytes_of(index) + bytes_of(X) + bytes_of(out);
  r.bytes_written = bytes_of(out);
  run_and_record(r, [&] { scatter_add_impl(index, X, out, r); });
}

void Backend::gather_rows(const Tensor& X, const Tensor& index, Tensor& Y) {
  check_on_device(X, "gather_rows(): X");
  check_on_device(index, "gather_rows(): index");
  check_on_device(Y, "gather_rows(): Y");
  check_dtype(index, DType::i32, "gather_rows(): index");
  MLCORE_CHECK(Y.dtype() == X.dtype(), "gather_rows(): Y must have X's dtype "
                                           << dtype_name(X.dtype()) << ", got " << Y.describe());
  check_vector(index, Y.rows(), "gather_rows(): index");
  MLCORE_CHECK(Y.cols() == X.cols(),
               "gather_rows(): Y needs X's " << X.cols() << " columns, got " << Y.describe());
  check_no_overlap(Y, X, "gather_rows()", "Y", "X");
  check_no_overlap(Y, index, "gather_rows()", "Y", "index");
  if (index.device() == Device::host) {
    const std::int32_t* idx = index.data<std::int32_t>();
    for (std::int64_t i = 0; i < index.numel(); ++i) {
      MLCORE_CHECK(idx[i] >= 0 && idx[i] < X.rows(), "gather_rows(): index["
                                                         << i << "] = " << idx[i]
                                                         << " is outside [0, " << X.rows() << ")");
    }
  }
  OpRecord r =
      new_record("gather_rows", name(), dtype_name(X.dtype()), Y.rows(), X.rows(), X.cols(), 0);
  r.bytes_read = bytes_of(index) + bytes_of(Y);  // only the gathered rows are read
  r.bytes_written = bytes_of(Y);
  run_and_record(r, [&] { gather_rows_impl(X, index, Y, r); });
}

// ---- histograms -----------------------------------------------------------------------------

namespace {

// The largest code each feature takes over the listed rows: max[p] over k of codes[rows[k], p].
// One pass of byte-wise maxima (the compiler turns the inner loop into pmaxub, 16 codes an
// instruction), some 10× cheaper than the scatter it guards.
std::vector<std::uint8_t> max_codes(const std::uint8_t* codes, std::int64_t P,
                                    const std::int32_t* rows, std::int64_t m) {
  std::vector<std::uint8_t> mx(static_cast<std::size_t>(P), 0);
  std::uint8_t* out = mx.data();
  for (std::int64_t k = 0; k < m; ++k) {
    const std::uint8_t* c = codes + static_cast<std::int64_t>(rows[k]) * P;
    for (std::int64_t p = 0; p < P; ++p) out[p] = std::max(out[p], c[p]);
  }
  return mx;
}

}  // namespace

void Backend::histogram(const Tensor& codes, const Tensor& offsets, const Tensor& rows,
                        const Tensor& X, Tensor& out) {
  check_on_device(codes, "histogram(): codes");
  check_on_device(offsets, "histogram(): offsets");
  check_on_device(rows, "histogram(): rows");
  check_on_device(X, "histogram(): X");
  check_on_device(out, "histogram(): out");
  check_dtype(codes, DType::i8, "histogram(): codes (unsigned bin codes stored as i8)");
  check_dtype(offsets, DType::i32, "histogram(): offsets");
  check_dtype(rows, DType::i32, "histogram(): rows");
  MLCORE_CHECK(X.dtype() == DType::f32 || X.dtype() == DType::i64,
               "histogram(): X must be f32 or i64, got " << X.describe());
  check_dtype(out, X.dtype(), "histogram(): out (X's dtype)");
  MLCORE_CHECK(codes.rows() == X.rows(), "histogram(): codes needs one row per sample of X, got "
                                             << codes.describe() << " and " << X.describe());
  check_vector(offsets, codes.cols(), "histogram(): offsets (one per column of codes)");
  MLCORE_CHECK(rows.rows() == 1 || rows.cols() == 1,
               "histogram(): rows must be a vector (m x 1 or 1 x m), got " << rows.describe());
  MLCORE_CHECK(out.cols() == X.cols(),
               "histogram(): out needs X's " << X.cols() << " columns, got " << out.describe());
  check_no_overlap(out, X, "histogram()", "out", "X");
  check_no_overlap(out, codes, "histogram()", "out", "codes");
  check_no_overlap(out, offsets, "histogram()", "out", "offsets");
  check_no_overlap(out, rows, "histogram()", "out", "rows");
  const std::int64_t n = X.rows(), P = codes.cols(), c = X.cols(), m = rows.numel();
  const std::int64_t bins = out.rows();
  // Range checks where the host can see the data (the CUDA backend checks on the device and
  // raises the same errors). Rows: O(m). Codes: when every feature's offset leaves room for
  // all 256 codes below `bins` nothing can go out of range and no code is read; otherwise one
  // vectorised pass finds each feature's largest listed code.
  std::int64_t active = 0, max_offset = -1;
  if (offsets.device() == Device::host) {
    const std::int32_t* off = offsets.data<std::int32_t>();
    for (std::int64_t p = 0; p < P; ++p) {
      if (off[p] < 0) continue;
      ++active;
      max_offset = std::max<std::int64_t>(max_offset, off[p]);
    }
  } else {
    active = P;  // counted as all features: the offsets are on the device
  }
  if (rows.device() == Device::host) {
    const std::int32_t* r = rows.data<std::int32_t>();
    for (std::int64_t k = 0; k < m; ++k) {
      MLCORE_CHECK(r[k] >= 0 && r[k] < n,
                   "histogram(): rows[" << k << "] = " << r[k] << " is outside [0, " << n << ")");
    }
    if (max_offset >= 0 && max_offset + 255 >= bins) {
      const auto* cd = reinterpret_cast<const std::uint8_t*>(codes.raw());
      const std::int32_t* off = offsets.data<std::int32_t>();
      const std::vector<std::uint8_t> mx = max_codes(cd, P, r, m);
      for (std::int64_t p = 0; p < P; ++p) {
        if (off[p] < 0 || std::int64_t{off[p]} + mx[p] < bins) continue;
        std::int64_t k = 0;  // the first offending row, for the message
        while (std::int64_t{off[p]} + cd[std::int64_t{r[k]} * P + p] < bins) ++k;
        MLCORE_FAIL("histogram(): offsets["
                    << p << "] + codes[" << r[k] << ", " << p << "] = " << off[p] << " + "
                    << int(cd[std::int64_t{r[k]} * P + p]) << " but out has only " << bins
                    << " rows");
      }
    }
  }
  OpRecord rec = new_record("histogram", name(), dtype_name(X.dtype()), bins, m, c, m * active * c);
  // Compulsory traffic: the listed rows' ids, codes and statistics, the offsets, and out.
  const std::int64_t elem = static_cast<std::int64_t>(dtype_size(X.dtype()));
  rec.bytes_read = 4 * m + m * P + elem * m * c + bytes_of(offsets) + bytes_of(out);
  rec.bytes_written = bytes_of(out);
  run_and_record(rec, [&] { histogram_impl(codes, offsets, rows, X, out, rec); });
}

// ---- reductions -----------------------------------------------------------------------------

void Backend::reduce_cols(Reduce op, const Tensor& X, Tensor& out) {
  check_on_device(X, "reduce_cols(): X");
  check_on_device(out, "reduce_cols(): out");
  check_dtype(X, DType::f32, "reduce_cols(): X");
  check_dtype(out, DType::f32, "reduce_cols(): out");
  MLCORE_CHECK(X.rows() >= 1, "reduce_cols(): X needs at least one row, got " << X.describe());
  check_vector(out, X.cols(), "reduce_cols(): out");
  check_no_overlap(out, X, "reduce_cols()", "out", "X");
  // A column sum is a GEMV against a ones vector: m·n MACs (variance: two passes, 2·m·n).
  const std::int64_t passes = op == Reduce::var ? 2 : 1;
  OpRecord r = new_record(std::string("reduce_cols_") + reduce_name(op), name(), "f32", X.rows(),
                          X.cols(), 0, passes * X.rows() * X.cols());
  r.bytes_read = bytes_of(X);
  r.bytes_written = bytes_of(out);
  run_and_record(r, [&] { reduce_cols_impl(op, X, out, r); });
}

// ---- trees ------------------------------------------------------------------------------------

namespace {

// The checks both tree walks share. Where the host can see the table (every backend but cuda,
// which checks on the device with the same messages), each split node's children must lie
// after it and inside the table, and its feature inside X: O(N) work, a small part of a walk
// of m ≫ 1 rows, and it makes every walk end inside the table.
void check_tree_walk(const Tensor& nodes, const Tensor& roots, const Tensor& X, const char* op) {
  check_dtype(nodes, DType::i32, op);
  MLCORE_CHECK(nodes.cols() == 4 && nodes.rows() >= 1,
               op << ": nodes must be N x 4 (TreeWalkNode rows), N >= 1, got " << nodes.describe());
  check_dtype(roots, DType::i32, op);
  MLCORE_CHECK(roots.numel() >= 1 && (roots.rows() == 1 || roots.cols() == 1),
               op << ": roots must be a vector of at least one tree, got " << roots.describe());
  check_dtype(X, DType::f32, op);
  const std::int64_t N = nodes.rows();
  if (roots.device() == Device::host) {
    const std::int32_t* r = roots.data<std::int32_t>();
    for (std::int64_t t = 0; t < roots.numel(); ++t) {
      MLCORE_CHECK(r[t] >= 0 && r[t] < N,
                   op << ": roots[" << t << "] = " << r[t] << " is outside [0, " << N << ")");
    }
  }
  if (nodes.device() == Device::host) {
    const auto* nd = reinterpret_cast<const TreeWalkNode*>(nodes.raw());
    for (std::int64_t j = 0; j < N; ++j) {
      if (nd[j].left < 0) continue;
      MLCORE_CHECK(nd[j].left > j && nd[j].left < N && nd[j].right > j && nd[j].right < N,
                   op << ": node " << j << "'s children " << nd[j].left << ", " << nd[j].right
                      << " must lie after it and before " << N);
      const std::int64_t f = nd[j].feature_and_missing & 0x7fffffffu;
      MLCORE_CHECK(f < X.cols(), op << ": node " << j << " splits on feature " << f << " but X has "
                                    << X.cols() << " columns");
    }
  }
}

}  // namespace

void Backend::tree_walk(const Tensor& nodes, const Tensor& roots, const Tensor& X, Tensor& leaf) {
  check_on_device(nodes, "tree_walk(): nodes");
  check_on_device(roots, "tree_walk(): roots");
  check_on_device(X, "tree_walk(): X");
  check_on_device(leaf, "tree_walk(): leaf");
  check_tree_walk(nodes, roots, X, "tree_walk()");
  check_dtype(leaf, DType::i32, "tree_walk(): leaf");
  check_shape(leaf, X.rows(), roots.numel(), "tree_walk(): leaf (rows of X x trees)");
  check_no_overlap(leaf, X, "tree_walk()", "leaf", "X");
  check_no_overlap(leaf, nodes, "tree_walk()", "leaf", "nodes");
  check_no_overlap(leaf, roots, "tree_walk()", "leaf", "roots");
  // m = rows, n = trees, k = nodes; no MACs (a walk only compares).
  OpRecord r = new_record("tree_walk", name(), "f32", X.rows(), roots.numel(), nodes.rows(), 0);
  r.bytes_read = bytes_of(nodes) + bytes_of(roots) + bytes_of(X);
  r.bytes_written = bytes_of(leaf);
  run_and_record(r, [&] { tree_walk_impl(nodes, roots, X, nullptr, 1.0, leaf, r); });
}

void Backend::tree_walk_sum(const Tensor& nodes, const Tensor& roots, const Tensor& values,
                            const Tensor& X, double scale, Tensor& out) {
  check_on_device(nodes, "tree_walk_sum(): nodes");
  check_on_device(roots, "tree_walk_sum(): roots");
  check_on_device(values, "tree_walk_sum(): values");
  check_on_device(X, "tree_walk_sum(): X");
  check_on_device(out, "tree_walk_sum(): out");
  check_tree_walk(nodes, roots, X, "tree_walk_sum()");
  check_dtype(values, DType::f32, "tree_walk_sum(): values");
  MLCORE_CHECK(values.rows() == nodes.rows() && values.cols() >= 1,
               "tree_walk_sum(): values needs one row per node (" << nodes.rows() << "), got "
                                                                  << values.describe());
  check_dtype(out, DType::f32, "tree_walk_sum(): out");
  check_shape(out, X.rows(), values.cols(), "tree_walk_sum(): out (rows of X x columns of values)");
  MLCORE_CHECK(std::isfinite(scale), "tree_walk_sum(): scale must be finite, got " << scale);
  for (const Tensor* in : {&X, &nodes, &roots, &values}) {
    check_no_overlap(out, *in, "tree_walk_sum()", "out", "an input");
  }
  // The additions of the leaf values are counted as MACs, as scatter_add's are.
  const std::int64_t m = X.rows(), T = roots.numel(), c = values.cols();
  OpRecord r = new_record("tree_walk_sum", name(), "f32", m, T, nodes.rows(), m * T * c);
  r.bytes_read = bytes_of(nodes) + bytes_of(roots) + bytes_of(values) + bytes_of(X);
  r.bytes_written = bytes_of(out);
  run_and_record(r, [&] { tree_walk_impl(nodes, roots, X, &values, scale, out, r); });
}

namespace {

// partition_rows' ids in [0, n): one pass OR-ing the top bits of each id and of (n − 1 − id),
// one of them set only for an id outside the range, in i32 lanes with no branch or early exit, so
// the baseline compiler vectorises it (4 ids per SSE2 instruction: a tree checks each of its rows
// once per level). The loop that names the row runs only on failure.
void check_row_ids(const std::int32_t* ids, std::int64_t m, std::int64_t n) {
  // Unsigned arithmetic: the subtraction wraps instead of overflowing (a negative id's own
  // sign bit already marks it).
  const auto last = static_cast<std::uint32_t>(std::min<std::int64_t>(n, INT32_MAX) - 1);
  std::uint32_t signs = 0;
  for (std::int64_t k = 0; k < m; ++k) {
    const auto id = static_cast<std::uint32_t>(ids[k]);
    signs |= id | (last - id);
  }
  if ((signs >> 31) == 0) return;
  std::int64_t k = 0;
  while (ids[k] >= 0 && ids[k] < n) ++k;
  MLCORE_FAIL("partition_rows(): rows[" << k << "] = " << ids[k] << " is outside [0, " << n
                                        << ") (columns of codes)");
}

}  // namespace

std::int64_t Backend::partition_rows(const Tensor& codes, const RowSplit& split, Tensor& rows) {
  check_on_device(codes, "partition_rows(): codes");
  check_on_device(rows, "partition_rows(): rows");
  check_dtype(codes, DType::i8, "partition_rows(): codes (unsigned bin codes stored as i8)");
  check_dtype(rows, DType::i32, "partition_rows(): rows");
  MLCORE_CHECK(rows.rows() == 1 || rows.cols() == 1,
               "partition_rows(): rows must be a vector (m x 1 or 1 x m), got " << rows.describe());
  MLCORE_CHECK(split.feature >= 0 && split.feature < codes.rows(),
               "partition_rows(): split.feature = " << split.feature << " is outside [0, "
                                                    << codes.rows() << ") (rows of codes)");
  MLCORE_CHECK(split.bin >= 0 && split.bin <= 255,
               "partition_rows(): split.bin = " << split.bin << " is outside [0, 255]");
  MLCORE_CHECK(
      split.missing_code >= 0 && split.missing_code <= 255,
      "partition_rows(): split.missing_code = " << split.missing_code << " is outside [0, 255]");
  check_no_overlap(rows, codes, "partition_rows()", "rows", "codes");
  const std::int64_t n = codes.cols(), m = rows.numel();
  // m = rows, n = samples, k = features; no MACs (one compare per row). Bytes: the ids read
  // and written, and one code per id.
  OpRecord r = new_record("partition_rows", name(), "i8", m, n, codes.rows(), 0);
  r.bytes_read = m * static_cast<std::int64_t>(sizeof(std::int32_t) + 1);
  r.bytes_written = m * static_cast<std::int64_t>(sizeof(std::int32_t));
  std::int64_t n_left = 0;
  run_and_record(r, [&] {
    // Row ids are checked where the host can see them (the CUDA backend checks on the device
    // and raises the same error), inside the timed call: the check reads the ids as the
    // partition does, O(m) like it, and belongs to the primitive's cost, not the caller's.
    if (rows.device() == Device::host) check_row_ids(rows.data<std::int32_t>(), m, n);
    n_left = partition_rows_impl(codes, split, rows, r);
  });
  return n_left;
}

const char* gradient_loss_name(GradientLoss loss) {
  switch (loss) {
    case GradientLoss::squared_error:
      return "squared_error";
    case GradientLoss::binary_log_loss:
      return "binary_log_loss";
    case GradientLoss::softmax_log_loss:
      return "softmax_log_loss";
    case GradientLoss::half_poisson:
      return "half_poisson";
    case GradientLoss::half_gamma:
      return "half_gamma";
  }
  return "?";
}

void Backend::loss_gradients(GradientLoss loss, const Tensor& y, const Tensor& raw,
                             const Tensor& weight, Tensor& grad, Tensor& hess, Tensor& ranges) {
  constexpr const char* op = "loss_gradients()";
  // weight and hess may be left empty (any dtype then).
  for (const auto& [t, what] : {std::pair<const Tensor*, const char*>{&y, "loss_gradients(): y"},
                                {&raw, "loss_gradients(): raw"},
                                {&weight, "loss_gradients(): weight"},
                                {&grad, "loss_gradients(): grad"},
                                {&hess, "loss_gradients(): hess"},
                                {&ranges, "loss_gradients(): ranges"}}) {
    if (t->numel() == 0 && (t == &weight || t == &hess)) continue;
    check_on_device(*t, what);
    check_dtype(*t, DType::f64, what);
  }
  const std::int64_t n = raw.rows(), K = raw.cols();
  MLCORE_CHECK(n >= 1 && K >= 1,
               op << ": raw must be n x K with n, K >= 1, got " << raw.describe());
  MLCORE_CHECK(loss == GradientLoss::softmax_log_loss || K == 1,
               op << ": raw must have 1 column for " << gradient_loss_name(loss) << ", got "
                  << raw.describe());
  check_vector(y, n, "loss_gradients(): y (one per row of raw)");
  const bool weighted = weight.numel() > 0;
  if (weighted) check_vector(weight, n, "loss_gradients(): weight (one per row of raw)");
  check_shape(grad, n, K, "loss_gradients(): grad (raw's shape)");
  const bool unit_hessian = loss == GradientLoss::squared_error && !weighted;
  if (!unit_hessian || hess.numel() > 0) {
    check_shape(hess, n, K, "loss_gradients(): hess (raw's shape)");
  }
  check_shape(ranges, 2, K, "loss_gradients(): ranges (2 x raw's columns)");
  for (const Tensor* out : {&grad, &hess, &ranges}) {
    for (const Tensor* in : {&y, &raw, &weight}) {
      check_no_overlap(*out, *in, op, "an output", "an input");
    }
  }
  check_no_overlap(grad, hess, op, "grad", "hess");
  check_no_overlap(grad, ranges, op, "grad", "ranges");
  check_no_overlap(hess, ranges, op, "hess", "ranges");
  // Class codes must name a column of raw (softmax reads raw[i, y_i]'s indicator): checked
  // where the host can see them, inside the timed call (an O(n) read of y, as the op's).
  // m = samples, n = classes; no MACs (exp, divides and a few flops per element).
  OpRecord r = new_record("loss_gradients", name(), "f64", n, K, 1, 0);
  r.bytes_read = bytes_of(y) + bytes_of(raw) + bytes_of(weight);
  r.bytes_written = bytes_of(grad) + (unit_hessian ? 0 : bytes_of(hess)) + bytes_of(ranges);
  run_and_record(r, [&] {
    if (is_class_loss(loss) && y.device() == Device::host) {
      const double* yv = y.data<double>();
      const double top = loss == GradientLoss::softmax_log_loss ? double(K - 1) : 1.0;
      // One branch-free pass (a truncation, not a floor call, tests wholeness), then the loop
      // that names the value only on failure.
      auto is_code = [&](double v) {
        return v >= 0 && v <= top && v == static_cast<double>(static_cast<std::int64_t>(v));
      };
      bool all = true;
      for (std::int64_t i = 0; i < n; ++i) all &= is_code(yv[i]);
      for (std::int64_t i = 0; !all && i < n; ++i) {
        MLCORE_CHECK(is_code(yv[i]), op << ": y[" << i << "] = " << yv[i]
                                        << " is not a class code in [0, "
                                        << static_cast<std::int64_t>(top) << "]");
      }
    }
    loss_gradients_impl(loss, y, raw, weight, grad, hess, ranges, r);
  });
}

}  // namespace mlcore
