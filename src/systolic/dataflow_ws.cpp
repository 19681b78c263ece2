// The cycle-stepped weight-stationary engine (ws, and is through the transposed view).
//
// Register-level model of an R × C array. Each PE (r, c) holds
//   act        the int8 activation it received from the left this cycle (passed right next cycle)
//   psum       the int32 partial sum it computed this cycle (passed down next cycle)
//   w_act      the weight it multiplies with, and w_next, the next tile's weight (double buffer)
// and each column has a weight shift chain that carries the next tile down in R cycles. Every
// activation carries a tag (fold, row) so the model can check, instead of assume, that the
// schedule never lets a PE multiply with the wrong tile's weight.
//
// One cycle, in hardware order:
//   1. the controller may start streaming the next fold at the left edge;
//   2. every PE: a tagged activation from the left switches the PE to that fold's weight if it
//      is new (w_act ← w_next), then psum = psum_from_above + act · w_act. The bottom row's
//      psum leaves the array into the accumulators (added to Y);
//   3. the weight chains shift one row down; a chain that has shifted R times latches its
//      values into w_next of its column.
// Rows are updated bottom-up and columns right-to-left, so each PE still sees its upper and
// left neighbours' values of the previous cycle: an in-place update of a synchronous array.
//
// The loop nest the array computes, fold by fold (the stepped model runs it cycle by cycle):
//   for each chunk of rows i0..i0+len of X:          (accumulator capacity, physical only)
//     for each column tile j0..j0+w of S:
//       for each K tile k0..k0+kt:                    (one fold: S[k0:, j0:] sits in the PEs)
//         for i in chunk: for c < w: Y[i, j0+c] += Σ_{r<kt} X[i, k0+r] · S[k0+r, j0+c]
#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "cycle_model.hpp"

namespace mlcore::systolic {
namespace {

struct WsFold {
  std::int64_t row0, len;  // rows of X streamed
  std::int64_t col0, w;    // columns of S in the tile
  std::int64_t k0, kt;     // rows of S (depth) in the tile
};

[[noreturn]] void hazard(const std::string& what, std::int64_t t, std::int64_t r, std::int64_t c) {
  throw std::logic_error("systolic ws stepped model: " + what + " at cycle " + std::to_string(t) +
                         ", PE (" + std::to_string(r) + ", " + std::to_string(c) + ")");
}

void record_cycle(WavefrontTrace* trace, const std::vector<std::int8_t>& act,
                  const std::vector<std::int8_t>& w, const std::vector<std::int32_t>& psum,
                  const std::vector<std::uint8_t>& busy) {
  trace->left.insert(trace->left.end(), act.begin(), act.end());
  trace->top.insert(trace->top.end(), w.begin(), w.end());
  trace->acc.insert(trace->acc.end(), psum.begin(), psum.end());
  trace->busy.insert(trace->busy.end(), busy.begin(), busy.end());
  ++trace->cycles;
}

}  // namespace

ComputeCount step_weight_stationary(const SystolicConfig& cfg, std::int64_t t_rows, std::int64_t p,
                                    std::int64_t kd, const std::int8_t* X, const std::int8_t* S,
                                    std::int32_t* Y, WavefrontTrace* trace) {
  std::fill_n(Y, t_rows * p, 0);
  if (t_rows <= 0 || p <= 0 || kd <= 0) return {};
  const std::int64_t R = cfg.rows, C = cfg.cols;
  const bool physical = cfg.convention == Convention::physical;

  // The fold list, in the order the array runs them.
  std::vector<WsFold> folds;
  const std::int64_t L = stream_chunk_rows(cfg, t_rows);
  for (std::int64_t row0 = 0; row0 < t_rows; row0 += L) {
    for (std::int64_t col0 = 0; col0 < p; col0 += C) {
      for (std::int64_t k0 = 0; k0 < kd; k0 += R) {
        folds.push_back({row0, std::min(L, t_rows - row0), col0, std::min(C, p - col0), k0,
                         std::min(R, kd - k0)});
      }
    }
  }
  const std::int64_t F = static_cast<std::int64_t>(folds.size());

  // PE registers, row-major R × C. Tags: fold index (−1 = bubble) and row within the fold.
  const std::size_t pes = static_cast<std::size_t>(R * C);
  std::vector<std::int8_t> act(pes, 0), w_act(pes, 0), w_next(pes, 0), chain(pes, 0);
  std::vector<std::int32_t> act_f(pes, -1), act_i(pes, 0), psum(pes, 0);
  std::vector<std::int32_t> w_act_f(pes, -1), w_next_f(pes, -1);
  std::vector<std::uint8_t> busy(trace ? pes : 0, 0);
  // Weight chains, one per column: which fold it is shifting in, from which cycle.
  std::vector<std::int64_t> chain_fold(C, -1), chain_start(C, 0);
  // The first tile enters the columns with the same one-cycle skew as the data (physical), or
  // all at once (SCALE-Sim's filter demand matrix loads every column in the same R cycles).
  for (std::int64_t c = 0; c < C; ++c) {
    chain_fold[c] = 0;
    chain_start[c] = physical ? c : 0;
  }

  std::vector<std::int64_t> start(F, -1);  // cycle each fold's first row enters row 0
  std::vector<std::int64_t> inj(R, 0);     // per array row: the fold it is injecting
  std::int64_t started = 0, finished = 0;
  std::int64_t done = -1;  // last cycle a counted output left the array

  for (std::int64_t t = 0; finished < F; ++t) {
    // 1. Start the next fold once the left edge is free and its weights sit in PE (0, 0)'s
    //    second register (the other columns' arrive with the same skew as the data).
    if (started < F) {
      const bool edge_free = started == 0 || t >= start[started - 1] + folds[started - 1].len;
      if (edge_free && w_next_f[0] == started) start[started++] = t;
    }

    // 2. The PEs.
    for (std::int64_t r = R - 1; r >= 0; --r) {
      // What enters row r from the left this cycle: row i of fold g, skewed by r.
      std::int8_t v0 = 0;
      std::int32_t f0 = -1, i0 = 0;
      std::int64_t g = inj[r];
      while (g < started && t >= start[g] + r + folds[g].len) ++g;
      inj[r] = g;
      if (g < started && t >= start[g] + r) {
        const WsFold& fo = folds[g];
        i0 = static_cast<std::int32_t>(t - start[g] - r);
        f0 = static_cast<std::int32_t>(g);
        v0 = r < fo.kt ? X[(fo.row0 + i0) * kd + fo.k0 + r] : std::int8_t{0};
      }
      for (std::int64_t c = C - 1; c >= 0; --c) {
        const std::size_t idx = static_cast<std::size_t>(r * C + c);
        const std::int8_t a_in = c ? act[idx - 1] : v0;
        const std::int32_t f_in = c ? act_f[idx - 1] : f0;
        const std::int32_t i_in = c ? act_i[idx - 1] : i0;
        act[idx] = a_in;
        act_f[idx] = f_in;
        act_i[idx] = i_in;
        if (f_in < 0) {  // a bubble: nothing to multiply
          psum[idx] = 0;
          if (trace) busy[idx] = 0;
          continue;
        }
        if (w_act_f[idx] != f_in) {  // the first row of a new fold: switch weight registers
          if (w_next_f[idx] != f_in)
            hazard("weights of fold " + std::to_string(f_in) + " not latched", t, r, c);
          w_act[idx] = w_next[idx];
          w_act_f[idx] = f_in;
          // physical: the chain of this column may start shifting in the tile after next.
          if (physical && r == 0 && f_in + 1 < F) {
            if (chain_fold[c] >= 0) hazard("weight chain still busy", t, r, c);
            chain_fold[c] = f_in + 1;
            chain_start[c] = t;
          }
        }
        const std::int32_t from_above = r ? psum[idx - C] : 0;
        psum[idx] = from_above + static_cast<std::int32_t>(a_in) * w_act[idx];
        const WsFold& fo = folds[f_in];
        if (trace) busy[idx] = (r < fo.kt && c < fo.w) ? 1 : 0;
        if (r == R - 1) {
          // The partial sum leaves the array into the accumulator of (row i, column c).
          if (c < fo.w) {
            Y[(fo.row0 + i_in) * p + fo.col0 + c] += psum[idx];
            if (physical) done = std::max(done, t);
          }
          if (c == C - 1 && i_in == fo.len - 1) {  // the fold's last output has left
            ++finished;
            if (!physical) {
              done = t;
              // SCALE-Sim runs folds back to back: the next tile loads from the next cycle.
              if (f_in + 1 < F) {
                for (std::int64_t cc = 0; cc < C; ++cc) {
                  chain_fold[cc] = f_in + 1;
                  chain_start[cc] = t + 1;
                }
              }
            }
          }
        }
      }
    }

    // 3. The weight chains: shift one row down, inserting the next tile's row (R − 1 − step)
    //    at the top so that after R shifts row r holds S[k0 + r, col0 + c]; then latch.
    for (std::int64_t c = 0; c < C; ++c) {
      const std::int64_t g = chain_fold[c];
      if (g < 0 || t < chain_start[c]) continue;
      const std::int64_t step = t - chain_start[c];
      const WsFold& fo = folds[g];
      for (std::int64_t r = R - 1; r >= 1; --r) chain[r * C + c] = chain[(r - 1) * C + c];
      const std::int64_t kr = R - 1 - step;
      chain[c] = (kr < fo.kt && c < fo.w) ? S[(fo.k0 + kr) * p + fo.col0 + c] : std::int8_t{0};
      if (step == R - 1) {
        for (std::int64_t r = 0; r < R; ++r) {
          const std::size_t idx = static_cast<std::size_t>(r * C + c);
          if (w_next_f[idx] != w_act_f[idx]) {
            hazard("latching fold " + std::to_string(g) + " over unused weights", t, r, c);
          }
          w_next[idx] = chain[idx];
          w_next_f[idx] = static_cast<std::int32_t>(g);
        }
        chain_fold[c] = -1;
      }
    }

    if (trace) record_cycle(trace, act, w_act, psum, busy);
  }

  ComputeCount out;
  out.folds = F;
  // physical: a count (last busy cycle + 1); scalesim: SCALE-Sim's index of the last cycle.
  out.cycles = physical ? done + 1 : done;
  return out;
}

}  // namespace mlcore::systolic
