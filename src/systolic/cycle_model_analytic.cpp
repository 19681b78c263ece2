// The analytic cycle model: closed-form counts per fold (docs/SYSTOLIC.md derives each line).
//
// Notation: the array is R × C PEs; a fold is one array-sized tile of the GEMM. Cycles are
// counted from 0; a count is the index of the last busy cycle + 1.
#include <algorithm>

#include "cycle_model.hpp"

namespace mlcore::systolic {
namespace {

// ---- weight stationary (ws, and is through ws_view) ---------------------------------------
//
// physical: the array streams X in chunks of L rows (the accumulator limit). For each chunk,
// for each column tile (width w ≤ C) and each K tile (depth ≤ R), one fold streams the chunk's
// `len` rows through the PEs:
//   * the weights of a fold are shifted down the columns in R cycles (TPU v1: "256 cycles to
//     shift a tile in") into each PE's second weight register while the previous fold
//     computes; the first fold's load is not hidden: the first row enters at s₀ = R;
//   * a PE can take the next tile's weights only after it has switched to the current tile,
//     and the switch travels down a column with the first row of the current fold, reaching
//     the bottom R − 1 cycles after the top. So the next fold may start R cycles after this
//     one, or when this one has finished streaming, whichever is later:
//         s_{f+1} = s_f + max(len_f, R);
//   * row i of fold f enters array row r at s_f + i + r (the skew), meets column c at
//     s_f + i + r + c, and its partial sum leaves the bottom of column c after all R rows at
//     s_f + i + (R − 1) + c. The last useful output of fold f (i = len − 1, c = w − 1) is done
//     at cycle s_f + len + R + w − 3, so the fold ends at a count of s_f + len + R + w − 2.
// The GEMM's count is the largest fold end (a wide fold followed by a narrow one can end last).
//
// scalesim: folds run one after another, each padded to the full array: R cycles of weight
// load, then the t rows stream through all R rows and all C columns:
//         per fold 2R + C + t − 2,   total ceil(kd/R) · ceil(p/C) · (2R + C + t − 2) − 1
// (SCALE-Sim reports the index of the last cycle, one less than the count).
ComputeCount ws_physical(const SystolicConfig& c, const WsView& v) {
  const std::int64_t R = c.rows, C = c.cols;
  const std::int64_t L = stream_chunk_rows(c, v.t);
  const std::int64_t fk = ceil_div(v.kd, R), fp = ceil_div(v.p, C);
  const std::int64_t w_last = v.p - (fp - 1) * C;
  const std::int64_t folds_per_chunk = fp * fk;
  ComputeCount out;
  std::int64_t s = R;  // start of the chunk's first fold
  std::int64_t end = 0;
  for (std::int64_t row0 = 0; row0 < v.t; row0 += L) {
    const std::int64_t len = std::min(L, v.t - row0);
    const std::int64_t period = std::max(len, R);
    // The chunk's last fold (width w_last) ...
    const std::int64_t s_last = s + (folds_per_chunk - 1) * period;
    end = std::max(end, s_last + len + R + w_last - 2);
    // ... and its last full-width fold, which ends later when w_last is much narrower.
    if (fp >= 2) {
      const std::int64_t s_wide = s + ((fp - 1) * fk - 1) * period;
      end = std::max(end, s_wide + len + R + C - 2);
    }
    s += folds_per_chunk * period;
    out.folds += folds_per_chunk;
  }
  out.cycles = end;
  return out;
}

ComputeCount ws_scalesim(const SystolicConfig& c, const WsView& v) {
  const std::int64_t R = c.rows, C = c.cols;
  ComputeCount out;
  out.folds = ceil_div(v.kd, R) * ceil_div(v.p, C);
  out.cycles = out.folds * (2 * R + C + v.t - 2) - 1;
  return out;
}

// ---- output stationary ------------------------------------------------------------------------
//
// physical: one fold per (row tile of height rt ≤ R, column tile of width w ≤ C). A[r, κ]
// enters array row r at s + κ + r, B[κ, c] enters column c at s + κ + c; they meet in PE (r, c)
// at s + κ + r + c, so PE (r, c) finishes its K-term sum at s + K − 1 + r + c. Each PE then
// drops the sum into its output register, and the output registers of a column shift *up*
// one row per cycle into the output buffer above row 0 (up, against the skew, so that sums
// finishing one cycle apart in neighbouring rows never collide; they travel two rows apart).
// The sum of row r leaves at s + K − 1 + 2r + c; the fold ends at a count of
//         s + K + 2·rt + w − 3.
// The PEs restart as soon as their last product is in (the accumulator is free), but a column's
// drain occupies row 0 for 2·rt − 1 cycles, so
//         s_{f+1} = s_f + max(K, 2·rt_f − 1).
//
// scalesim: each fold is padded to R × C and its sums are read out for free:
//         per fold R + C + K − 2,   total ceil(m/R) · ceil(n/C) · (R + C + K − 2) − 1.
ComputeCount os_physical(const SystolicConfig& c, std::int64_t m, std::int64_t n, std::int64_t k) {
  const std::int64_t R = c.rows, C = c.cols;
  const std::int64_t fm = ceil_div(m, R), fn = ceil_div(n, C);
  const std::int64_t w_last = n - (fn - 1) * C;
  ComputeCount out;
  out.folds = fm * fn;
  std::int64_t s = 0, end = 0;
  for (std::int64_t row0 = 0; row0 < m; row0 += R) {
    const std::int64_t rt = std::min(R, m - row0);
    const std::int64_t period = std::max(k, 2 * rt - 1);
    end = std::max(end, s + (fn - 1) * period + k + 2 * rt + w_last - 3);
    if (fn >= 2) end = std::max(end, s + (fn - 2) * period + k + 2 * rt + C - 3);
    s += fn * period;
  }
  out.cycles = end;
  return out;
}

ComputeCount os_scalesim(const SystolicConfig& c, std::int64_t m, std::int64_t n, std::int64_t k) {
  const std::int64_t R = c.rows, C = c.cols;
  ComputeCount out;
  out.folds = ceil_div(m, R) * ceil_div(n, C);
  out.cycles = out.folds * (R + C + k - 2) - 1;
  return out;
}

}  // namespace

ComputeCount analytic_compute(const SystolicConfig& c, std::int64_t m, std::int64_t n,
                              std::int64_t k) {
  if (m <= 0 || n <= 0 || k <= 0) return {};  // nothing for the array to do
  const bool physical = c.convention == Convention::physical;
  if (c.dataflow == Dataflow::os) {
    return physical ? os_physical(c, m, n, k) : os_scalesim(c, m, n, k);
  }
  const WsView v = ws_view(c.dataflow, m, n, k);
  return physical ? ws_physical(c, v) : ws_scalesim(c, v);
}

}  // namespace mlcore::systolic
