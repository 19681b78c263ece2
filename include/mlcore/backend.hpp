// Backend: the small set of primitives every algorithm is written against.
//
// Almost all of classic ML is a handful of multiply-accumulate (MAC) patterns: least squares is
// XᵀX, k-means and kNN are distance matrices, naive Bayes and linear models are X·W, a histogram
// tree is a scatter-add. Each algorithm in mlcore is written once against this interface, and
// each backend (scalar, avx2, cuda, systolic) implements it for one kind of machine.
//
// Conventions for every primitive:
//   * Tensors are row-major (see tensor.hpp) and must live on this backend's device
//     (to_device / to_host move them; on the CPU backends both are free).
//   * Outputs are passed in, already allocated with the right shape (empty() allocates on the
//     device); they are overwritten unless the doc says "accumulates". An output must not
//     overlap an input unless the doc says in-place is allowed.
//   * Caller mistakes (shape, dtype, device) throw mlcore::Error naming the values.
//   * Each call appends one OpRecord to the profiles installed with ProfileScope.
//
// The public methods are non-virtual: they check arguments, time the call and fill the record,
// then call the protected *_impl hook a backend overrides. So every backend gets identical
// validation and identical MAC/byte accounting, and a backend's code is only the arithmetic.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "mlcore/profile.hpp"
#include "mlcore/sparse.hpp"
#include "mlcore/tensor.hpp"

namespace mlcore {

// Whether a matrix operand is used as stored or transposed: op(A) = A or Aᵀ.
enum class Trans : std::uint8_t { no, yes };

// The closed set of element-wise functions of map(). Each is applied to u = scale·x + shift.
enum class MapFn : std::uint8_t {
  identity,    // u
  exp,         // eᵘ
  log,         // ln u            (u ≤ 0 gives -inf / NaN, as in IEEE arithmetic)
  sigmoid,     // 1 / (1 + e⁻ᵘ)   (computed without overflow for large |u|)
  tanh,        // tanh u
  sqrt,        // √u
  square,      // u²
  abs,         // |u|
  relu,        // max(u, 0)
  reciprocal,  // 1 / u
  pow,         // uᵖ, p = MapArgs::exponent (a polynomial kernel's degree)
  log1pexp,    // ln(1 + eᵘ), the softplus, computed without overflow (logistic loss)
};
const char* map_fn_name(MapFn fn);

struct MapArgs {
  float scale = 1.0f;
  float shift = 0.0f;
  float exponent = 1.0f;  // used by MapFn::pow only
};

// The ceilings of the machine a backend runs on: what a roofline plot draws and what "% of peak"
// divides by. Zero means unknown.
struct MachinePeaks {
  double macs_per_second = 0;   // peak multiply-accumulates per second (f32; int8 on systolic)
  double bytes_per_second = 0;  // bandwidth of the memory the primitives stream operands from
  std::string source;           // how the figures were obtained ("measured: ...", "config: ...")
};

// What a caller knows about a gemm's f32 operands that an int8 backend needs to represent them
// well (docs/ARCHITECTURE.md, "int8 numerics"). The product is the same: an f32 backend ignores
// the hints; an int8 backend (the systolic array) may spend extra passes, recorded in the call's
// profile record (SimCounters::passes) with the error that remains (OpRecord::quant_error).
struct GemmHints {
  // The entries of each column of op(B) span orders of magnitude and the small ones matter
  // (GaussianNB's precisions 1/σ²: ~10⁹ for a feature constant within a class, ~1 for the
  // others). One int8 scale per column would round the small ones to 0; an int8 backend cuts
  // op(B) into magnitude bands instead, one int8 pass per band.
  bool wide_range_b = false;
  // Only the differences within each row of C are used (a softmax or an argmax over the row
  // follows), so C may come back moved by any constant per row. An int8 backend then subtracts
  // a constant from each row of op(B) (which moves each row of C by a constant) to narrow
  // op(B)'s range before quantizing it.
  bool rows_up_to_constant = false;
};

// One node of a decision tree in the flat form tree_walk() reads (16 bytes, so a depth-10 tree
// of 2047 nodes is 32 KB, inside L1): a Tensor of N × 4 i32 holds N of them, one per row.
//   left, right:  rows of the node table (absolute: several trees share one table); left < 0
//                 marks a leaf, whose other fields are ignored. A child's row must be greater
//                 than its parent's (every walk then ends; Backend checks it).
//   feature_and_missing: the split's feature in the low 31 bits; the top bit set sends a NaN
//                 left (missing_left).
//   threshold:    a sample goes left when x[feature] ≤ threshold (stored in the i32 column by
//                 its bit pattern).
struct TreeWalkNode {
  std::int32_t left = -1, right = -1;
  std::uint32_t feature_and_missing = 0;
  float threshold = 0;
};
static_assert(sizeof(TreeWalkNode) == 16, "a node is one row of an N x 4 i32 tensor");

// A tree node's split on binned codes, as partition_rows() applies it: a row whose code c of
// `feature` is `missing_code` (the feature's NaN bin) goes left when missing_left; any other
// row goes left when c ≤ bin.
struct RowSplit {
  std::int32_t feature = 0;
  std::int32_t bin = 0;           // in [0, 255]
  std::int32_t missing_code = 0;  // in [0, 255]
  bool missing_left = false;
};

// The losses of loss_gradients() (gradient boosting's).
// half_poisson and half_gamma are scikit-learn's HalfPoissonLoss / HalfGammaLoss with the log
// link (raw = log of the predicted mean): g = e^raw − y, h = e^raw; g = 1 − y·e^−raw, h = y·e^−raw.
enum class GradientLoss : std::uint8_t {
  squared_error,
  binary_log_loss,
  softmax_log_loss,
  half_poisson,
  half_gamma
};
// Whether y holds class codes (the log losses) rather than targets.
inline bool is_class_loss(GradientLoss loss) {
  return loss == GradientLoss::binary_log_loss || loss == GradientLoss::softmax_log_loss;
}
const char* gradient_loss_name(GradientLoss loss);

// Column reductions of reduce_cols().
enum class Reduce : std::uint8_t { sum, mean, var };  // var: population variance (ddof = 0)
const char* reduce_name(Reduce r);

// What a backend's arithmetic and clock are. Code and tests that must treat backends differently
// ask this, never the backend's name, so a new backend (an int8 matrix engine, another
// simulator) is handled by what it is, not by a list of names someone must remember to extend.
struct Capabilities {
  // f32 GEMMs are computed in f32 arithmetic (IEEE products, f32-or-wider sums). false: the
  // backend quantizes f32 operands to int8 inside its GEMM (the systolic array, an int8 matrix
  // engine), so its f32 results carry quantization error, recorded in the profile.
  bool exact_f32 = true;
  // The profile's seconds come from a model of the hardware (cycles at a clock), not from a
  // clock on this machine (OpRecord::seconds_simulated).
  bool simulated_time = false;
};

class Backend {
 public:
  virtual ~Backend() = default;

  // The registry name ("scalar", "avx2", "avx512", "cuda", "amx", "systolic").
  virtual std::string name() const = 0;
  // A one-line human description with its configuration ("avx2: 2 threads, AVX2+FMA").
  virtual std::string description() const { return name(); }
  // Where this backend's tensors live (anything but host: to_device / to_host copy).
  virtual Device device() const { return Device::host; }
  // What its arithmetic and its clock are (see Capabilities).
  virtual Capabilities capabilities() const { return {}; }
  // The machine's compute and bandwidth ceilings (measured once and cached on CPU backends,
  // from the configuration on the simulator, from the device properties on CUDA).
  virtual MachinePeaks peaks() const { return {0, 0, "unknown"}; }

  // ---- memory ---------------------------------------------------------------------------
  // A zero-filled tensor on this backend's device.
  Tensor empty(std::int64_t rows, std::int64_t cols, DType dtype = DType::f32);
  // A copy of host tensor `t` on this device (CPU backends return `t` itself, no copy). Counted
  // in the profile as host→device bytes.
  Tensor to_device(const Tensor& t);
  // A host tensor with the contents of `t` (CPU backends return `t` itself). Counted as
  // device→host bytes.
  Tensor to_host(const Tensor& t);
  // Every element of `Y` set to `value` (f32 or i32 tensors).
  void fill(Tensor& Y, float value);

  // ---- multiply-accumulate primitives -----------------------------------------------------
  // C ← α·op(A)·op(B) + β·C.   op(A): m × k, op(B): k × n, C: m × n.
  // f32: A, B, C all f32. int8: A, B i8 and C i32, with α = 1 and β ∈ {0, 1} (exact integer
  // arithmetic, the path of int8 tensor cores and systolic arrays). β = 0 ignores C's contents.
  void gemm(Trans trans_a, Trans trans_b, float alpha, const Tensor& A, const Tensor& B, float beta,
            Tensor& C);
  // The same product, with what the caller knows about the operands (GemmHints; f32 only).
  void gemm(Trans trans_a, Trans trans_b, float alpha, const Tensor& A, const Tensor& B, float beta,
            Tensor& C, const GemmHints& hints);
  // y ← α·op(A)·x + β·y.   A: m × n; x: vector of length n (m if transposed); y: length m (n).
  void gemv(Trans trans_a, float alpha, const Tensor& A, const Tensor& x, float beta, Tensor& y);
  // D[i, j] = ‖a_i − b_j‖², clamped at 0.   A: m × d, B: n × d, D: m × n (all f32).
  // Computed as ‖a‖² + ‖b‖² − 2·A·Bᵀ: m·n·d MACs for the GEMM plus (m + n)·d for the norms.
  void sqdist(const Tensor& A, const Tensor& B, Tensor& D);
  // D[i, j] = Σ_p |a_ip − b_jp|^p_exp for a finite p_exp > 0, or max_p |a_ip − b_jp| for
  // p_exp = +∞ (Chebyshev); below 1 it is a semi-metric (no triangle inequality), which brute
  // force still searches correctly. A: m × d, B: n × d, D: m × n (all f32). The Minkowski distance
  // is D^(1/p_exp); the root is left to the caller because it keeps the order (a nearest-row search
  // takes it of its k winners only). Unlike sqdist this is no GEMM: it has no multiply-adds to
  // hand a matrix unit (its record counts 0 MACs), so every backend runs it on its vector lanes
  // (the systolic simulator on its vector unit) — the lesson of metrics other than Euclidean.
  void minkowski_dist(const Tensor& A, const Tensor& B, float p_exp, Tensor& D);

  // ---- sparse × dense ----------------------------------------------------------------------
  // C ← α·op(A)·B + β·C with A sparse (CsrMatrix, m × k; sparse.hpp) and B, C dense f32:
  //   trans_a = no:   op(A) = A,  B: k × n, C: m × n   (X·W for sparse X: predictions, scores)
  //   trans_a = yes:  op(A) = Aᵀ, B: m × n, C: k × n   (Xᵀ·G: gradients, XᵀX by column blocks)
  // β = 0 ignores C's contents. nnz·n MACs: only the stored entries are multiplied (the
  // systolic array, which multiplies dense tiles, reports the zeros it multiplied as
  // SimCounters::wasted_macs). A is checked (check_csr) on every call: O(rows + nnz).
  // The plain loop (no transpose):
  //   for i < m:  C[i, :] = β·C[i, :];  for p in [indptr[i], indptr[i+1]):
  //                                        C[i, :] += α·data[p]·B[indices[p], :]
  void spmm(Trans trans_a, float alpha, const CsrMatrix& A, const Tensor& B, float beta, Tensor& C);

  // ---- row selections ---------------------------------------------------------------------
  // For each row i of D (m × n, f32, n ≥ 1): index[i] = argmin_j D[i, j] (the first on ties),
  // value[i] = that minimum. index: m × 1 i32, value: m × 1 f32. NaNs are never chosen unless
  // the row is all NaN (then index 0).
  void argmin_rows(const Tensor& D, Tensor& index, Tensor& value);
  // The k smallest entries of each row of D (m × n), sorted ascending, ties broken by the lower
  // column index. index: m × k i32, value: m × k f32; 1 ≤ k ≤ n.
  void topk_rows(const Tensor& D, std::int64_t k, Tensor& index, Tensor& value);
  // The nearest-row search of kNN (k neighbours) and k-means (k = 1): for each row of A, the k
  // rows of B nearest to it — exactly topk_rows(sqdist(A, B), k), the same indices and values.
  // A: m × d, B: n × d, 1 ≤ k ≤ n; index: m × k i32, value: m × k f32. A backend that fuses the
  // two (fuses_sqdist_topk) never writes the m × n distances and records one op; the others run
  // and record sqdist and topk_rows over a temporary m × n block.
  void sqdist_topk(const Tensor& A, const Tensor& B, std::int64_t k, Tensor& index, Tensor& value);
  // Whether sqdist_topk is one fused pass here. A caller that searches in blocks keeps its own
  // distance block for the composition and needs none when the backend fuses (kNN, k-means).
  virtual bool fuses_sqdist_topk() const { return false; }

  // ---- element-wise and row-wise ----------------------------------------------------------
  // Y = f(scale·X + shift) element-wise. X, Y: same shape, f32. In-place (Y is X) allowed.
  void map(MapFn fn, const Tensor& X, Tensor& Y, MapArgs args = {});
  // Y[i, :] = softmax(X[i, :]) (or log_softmax when `log`), computed stably (max subtracted).
  // X, Y: m × n f32; in-place allowed.
  void softmax_rows(const Tensor& X, Tensor& Y, bool log = false);
  // Y ← α·X + β·Y. X, Y: same shape, f32. β = 0 ignores Y's contents.
  void axpby(float alpha, const Tensor& X, float beta, Tensor& Y);
  // Y ← X ⊙ Y (element-wise product). X, Y: same shape, f32.
  void multiply(const Tensor& X, Tensor& Y);
  // Y[i, j] += α·v[j] for every row i (a row vector broadcast over rows: a bias, a mean).
  // Y: m × n f32; v: vector of length n.
  void add_row_vector(float alpha, const Tensor& v, Tensor& Y);
  // Y[i, j] *= w[i] for every column j (per-sample weights). Y: m × n f32; w: vector of length m.
  void scale_rows(const Tensor& w, Tensor& Y);

  // ---- scatter / gather -------------------------------------------------------------------
  // Accumulates: for each sample i and each index column p with index[i, p] ≥ 0,
  //   out[index[i, p], :] += X[i, :].
  // index: n × P i32 (P = 1 for k-means' labels; P = n_features for a tree's histograms, where
  // index[i, f] = f·n_bins + bin[i, f]); X: n × c f32; out: m × c f32; entries must be < m.
  // Negative entries are skipped (a sample outside the current tree node, say).
  void scatter_add(const Tensor& index, const Tensor& X, Tensor& out);
  // Y[i, :] = X[index[i], :]. X: n × c (any dtype); index: vector of length m, i32, each in
  // [0, n); Y: m × c of X's dtype.
  void gather_rows(const Tensor& X, const Tensor& index, Tensor& Y);

  // ---- histograms ---------------------------------------------------------------------------
  // Accumulates the per-bin sums of the listed samples, the one hot loop of a histogram tree:
  //   for each k < m with r = rows[k], and each feature p with offsets[p] ≥ 0,
  //     out[offsets[p] + code(r, p), :] += X[r, :]
  // codes: n × P, dtype i8 but read as *unsigned* bytes: code(r, p) = (uint8) codes[r, p] in
  // [0, 255] (the Tensor has no u8 dtype; a one-byte code keeps four times more of a node's rows
  // in cache than an i32 index); offsets: vector of length P, i32, a negative one skips feature
  // p; rows: vector of length m ≥ 0, i32, each in [0, n), repeats allowed; X: n × c, f32 or
  // i64; out: B × c of X's dtype, and every offsets[p] + code(r, p) of a listed row must be < B.
  // It is scatter_add with the index built on the fly (index[k, p] = offsets[p] + code(r, p))
  // and with the gather of the node's rows fused in: a tree passes the row ids of one node
  // instead of copying that node's index and statistics rows first. Rows may be added in any
  // order (threads, atomics): f32 sums of integers below 2^24 are exact and the same on every
  // backend, other f32 sums may differ in their last bits; i64 sums are exact, wrapping modulo
  // 2^64 (two's complement) — the same bits on every backend, in any order.
  void histogram(const Tensor& codes, const Tensor& offsets, const Tensor& rows, const Tensor& X,
                 Tensor& out);

  // ---- reductions ---------------------------------------------------------------------------
  // out[0, j] = sum / mean / variance over i of X[i, j].  X: m × n f32 (m ≥ 1); out: 1 × n f32.
  void reduce_cols(Reduce op, const Tensor& X, Tensor& out);

  // ---- trees --------------------------------------------------------------------------------
  // Prediction of a decision tree, a forest or a boosted ensemble: each row of X walks from a
  // root down to a leaf. The forest is T trees in one node table:
  //   nodes: N × 4 i32, row j the TreeWalkNode j (above); roots: vector of T i32, each tree's
  //   root row; X: m × d f32, d greater than every split's feature.
  // tree_walk: leaf[i, t] = the leaf (row of nodes) that row i reaches in tree t. leaf: m × T
  //   i32. The plain loop:
  //     for i < m, t < T:  j = roots[t]
  //                        while left(j) ≥ 0:  j = (x[i, f(j)] ≤ thr(j) or NaN and missing_left)
  //                                                ? left(j) : right(j)
  //                        leaf[i, t] = j
  void tree_walk(const Tensor& nodes, const Tensor& roots, const Tensor& X, Tensor& leaf);
  // tree_walk_sum: out[i, :] = scale · Σ_t values[leaf(i, t), :] — a forest's mean leaf value
  //   (scale 1/T), a boosted model's raw score (a one-leaf tree carries the baseline). The sum
  //   runs in double, tree by tree in order, and is rounded once to f32, so every backend
  //   gives the same bits. values: N × c f32; out: m × c f32.
  void tree_walk_sum(const Tensor& nodes, const Tensor& roots, const Tensor& values,
                     const Tensor& X, double scale, Tensor& out);
  // partition_rows: a grown tree node's rows split into its two children, in place and stable:
  //   rows ← [the rows going left, in their order] ++ [the rows going right, in their order]
  //   returns the number going left (RowSplit says which way a code goes).
  // codes: P × n i8, feature-major (row p = feature p's code of each of the n samples, read as
  //   unsigned bytes, as histogram()'s); rows: vector of m i32, each in [0, n); split.feature
  //   < P. Stable, so every backend gives the same order, and a node's rows stay ascending when
  //   the root's were. The plain loop:
  //     for k < m:  c = (uint8) codes[split.feature, rows[k]]
  //                 (c == missing_code ? missing_left : c ≤ bin) ? left.push(rows[k])
  //                                                              : right.push(rows[k])
  std::int64_t partition_rows(const Tensor& codes, const RowSplit& split, Tensor& rows);

  // ---- boosting -----------------------------------------------------------------------------
  // loss_gradients: gradient boosting's per-sample gradient g and hessian h of the loss at the
  // raw scores, for each sample i and class k (K = raw's columns; 1 but for softmax):
  //   squared_error:    g = raw − y,                       h = 1
  //   binary_log_loss:  p = 1 / (1 + exp(−raw)),           g = p − y,  h = p·(1 − p)
  //   softmax_log_loss: p_k = exp(raw_k − max_j raw_j) / Σ_j exp(raw_j − max),
  //                     g_k = p_k − [y = k],               h_k = p_k·(1 − p_k)
  // then with weights g ← w·g and h ← w·h (squared error: h = w), and each class's ranges
  //   ranges[0, k] = max_i |g_ik|,  ranges[1, k] = max_i h_ik  (what the histograms quantize).
  // raw: n × K f64; y: n × 1 f64 (targets, or class codes 0..K−1 for softmax, 0/1 binary);
  // weight: n × 1 f64, or no elements (every weight 1); grad: n × K f64; hess: n × K f64, or
  // no elements for squared error without weights (h = 1 is not stored); ranges: 2 × K f64.
  // Everything in double, each sample's formula in the order written (exp from the C library;
  // Σ_j in j order): the same bits on every CPU backend, so every backend grows the same trees.
  void loss_gradients(GradientLoss loss, const Tensor& y, const Tensor& raw, const Tensor& weight,
                      Tensor& grad, Tensor& hess, Tensor& ranges);

 protected:
  // Hooks a backend implements. Arguments are already validated; `record` arrives with op,
  // shape, MACs and bytes filled, and seconds will be set to the measured wall time unless the
  // hook sets record.seconds_simulated (the simulator) or overrides seconds (CUDA events).
  virtual Tensor alloc_impl(std::int64_t rows, std::int64_t cols, DType dtype);
  virtual Tensor to_device_impl(const Tensor& t, OpRecord& record);
  virtual Tensor to_host_impl(const Tensor& t, OpRecord& record);
  virtual void fill_impl(Tensor& Y, float value, OpRecord& record) = 0;
  virtual void gemm_impl(Trans ta, Trans tb, float alpha, const Tensor& A, const Tensor& B,
                         float beta, Tensor& C, OpRecord& record) = 0;
  // gemm with hints: an int8 backend overrides this; by default the hints are not needed.
  virtual void gemm_hinted_impl(Trans ta, Trans tb, float alpha, const Tensor& A, const Tensor& B,
                                float beta, Tensor& C, const GemmHints& hints, OpRecord& record) {
    (void)hints;
    gemm_impl(ta, tb, alpha, A, B, beta, C, record);
  }
  virtual void gemv_impl(Trans ta, float alpha, const Tensor& A, const Tensor& x, float beta,
                         Tensor& y, OpRecord& record) = 0;
  virtual void sqdist_impl(const Tensor& A, const Tensor& B, Tensor& D, OpRecord& record) = 0;
  virtual void minkowski_dist_impl(const Tensor& A, const Tensor& B, float p_exp, Tensor& D,
                                   OpRecord& record) = 0;
  virtual void spmm_impl(Trans ta, float alpha, const CsrMatrix& A, const Tensor& B, float beta,
                         Tensor& C, OpRecord& record) = 0;
  virtual void argmin_rows_impl(const Tensor& D, Tensor& index, Tensor& value,
                                OpRecord& record) = 0;
  virtual void topk_rows_impl(const Tensor& D, std::int64_t k, Tensor& index, Tensor& value,
                              OpRecord& record) = 0;
  // The fused sqdist_topk: a backend that has it overrides fuses_sqdist_topk (public, above) and
  // this (never called otherwise).
  virtual void sqdist_topk_impl(const Tensor& A, const Tensor& B, std::int64_t k, Tensor& index,
                                Tensor& value, OpRecord& record);
  virtual void map_impl(MapFn fn, const Tensor& X, Tensor& Y, MapArgs args, OpRecord& record) = 0;
  virtual void softmax_rows_impl(const Tensor& X, Tensor& Y, bool log, OpRecord& record) = 0;
  virtual void axpby_impl(float alpha, const Tensor& X, float beta, Tensor& Y,
                          OpRecord& record) = 0;
  virtual void multiply_impl(const Tensor& X, Tensor& Y, OpRecord& record) = 0;
  virtual void add_row_vector_impl(float alpha, const Tensor& v, Tensor& Y, OpRecord& record) = 0;
  virtual void scale_rows_impl(const Tensor& w, Tensor& Y, OpRecord& record) = 0;
  virtual void scatter_add_impl(const Tensor& index, const Tensor& X, Tensor& out,
                                OpRecord& record) = 0;
  virtual void gather_rows_impl(const Tensor& X, const Tensor& index, Tensor& Y,
                                OpRecord& record) = 0;
  virtual void histogram_impl(const Tensor& codes, const Tensor& offsets, const Tensor& rows,
                              const Tensor& X, Tensor& out, OpRecord& record) = 0;
  virtual void reduce_cols_impl(Reduce op, const Tensor& X, Tensor& out, OpRecord& record) = 0;
  // Both tree walks: values == nullptr → out is tree_walk's leaf (m × T i32); otherwise out is
  // tree_walk_sum's m × c f32 and scale applies.
  virtual void tree_walk_impl(const Tensor& nodes, const Tensor& roots, const Tensor& X,
                              const Tensor* values, double scale, Tensor& out,
                              OpRecord& record) = 0;
  // hess and weight may have no elements (loss_gradients' rules).
  virtual void loss_gradients_impl(GradientLoss loss, const Tensor& y, const Tensor& raw,
                                   const Tensor& weight, Tensor& grad, Tensor& hess, Tensor& ranges,
                                   OpRecord& record) = 0;
  // Returns the number of rows going left.
  virtual std::int64_t partition_rows_impl(const Tensor& codes, const RowSplit& split, Tensor& rows,
                                           OpRecord& record) = 0;

 private:
  void check_on_device(const Tensor& t, const char* what) const;
};

using BackendPtr = std::shared_ptr<Backend>;

// ---- registry -----------------------------------------------------------------------------
// Every backend mlcore knows of, whether or not it can run here.
struct BackendInfo {
  std::string name;
  bool available = false;
  std::string reason;  // why not, when unavailable ("built without CUDA", "CPU lacks AVX2")
};
std::vector<BackendInfo> backend_info();
// Names of the backends that can run on this machine, in a fixed order
// (scalar, avx2, avx512, cuda, amx, systolic).
std::vector<std::string> available_backends();
// The backend estimators, primitives and the comparison use when none is named: the fastest
// f32 CPU backend this machine can run (avx512, else avx2, else scalar). The one place that
// choice is made (registry.cpp).
std::string default_backend_name();
// The shared default instance of a backend. Throws mlcore::Error for an unknown name, and
// mlcore::DeviceError naming the reason when the backend was not built or its hardware is
// missing.
BackendPtr backend(const std::string& name);

}  // namespace mlcore
