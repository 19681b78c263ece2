// The `systolic` backend: every primitive of Backend on the simulated array.
//
// MAC primitives (gemm, gemv, sqdist, reduce_cols) quantize their f32 operands to int8
// (quantize.hpp), run the exact int8 product on the array, and dequantize; an int8 gemm runs
// exactly with no quantization. Their cycles come from the cycle model of the configuration's
// mode (analytic: cycle_model_analytic.cpp with the product computed by the CPU's own int8
// GEMM, cpu/igemm_host.hpp; stepped:
// the register-level engines, which compute the product themselves). Everything else runs on
// the vector unit in f32 with exactly the scalar backend's loops (so its results are the
// reference's, bit for bit), costed by vector_unit.hpp. Every call fills OpRecord::sim and sets
// `seconds` to the simulated time; `wall_seconds` (filled by Backend) is the simulator's own.
#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "cost_model.hpp"
#include "cpu/igemm_host.hpp"
#include "cpu/scalar_backend.hpp"
#include "cycle_model.hpp"
#include "mlcore/systolic.hpp"
#include "quantize.hpp"
#include "quantized_gemm.hpp"
#include "vector_unit.hpp"

namespace mlcore {
namespace {

using systolic::ComputeCount;
using systolic::OpCost;
using systolic::Quantized;
using systolic::sampled_relative_error;
using systolic::ScaleAxis;
using systolic::take_from_reference;

// ---- Non-finite operands ---------------------------------------------------------------------
// Valid inputs hold no NaN or ±inf (the estimators reject them), but degenerate fits make them:
// 1/variance of a one-sample class (GaussianNB with var_smoothing = 0), (x − mean)² of values
// beyond √FLT_MAX ≈ 1.8e19, the weights of a diverged solver. An int8 code cannot hold them, so
// quantize() codes them 0 and lists their rows and columns, and each MAC primitive then takes
// the outputs that those rows and columns feed from the scalar reference, an f32 computation
// whose IEEE arithmetic makes them NaN or ±inf. So an input gets the same kind of outcome here
// as on every other backend, and the estimator above, not the array, decides what a NaN means.
// The reference runs only when an operand holds such a value; its time is not simulated (the
// read-out forwarding an IEEE special value is modelled as free).

// op(X) of an int8 tensor as a dense rows × cols array.
std::vector<std::int8_t> op_i8(const Tensor& X, bool trans) {
  const std::int8_t* x = X.data<std::int8_t>();
  if (!trans) return std::vector<std::int8_t>(x, x + X.numel());
  const std::int64_t r = X.rows(), c = X.cols();
  std::vector<std::int8_t> out(static_cast<std::size_t>(r * c));
  for (std::int64_t i = 0; i < r; ++i) {
    for (std::int64_t j = 0; j < c; ++j) out[j * r + i] = x[i * c + j];
  }
  return out;
}

// A ones vector (rows × 1) with scale 1: the right operand of a column reduction.
Quantized ones(std::int64_t rows) {
  Quantized q;
  q.rows = rows;
  q.cols = 1;
  q.q.assign(static_cast<std::size_t>(rows), 1);
  q.scale = {1.0f};
  return q;
}

class SystolicBackend final : public ScalarBackend {
 public:
  explicit SystolicBackend(SystolicConfig config) : cfg_(std::move(config)) { validate(cfg_); }

  std::string name() const override { return "systolic"; }
  // int8 MACs behind an f32 interface; times are cycles of the modelled array at its clock.
  Capabilities capabilities() const override {
    Capabilities c;
    c.exact_f32 = false;
    c.simulated_time = true;
    return c;
  }
  std::string description() const override { return to_string(cfg_); }
  const SystolicConfig& config() const { return cfg_; }
  // The simulated machine's ceilings, from its configuration: rows × cols int8 MACs per cycle
  // (tpu-v1: 65 536 × 700 MHz = 45.9 T MAC/s, Jouppi et al.'s 92 TOPS) and the DRAM bandwidth.
  MachinePeaks peaks() const override {
    return {static_cast<double>(cfg_.rows * cfg_.cols) * cfg_.clock_hz, cfg_.dram_bytes_per_second,
            "config: " + to_string(cfg_)};
  }

 protected:
  // ---- MAC primitives on the array ----------------------------------------------------------
  void gemm_impl(Trans ta, Trans tb, float alpha, const Tensor& A, const Tensor& B, float beta,
                 Tensor& C, OpRecord& r) override {
    gemm_hinted_impl(ta, tb, alpha, A, B, beta, C, GemmHints{}, r);
  }

  void gemm_hinted_impl(Trans ta, Trans tb, float alpha, const Tensor& A, const Tensor& B,
                        float beta, Tensor& C, const GemmHints& hints, OpRecord& r) override {
    const std::int64_t m = r.m, n = r.n, k = r.k;
    const bool tra = ta == Trans::yes, trb = tb == Trans::yes;
    if (A.dtype() == DType::i8) {
      // Exact: int8 operands, int32 results, C ← op(A)·op(B) (+ C when β = 1).
      const std::vector<std::int8_t> a = op_i8(A, tra), b = op_i8(B, trb);
      std::vector<std::int32_t> prod(static_cast<std::size_t>(m * n));
      const ComputeCount count = run_int8(m, n, k, a.data(), b.data(), prod.data());
      std::int32_t* c = C.data<std::int32_t>();
      for (std::int64_t i = 0; i < m * n; ++i) {
        // Wrap-around addition, like the 32-bit accumulators.
        c[i] = beta == 0.0f ? prod[i]
                            : static_cast<std::int32_t>(static_cast<std::uint32_t>(c[i]) +
                                                        static_cast<std::uint32_t>(prod[i]));
      }
      OpCost cost = systolic::gemm_cost(cfg_, m, n, k, count);
      if (beta != 0.0f) add_output_read(cost, 4 * m * n);
      finish(r, cost);
      return;
    }
    // The shared int8 pipeline (quantized_gemm.hpp: quantization as the hints allow, one pass
    // per magnitude band, dequantization, non-finite operands, the error). Quantizing the
    // operands is done off the array (docs/SYSTOLIC.md "Simplifications"); each band's pass is
    // an int8 product on the array, its int32 sums added to the previous bands' in the read-out
    // (as a GEMM with β = 1 reads its C: add_output_read). The m + n scales are not counted as
    // traffic: they are O(m + n) next to the m·k + k·n operand bytes.
    OpCost cost;
    const systolic::QuantizedGemmReport report = systolic::quantized_gemm(
        tra, trb, alpha, A, B, beta, C, hints, cfg_.record_quant_error, cfg_.num_threads,
        [&](const Quantized& qa, const Quantized& qb, systolic::ExactSums& sums, std::size_t p) {
          OpCost pass = systolic::gemm_cost(cfg_, m, n, k, product(qa, qb, sums));
          if (p > 0) add_output_read(pass, 4 * m * n);
          cost.then(pass);
        });
    if (report.quant_error) r.quant_error = report.quant_error;
    if (beta != 0.0f) add_output_read(cost, 4 * m * n);
    finish(r, cost);
  }

  void gemv_impl(Trans ta, float alpha, const Tensor& A, const Tensor& x, float beta, Tensor& y,
                 OpRecord& r) override {
    // y (out) = α·op(A) (out × in) · x (in) + β·y: a GEMM with one output column. op(A) is the
    // weight matrix here, quantized per output channel (row); x per tensor.
    const std::int64_t out_len = r.m, in_len = r.k;
    const Quantized qa = systolic::quantize(A, ta == Trans::yes, ScaleAxis::row);
    const Quantized qx = systolic::quantize(x.reshaped(in_len, 1), false, ScaleAxis::tensor);
    systolic::ExactSums prod;
    const ComputeCount count = product(qa, qx, prod);
    // A non-finite row of op(A) makes its output non-finite; a non-finite x, all of them.
    Tensor ref;
    if (!qa.all_finite() || !qx.all_finite()) {
      ref = y.clone();
      ScalarBackend::gemv_impl(ta, alpha, A, x, beta, ref, r);
    }
    float* yv = y.data<float>();
    for (std::int64_t i = 0; i < out_len; ++i) {
      const double deq = double(qa.scale_of_row(i)) * qx.scale[0] * prod[i];
      yv[i] = static_cast<float>(alpha * deq + (beta == 0.0f ? 0.0 : beta * double(yv[i])));
    }
    if (!qx.all_finite()) {
      std::copy(ref.data<float>(), ref.data<float>() + out_len, yv);
    } else if (ref.numel()) {
      for (const std::int64_t i : qa.non_finite_rows) yv[i] = ref.data<float>()[i];
    }
    if (cfg_.record_quant_error) {
      const float* a = A.data<float>();
      const float* xv = x.data<float>();
      const bool tra = ta == Trans::yes;
      r.quant_error = sampled_relative_error(
          out_len, in_len,
          [&](std::int64_t i) { return double(qa.scale_of_row(i)) * qx.scale[0] * prod[i]; },
          [&](std::int64_t i) {
            double s = 0.0;
            for (std::int64_t p = 0; p < in_len; ++p) {
              s += double(tra ? a[p * A.cols() + i] : a[i * A.cols() + p]) * xv[p];
            }
            return s;
          });
    }
    OpCost cost = systolic::gemm_cost(cfg_, out_len, 1, in_len, count);
    if (beta != 0.0f) add_output_read(cost, 4 * out_len);
    finish(r, cost);
  }

  void sqdist_impl(const Tensor& A, const Tensor& B, Tensor& D, OpRecord& r) override {
    // D[i, j] = ‖â_i‖² + ‖b̂_j‖² − 2 â_i·b̂_j for the dequantized rows â_i = s_A·qa_i and
    // b̂_j = s_j·qb_j (A per tensor, B per row: each b_j is an output channel). The cross term
    // runs on the array; the norms are computed by the vector unit from the same int8 codes
    // (exact integer sums of squares, d lane-cycles per row), and the combination and the
    // clamp at 0 are fused into the accumulator read-out. Using the codes' norms, not the f32
    // ones, makes D the exact squared distance between â_i and b̂_j: its error is of the order
    // ‖a − b‖·‖quantization error‖, whereas f32 norms would leave an error of the order
    // ‖a‖·‖b‖·(relative quantization error) in the cancellation ‖a‖² + ‖b‖² − 2a·b.
    const std::int64_t m = A.rows(), n = B.rows(), d = A.cols();
    const Quantized qa = systolic::quantize(A, false, ScaleAxis::tensor);
    const Quantized qbt = systolic::quantize(B, true, ScaleAxis::col);  // Bᵀ: d × n
    systolic::ExactSums cross;
    const ComputeCount count = product(qa, qbt, cross);
    std::vector<double> na(static_cast<std::size_t>(m), 0.0), nb(static_cast<std::size_t>(n), 0.0);
    for (std::int64_t i = 0; i < m; ++i) {
      std::int64_t s = 0;
      for (std::int64_t p = 0; p < d; ++p) s += std::int64_t{qa.q[i * d + p]} * qa.q[i * d + p];
      na[i] = double(qa.scale[0]) * qa.scale[0] * double(s);
    }
    for (std::int64_t j = 0; j < n; ++j) {
      std::int64_t s = 0;
      for (std::int64_t p = 0; p < d; ++p) s += std::int64_t{qbt.q[p * n + j]} * qbt.q[p * n + j];
      nb[j] = double(qbt.scale[j]) * qbt.scale[j] * double(s);
    }
    float* out = D.data<float>();
    for (std::int64_t i = 0; i < m; ++i) {
      for (std::int64_t j = 0; j < n; ++j) {
        const double dot = double(qa.scale[0]) * qbt.scale[j] * cross[i * n + j];
        out[i * n + j] = static_cast<float>(std::max(0.0, na[i] + nb[j] - 2.0 * dot));
      }
    }
    // A non-finite a_i makes row i of D non-finite, a non-finite b_j column j.
    if (!qa.all_finite() || !qbt.all_finite()) {
      Tensor ref = D.clone();
      ScalarBackend::sqdist_impl(A, B, ref, r);
      take_from_reference(ref, qa.non_finite_rows, qbt.non_finite_cols, D);
    }
    if (cfg_.record_quant_error) {
      const float* a = A.data<float>();
      const float* b = B.data<float>();
      r.quant_error = sampled_relative_error(
          m * n, d, [&](std::int64_t f) { return double(out[f]); },
          [&](std::int64_t f) {
            double s = 0.0;
            for (std::int64_t p = 0; p < d; ++p) {
              const double diff = double(a[(f / n) * d + p]) - b[(f % n) * d + p];
              s += diff * diff;
            }
            return s;
          });
    }
    OpCost cost = systolic::gemm_cost(cfg_, m, n, d, count);
    cost.vector_ops += (m + n) * d;
    cost.vector_cycles += systolic::ceil_div((m + n) * d, cfg_.vector_lanes);
    finish(r, cost);
  }

  // The array knows only dense tiles. A sparse op(A) (m × k) is cut into tiles of R × R (R =
  // the array's rows: one K tile deep, as many streamed rows); a tile with no nonzero is skipped
  // (its rows are not streamed through that K tile's weights), every other tile runs as a dense
  // one, zeros and all. K tile b thus streams rows_b rows (the heights of its occupied tiles,
  // gathered by the DMA engine). The cost is that of the dense GEMM of m_eff × n × k with m_eff
  // = Σ_b rows_b / (K tiles), the streamed rows per K tile on average: the same schedule,
  // folds and traffic model as gemm, with the skipped tiles' rows left out — equal to gemm's
  // at density 1. The functional result is the dense GEMM's on the densified matrix, through
  // the same int8 pipeline; the record's sim.wasted_macs counts the MACs spent on zeros, and
  // the utilization counts only the nnz·n useful ones. Unstructured sparsity rarely empties a
  // whole tile: at density 1e-3 a 256 × 256 tile still holds ~65 nonzeros, so every tile runs
  // and 99.9 % of the MACs multiply zeros (docs/SPARSE.md).
  void spmm_impl(Trans ta, float alpha, const CsrMatrix& A, const Tensor& B, float beta, Tensor& C,
                 OpRecord& r) override {
    const bool tra = ta == Trans::yes;
    const std::int64_t m = r.m, n = r.n, k = r.k;
    const Tensor dense = csr_to_dense(A);  // A (rows × cols); op(A) = A or Aᵀ
    const systolic::QuantizedGemmReport report = systolic::quantized_gemm(
        tra, false, alpha, dense, B, beta, C, GemmHints{}, cfg_.record_quant_error,
        cfg_.num_threads,
        [&](const Quantized& qa, const Quantized& qb, systolic::ExactSums& sums, std::size_t) {
          product(qa, qb, sums);  // the cost is the sparse tiles', below
        });
    if (report.quant_error) r.quant_error = report.quant_error;
    // Occupied tiles of op(A): a nonzero A[i, j] is op(A)[i, j], or op(A)[j, i] when transposed.
    const std::int64_t T = cfg_.rows;
    const std::int64_t row_tiles = systolic::ceil_div(m, T), k_tiles = systolic::ceil_div(k, T);
    std::vector<char> occupied(static_cast<std::size_t>(row_tiles * k_tiles), 0);
    const std::int64_t* ptr = A.indptr.data<std::int64_t>();
    for (std::int64_t i = 0; i < A.rows; ++i) {
      for (std::int64_t p = ptr[i]; p < ptr[i + 1]; ++p) {
        const std::int64_t j = A.indices.dtype() == DType::i64
                                   ? A.indices.data<std::int64_t>()[p]
                                   : std::int64_t{A.indices.data<std::int32_t>()[p]};
        const std::int64_t row = tra ? j : i, depth = tra ? i : j;
        occupied[static_cast<std::size_t>((row / T) * k_tiles + depth / T)] = 1;
      }
    }
    std::int64_t performed = 0, streamed = 0;
    for (std::int64_t b = 0; b < k_tiles; ++b) {
      const std::int64_t depth = std::min(T, k - b * T);
      std::int64_t rows = 0;  // streamed rows: the heights of this K tile's occupied tiles
      for (std::int64_t t = 0; t < row_tiles; ++t) {
        if (occupied[static_cast<std::size_t>(t * k_tiles + b)]) rows += std::min(T, m - t * T);
      }
      performed += rows * n * depth;
      streamed += rows;
    }
    const std::int64_t m_eff = k_tiles > 0 ? systolic::ceil_div(streamed, k_tiles) : 0;
    OpCost cost;
    if (m_eff > 0) {
      cost = systolic::gemm_cost(cfg_, m_eff, n, k, systolic::analytic_compute(cfg_, m_eff, n, k));
    } else {  // no nonzero: the read-out writes β·C (or zeros) and nothing runs on the array
      cost.dram_write = 4 * m * n;
      cost.last_store = 4 * m * n;
    }
    cost.useful_macs = A.nnz() * n;
    cost.wasted_macs = performed - cost.useful_macs;
    if (beta != 0.0f) add_output_read(cost, 4 * m * n);
    finish(r, cost);
  }

  void reduce_cols_impl(Reduce op, const Tensor& X, Tensor& out, OpRecord& r) override {
    // Column sums are a GEMV against a ones vector: sum (n) = Xᵀ (n × m) · 1 (m). Xᵀ's rows are
    // the output channels, quantized per row (= per column of X); the ones are exact codes.
    // var takes a second pass: the vector unit forms (x − mean)² in f32, and the array sums it.
    const std::int64_t m = X.rows(), n = X.cols();
    const Quantized q1 = systolic::quantize(X, true, ScaleAxis::row);
    // Columns of X (rows of Xᵀ) whose result is non-finite in f32: a NaN or ±inf in X, or, for
    // var, an (x − mean)² that overflows. They take the scalar reference's result (in float64
    // there, so a column whose f32 squares overflow may still have a finite variance).
    std::vector<std::int64_t> non_finite = q1.non_finite_rows;
    const Quantized one = ones(m);
    systolic::ExactSums sums;
    OpCost cost = systolic::gemm_cost(cfg_, n, 1, m, product(q1, one, sums));
    std::vector<double> result(static_cast<std::size_t>(n));
    for (std::int64_t j = 0; j < n; ++j) {
      result[j] = double(q1.scale[j]) * sums[j];
      if (op != Reduce::sum) result[j] /= double(m);
    }
    if (op == Reduce::var) {
      Tensor dev2(m, n);  // (x − mean)², f32 on the vector unit
      const float* x = X.data<float>();
      float* d2 = dev2.data<float>();
      for (std::int64_t i = 0; i < m; ++i) {
        for (std::int64_t j = 0; j < n; ++j) {
          const float dv = x[i * n + j] - static_cast<float>(result[j]);
          d2[i * n + j] = dv * dv;
        }
      }
      cost.then(systolic::vector_cost(cfg_, 2 * m * n, 4 * m * n, 0));
      const Quantized q2 = systolic::quantize(dev2, true, ScaleAxis::row);
      non_finite.insert(non_finite.end(), q2.non_finite_rows.begin(), q2.non_finite_rows.end());
      systolic::ExactSums ss;
      cost.then(systolic::gemm_cost(cfg_, n, 1, m, product(q2, one, ss)));
      for (std::int64_t j = 0; j < n; ++j) result[j] = double(q2.scale[j]) * ss[j] / double(m);
    }
    float* o = out.data<float>();
    for (std::int64_t j = 0; j < n; ++j) o[j] = static_cast<float>(result[j]);
    if (!non_finite.empty()) {
      Tensor ref = out.clone();
      ScalarBackend::reduce_cols_impl(op, X, ref, r);
      for (const std::int64_t j : non_finite) o[j] = ref.data<float>()[j];
    }
    if (cfg_.record_quant_error) {
      const float* x = X.data<float>();
      r.quant_error = sampled_relative_error(
          n, 3 * m, [&](std::int64_t j) { return double(o[j]); },
          [&](std::int64_t j) {
            double s = 0.0;
            for (std::int64_t i = 0; i < m; ++i) s += x[i * n + j];
            if (op == Reduce::sum) return s;
            const double mean = s / double(m);
            if (op == Reduce::mean) return mean;
            double v = 0.0;
            for (std::int64_t i = 0; i < m; ++i) v += (x[i * n + j] - mean) * (x[i * n + j] - mean);
            return v / double(m);
          });
    }
    finish(r, cost);
  }

  // ---- the vector unit: the scalar reference's f32 loops, with the vector unit's cost ------
  void fill_impl(Tensor& Y, float value, OpRecord& r) override {
    ScalarBackend::fill_impl(Y, value, r);
    vector_op(r, Y.numel() * systolic::kElementwiseLaneCycles);
  }
  void argmin_rows_impl(const Tensor& D, Tensor& index, Tensor& value, OpRecord& r) override {
    ScalarBackend::argmin_rows_impl(D, index, value, r);
    vector_op(r, D.numel() * systolic::kCompareLaneCycles);
  }
  void topk_rows_impl(const Tensor& D, std::int64_t k, Tensor& index, Tensor& value,
                      OpRecord& r) override {
    ScalarBackend::topk_rows_impl(D, k, index, value, r);
    vector_op(r, D.numel() * systolic::topk_lane_cycles(k));
  }
  // Manhattan, Chebyshev and other Minkowski distances have no multiply-adds: the array cannot
  // help, and the vector unit does all m·n·d terms (vector_unit.hpp), with the scalar
  // reference's results.
  void minkowski_dist_impl(const Tensor& A, const Tensor& B, float p_exp, Tensor& D,
                           OpRecord& r) override {
    ScalarBackend::minkowski_dist_impl(A, B, p_exp, D, r);
    vector_op(r, A.rows() * B.rows() * A.cols() * systolic::minkowski_lane_cycles(p_exp));
  }
  void map_impl(MapFn fn, const Tensor& X, Tensor& Y, MapArgs args, OpRecord& r) override {
    ScalarBackend::map_impl(fn, X, Y, args, r);
    vector_op(r, X.numel() * systolic::map_lane_cycles(fn));
  }
  void softmax_rows_impl(const Tensor& X, Tensor& Y, bool log, OpRecord& r) override {
    ScalarBackend::softmax_rows_impl(X, Y, log, r);
    vector_op(r, X.numel() * systolic::kSoftmaxLaneCycles);
  }
  void axpby_impl(float alpha, const Tensor& X, float beta, Tensor& Y, OpRecord& r) override {
    ScalarBackend::axpby_impl(alpha, X, beta, Y, r);
    vector_op(r, X.numel() * (beta == 0.0f ? 1 : 2));  // a multiply, or a multiply and an FMA
  }
  void multiply_impl(const Tensor& X, Tensor& Y, OpRecord& r) override {
    ScalarBackend::multiply_impl(X, Y, r);
    vector_op(r, X.numel() * systolic::kElementwiseLaneCycles);
  }
  void add_row_vector_impl(float alpha, const Tensor& v, Tensor& Y, OpRecord& r) override {
    ScalarBackend::add_row_vector_impl(alpha, v, Y, r);
    vector_op(r, Y.numel() * systolic::kElementwiseLaneCycles);
  }
  void scale_rows_impl(const Tensor& w, Tensor& Y, OpRecord& r) override {
    ScalarBackend::scale_rows_impl(w, Y, r);
    vector_op(r, Y.numel() * systolic::kElementwiseLaneCycles);
  }
  // scatter_add runs on the vector unit, not as a one-hot GEMM on the array. A one-hot GEMM
  // out (m × c) += Hᵀ (m × n) · X (n × c), with H[i, index[i]] = 1, would
  //   * quantize X to int8, while the sums it makes (k-means centroids, a tree's gradient and
  //     hessian histograms) are compared and divided afterwards and need f32; and
  //   * spend m MACs per useful add: for a histogram, m = features × bins (100 × 256 = 25 600)
  //     MACs, all but one multiplying by 0. In ws the streamed operand is Hᵀ (m rows), so each
  //     fold of 256 samples takes max(m, 256) cycles: about m/256 = 100 cycles per sample, and
  //     for k-means (m = 8 clusters) still 1 cycle per sample (the weight loads dominate).
  // The vector unit adds each sample's row into an on-chip copy of `out` (m × c: centroids or
  // histograms are small), lanes elements per cycle: n · P · c / lanes cycles (k-means with
  // c = 16 features on 256 lanes: 1/16 cycle per sample), in f32, bit-identical to the scalar
  // reference. We assume a banked scratchpad that takes `lanes` independent read-modify-writes
  // per cycle (bank conflicts ignored: an optimistic bound, documented in docs/SYSTOLIC.md).
  void scatter_add_impl(const Tensor& index, const Tensor& X, Tensor& out, OpRecord& r) override {
    ScalarBackend::scatter_add_impl(index, X, out, r);
    const std::int32_t* idx = index.data<std::int32_t>();
    std::int64_t adds = 0;
    for (std::int64_t i = 0; i < index.numel(); ++i) adds += idx[i] >= 0 ? 1 : 0;
    vector_op(r, adds * X.cols() * systolic::kElementwiseLaneCycles);
  }
  // histogram is scatter_add with the index made on the fly (offset + code) and the node's
  // rows fetched by id: the same vector-unit adds, one per (listed row, wanted feature, column),
  // which is the record's MAC count. The DMA engine fetches the listed rows (no lane work).
  // i64 statistics are costed like f32 ones (docs/SYSTOLIC.md says why that is optimistic).
  void histogram_impl(const Tensor& codes, const Tensor& offsets, const Tensor& rows,
                      const Tensor& X, Tensor& out, OpRecord& r) override {
    ScalarBackend::histogram_impl(codes, offsets, rows, X, out, r);
    vector_op(r, r.macs * systolic::kElementwiseLaneCycles);
  }
  void gather_rows_impl(const Tensor& X, const Tensor& index, Tensor& Y, OpRecord& r) override {
    ScalarBackend::gather_rows_impl(X, index, Y, r);
    vector_op(r, 0);  // pure data movement: the DMA engine copies the rows, no lane work
  }
  // Tree walks on the vector unit: `vector_lanes` rows walk in lockstep (the avx2 kernel's
  // scheme, tree_walk_avx2.cpp), each level a gather of the node and of the row's value, a
  // compare and a select (vector_unit.hpp); tree_walk_sum adds each leaf's values (its MACs).
  // The result is the scalar reference's; the walk is repeated for the leaves the cost needs
  // when the sum does not keep them.
  void tree_walk_impl(const Tensor& nodes, const Tensor& roots, const Tensor& X,
                      const Tensor* values, double scale, Tensor& out, OpRecord& r) override {
    ScalarBackend::tree_walk_impl(nodes, roots, X, values, scale, out, r);
    Tensor leaf = out;
    if (values != nullptr) {
      leaf = Tensor(X.rows(), roots.numel(), DType::i32);
      ScalarBackend::tree_walk_impl(nodes, roots, X, nullptr, 1.0, leaf, r);
    }
    const std::int64_t walk = systolic::tree_walk_lane_ops(
        reinterpret_cast<const TreeWalkNode*>(nodes.raw()), nodes.rows(), leaf.data<std::int32_t>(),
        X.rows(), roots.numel(), cfg_.vector_lanes);
    vector_op(r, walk + r.macs * systolic::kElementwiseLaneCycles);
  }
  // Boosting's gradients on the vector unit, in f64 (vector_unit.hpp): the CPU reference's
  // arithmetic, so the simulator grows the same trees as every CPU backend.
  void loss_gradients_impl(GradientLoss loss, const Tensor& y, const Tensor& raw,
                           const Tensor& weight, Tensor& grad, Tensor& hess, Tensor& ranges,
                           OpRecord& r) override {
    ScalarBackend::loss_gradients_impl(loss, y, raw, weight, grad, hess, ranges, r);
    vector_op(r, raw.numel() * systolic::loss_gradient_lane_cycles(loss, weight.numel() > 0));
  }
  // A node's rows split on the vector unit: `vector_lanes` rows per step (vector_unit.hpp,
  // kPartitionLaneCycles). The result is the scalar reference's stable order.
  std::int64_t partition_rows_impl(const Tensor& codes, const RowSplit& split, Tensor& rows,
                                   OpRecord& r) override {
    const std::int64_t n_left = ScalarBackend::partition_rows_impl(codes, split, rows, r);
    vector_op(r, rows.numel() * systolic::kPartitionLaneCycles);
    return n_left;
  }

 private:
  // C (m × n, int32) = A (m × k) · B (k × n), int8 row-major, on the array; the compute count.
  ComputeCount run_int8(std::int64_t m, std::int64_t n, std::int64_t k, const std::int8_t* A,
                        const std::int8_t* B, std::int32_t* C) const {
    if (cfg_.mode == SimMode::stepped) {
      return systolic::stepped_compute(cfg_, m, n, k, A, B, C, nullptr);
    }
    cpu::igemm_host(false, false, m, n, k, A, k, B, n, false, C, n, cfg_.num_threads);
    return systolic::analytic_compute(cfg_, m, n, k);
  }

  // sums (a.rows × b.cols) = qa · qb as exact integers, the compute count of the whole product.
  // Analytic mode: the CPU's int8 GEMM, depths beyond kExactDepth summed in groups.
  ComputeCount product(const Quantized& qa, const Quantized& qb, systolic::ExactSums& sums) const {
    const std::int64_t m = qa.rows, n = qb.cols, k = qa.cols;
    if (cfg_.mode == SimMode::stepped) {
      sums.wide.clear();
      sums.narrow.resize(static_cast<std::size_t>(m * n));
      return run_int8(m, n, k, qa.q.data(), qb.q.data(), sums.narrow.data());
    }
    systolic::exact_product(
        qa, qb,
        [&](std::int64_t mm, std::int64_t nn, std::int64_t kk, const std::int8_t* a,
            std::int64_t lda, const std::int8_t* b, std::int64_t ldb, std::int32_t* c,
            std::int64_t ldc) {
          cpu::igemm_host(false, false, mm, nn, kk, a, lda, b, ldb, false, c, ldc,
                          cfg_.num_threads);
        },
        sums);
    return systolic::analytic_compute(cfg_, m, n, k);
  }

  // β ≠ 0: the old output is read from DRAM and added in the read-out path.
  static void add_output_read(OpCost& cost, std::int64_t bytes) {
    cost.dram_read += bytes;
    cost.onchip_write += bytes;
    cost.onchip_read += bytes;
  }

  void vector_op(OpRecord& r, std::int64_t lane_ops) const {
    finish(r, systolic::vector_cost(cfg_, lane_ops, r.bytes_read, r.bytes_written));
  }

  void finish(OpRecord& r, const OpCost& cost) const {
    r.sim = systolic::to_counters(cfg_, cost);
    r.seconds = static_cast<double>(r.sim->cycles()) / cfg_.clock_hz;
    r.seconds_simulated = true;
  }

  SystolicConfig cfg_;
};

}  // namespace

BackendPtr make_systolic_backend(const SystolicConfig& config) {
  return std::make_shared<SystolicBackend>(config);
}

BackendPtr make_default_systolic_backend() {
  return make_systolic_backend(systolic_preset("tpu-v1"));
}

SystolicConfig systolic_config_of(const Backend& b) {
  const auto* s = dynamic_cast<const SystolicBackend*>(&b);
  MLCORE_CHECK(s != nullptr,
               "systolic_config_of(): backend '" << b.name() << "' is not a systolic backend");
  return s->config();
}

}  // namespace mlcore
