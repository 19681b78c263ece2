#include "quantized_gemm.hpp"

#include <chrono>

#include "cpu/cpu_parallel.hpp"
#include "cpu/gemm_scalar.hpp"

namespace mlcore::systolic {

void exact_product(const Quantized& qa, const Quantized& qb, const Int8Gemm& gemm,
                   ExactSums& sums) {
  const std::int64_t m = qa.rows, n = qb.cols, k = qa.cols;
  const auto size = static_cast<std::size_t>(m * n);
  sums.narrow.resize(size);
  sums.wide.clear();
  // The first group always runs: with k = 0 the engine writes the zeros of an empty sum.
  gemm(m, n, std::min(k, kExactDepth), qa.q.data(), k, qb.q.data(), n, sums.narrow.data(), n);
  if (k <= kExactDepth) return;
  sums.wide.assign(sums.narrow.begin(), sums.narrow.end());
  for (std::int64_t k0 = kExactDepth; k0 < k; k0 += kExactDepth) {
    const std::int64_t kg = std::min(kExactDepth, k - k0);
    gemm(m, n, kg, qa.q.data() + k0, k, qb.q.data() + k0 * n, n, sums.narrow.data(), n);
    for (std::size_t f = 0; f < size; ++f) sums.wide[f] += sums.narrow[f];
  }
}

void take_from_reference(const Tensor& R, const std::vector<std::int64_t>& rows,
                         const std::vector<std::int64_t>& cols, Tensor& Y) {
  const std::int64_t m = Y.rows(), n = Y.cols();
  const float* r = R.data<float>();
  float* y = Y.data<float>();
  for (const std::int64_t i : rows) std::copy(r + i * n, r + (i + 1) * n, y + i * n);
  for (const std::int64_t j : cols) {
    for (std::int64_t i = 0; i < m; ++i) y[i * n + j] = r[i * n + j];
  }
}

QuantizedGemmReport quantized_gemm(bool tra, bool trb, float alpha, const Tensor& A,
                                   const Tensor& B, float beta, Tensor& C, const GemmHints& hints,
                                   bool record_error, int threads, const Int8Pass& pass) {
  const std::int64_t m = C.rows(), n = C.cols(), k = tra ? A.rows() : A.cols();
  // op(A) per row (each sample / activation row its own scale), op(B) per output column
  // (weights): the standard int8 inference scheme. A per-tensor scale would let one large
  // row (a sample with an outlying feature) round every other row's values to 0; per row,
  // C[i, j] is dequantized by s_A[i]·s_B[j] in the read-out, one multiply either way.
  const Quantized qa = quantize(A, tra, ScaleAxis::row);
  // What the hints allow (quantize.hpp): op(B) less its row medians, and cut into magnitude
  // bands. Both are part of quantizing the weights, done before the int8 passes.
  Tensor Bq = B;  // the op(B) the engine multiplies: B itself, or op(B) − row medians
  bool trq = trb;
  if (hints.rows_up_to_constant) {
    Bq = subtract_row_medians(B, trb);
    trq = false;
  }
  const std::vector<Quantized> qbs =
      hints.wide_range_b ? quantize_bands(Bq, trq, ScaleAxis::col)
                         : std::vector<Quantized>{quantize(Bq, trq, ScaleAxis::col)};
  // A non-finite op(A)[i, p] makes row i of C non-finite, op(B)[p, j] column j: those outputs
  // come from the f32 reference, computed before C is overwritten (it reads β·C).
  const Quantized& qb0 = qbs.front();
  Tensor ref;
  if (!qa.all_finite() || !qb0.all_finite()) {
    ref = C.clone();
    cpu::sgemm_scalar(tra, trb, m, n, k, alpha, A.data<float>(), A.cols(), B.data<float>(),
                      B.cols(), beta, ref.data<float>(), ref.cols());
  }
  // deq = Σ_bands s_A[i]·s_b[j]·(qa·q_b)[i, j]: each band one int8 pass, its integer sums
  // dequantized and added to the previous bands' (kept in `deq`, float64, when there are
  // several) in the read-out; the last band's read-out also writes C = α·deq + β·C, rounded
  // once. Row by row on the threads: each output is computed alike on any count.
  const std::size_t bands = qbs.size();
  std::vector<double> deq(bands > 1 ? static_cast<std::size_t>(m * n) : 0, 0.0);
  ExactSums sums;
  float* c = C.data<float>();
  for (std::size_t p = 0; p < bands; ++p) {
    const Quantized& qb = qbs[p];
    pass(qa, qb, sums, p);
    const bool last = p + 1 == bands;
    cpu::parallel_ranges(m, n, threads, [&](int, std::int64_t i0, std::int64_t i1) {
      for (std::int64_t i = i0; i < i1; ++i) {
        const double sa = qa.scale_of_row(i);
        for (std::int64_t j = 0; j < n; ++j) {
          const std::int64_t f = i * n + j;
          double v = sa * qb.scale_of_col(j) * sums[f];
          if (bands > 1) v = deq[f] += v;
          if (last)
            c[f] = static_cast<float>(alpha * v + (beta == 0.0f ? 0.0 : beta * double(c[f])));
        }
      }
    });
  }
  if (ref.numel()) take_from_reference(ref, qa.non_finite_rows, qb0.non_finite_cols, C);
  // deq[f] as the read-out computed it (kept only when there were several bands).
  auto deq_at = [&](std::int64_t f) {
    if (bands > 1) return deq[f];
    return double(qa.scale_of_row(f / n)) * qb0.scale_of_col(f % n) * sums[f];
  };

  QuantizedGemmReport report;
  report.passes = qbs.size();
  if (record_error) {
    const auto start = std::chrono::steady_clock::now();
    const float* a = A.data<float>();
    const float* bq = Bq.data<float>();
    auto opa = [&](std::int64_t i, std::int64_t p) {
      return double(tra ? a[p * A.cols() + i] : a[i * A.cols() + p]);
    };
    auto opb = [&](std::int64_t p, std::int64_t j) {
      return double(trq ? bq[j * Bq.cols() + p] : bq[p * Bq.cols() + j]);
    };
    report.quant_error = sampled_relative_error(m * n, k, deq_at, [&](std::int64_t f) {
      double s = 0.0;
      for (std::int64_t p = 0; p < k; ++p) s += opa(f / n, p) * opb(p, f % n);
      return s;
    });
    report.error_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  return report;
}

}  // namespace mlcore::systolic
