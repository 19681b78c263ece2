// The cycle-stepped output-stationary engine.
//
// Register-level model of an R × C array. Each PE (r, c) holds
//   a, b     the int8 operands it received this cycle from the left and from above (passed on
//            to the right and down next cycle), each tagged with (fold, κ)
//   acc      its running int32 sum of the current fold, and how many products are in it
//   out      an output register (physical convention): the finished sum waits here and moves
//            up one row per cycle to the output buffer above row 0
// The tags let the model check that a and b always meet in step (same fold, same κ) and that a
// finished sum never lands on an occupied output register.
//
// One cycle, in hardware order:
//   1. (physical) the output registers shift up one row;
//   2. every PE: if a and b arrive, acc += a · b; after the K-th product the sum goes to the
//      output register (physical) or straight to the output (scalesim, which reads sums out
//      for free);
//   3. (physical) row 0's output registers write into the output buffer.
//
// The loop nest, fold by fold:
//   for each row tile r0..r0+rt of C: for each column tile c0..c0+w of C:   (one fold)
//     for r < rt, c < w:  C[r0+r, c0+c] = Σ_κ A[r0+r, κ] · B[κ, c0+c]   (in PE (r, c))
#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "cycle_model.hpp"

namespace mlcore::systolic {
namespace {

struct OsFold {
  std::int64_t row0, rt, col0, w;
};

[[noreturn]] void hazard(const std::string& what, std::int64_t t, std::int64_t r, std::int64_t c) {
  throw std::logic_error("systolic os stepped model: " + what + " at cycle " + std::to_string(t) +
                         ", PE (" + std::to_string(r) + ", " + std::to_string(c) + ")");
}

}  // namespace

ComputeCount step_output_stationary(const SystolicConfig& cfg, std::int64_t m, std::int64_t n,
                                    std::int64_t k, const std::int8_t* A, const std::int8_t* B,
                                    std::int32_t* Cout, WavefrontTrace* trace) {
  std::fill_n(Cout, m * n, 0);
  if (m <= 0 || n <= 0 || k <= 0) return {};
  const std::int64_t R = cfg.rows, C = cfg.cols;
  const bool physical = cfg.convention == Convention::physical;

  std::vector<OsFold> folds;
  for (std::int64_t row0 = 0; row0 < m; row0 += R) {
    for (std::int64_t col0 = 0; col0 < n; col0 += C) {
      folds.push_back({row0, std::min(R, m - row0), col0, std::min(C, n - col0)});
    }
  }
  const std::int64_t F = static_cast<std::int64_t>(folds.size());

  // physical: each fold starts max(K, 2·rt − 1) cycles after the previous one (the left edge is
  // busy for K cycles; a column's drain holds row 0 for 2·rt − 1). The engine checks the rule.
  std::vector<std::int64_t> start(F, -1);
  if (physical) {
    start[0] = 0;
    for (std::int64_t g = 1; g < F; ++g) {
      start[g] = start[g - 1] + std::max(k, 2 * folds[g - 1].rt - 1);
    }
  }

  // Operand tags: id = (fold << shift) | κ with 2^shift ≥ K, so one 64-bit compare checks
  // both, and the fold is a shift away (no division in the inner loop). −1 is a bubble.
  int shift = 0;
  while ((std::int64_t{1} << shift) < k) ++shift;
  const std::size_t pes = static_cast<std::size_t>(R * C);
  std::vector<std::int8_t> a(pes, 0), b(pes, 0);
  std::vector<std::int64_t> a_id(pes, -1), b_id(pes, -1);
  // acc_base: the tag of the sum's first product (κ = 0); the p-th product must carry base + p.
  std::vector<std::int32_t> acc(pes, 0), acc_n(pes, 0);
  std::vector<std::int64_t> acc_base(pes, -1);
  std::vector<std::int32_t> out_v(pes, 0), out_f(pes, -1), out_r(pes, 0);
  std::vector<std::uint8_t> busy(trace ? pes : 0, 0);
  std::vector<std::int64_t> emitted(F, 0);  // outputs written per fold (physical)
  std::vector<std::int64_t> inj_row(R, 0), inj_col(C, 0);
  std::int64_t started = 0, finished = 0;
  std::int64_t done = -1;

  // Which fold, and which κ, enters array row (or column) `lane` at cycle t; -1 if none.
  auto injecting = [&](std::vector<std::int64_t>& ptr, std::int64_t lane, std::int64_t t,
                       std::int64_t& kappa) -> std::int64_t {
    std::int64_t g = ptr[lane];
    while (g < started && t >= start[g] + lane + k) ++g;
    ptr[lane] = g;
    if (g < started && t >= start[g] + lane) {
      kappa = t - start[g] - lane;
      return g;
    }
    return -1;
  };

  for (std::int64_t t = 0; finished < F; ++t) {
    // Start folds: physical by the rule above, scalesim when the previous fold has ended.
    if (started < F) {
      if (physical ? t == start[started] : finished == started) {
        start[started++] = t;
      }
    }

    // 1. Output registers move up one row (row 0 was emptied into the buffer last cycle).
    if (physical) {
      std::copy(out_v.begin() + C, out_v.end(), out_v.begin());
      std::copy(out_f.begin() + C, out_f.end(), out_f.begin());
      std::copy(out_r.begin() + C, out_r.end(), out_r.begin());
      std::fill(out_f.end() - C, out_f.end(), -1);
    }

    // 2. The PEs, bottom-up and right-to-left (in-place synchronous update).
    for (std::int64_t r = R - 1; r >= 0; --r) {
      std::int64_t kappa_a = 0;
      const std::int64_t ga = injecting(inj_row, r, t, kappa_a);
      std::int8_t va = 0;
      std::int64_t ida = -1;
      if (ga >= 0 && (!physical || r < folds[ga].rt)) {  // scalesim pads rows with zeros
        ida = (ga << shift) | kappa_a;
        if (r < folds[ga].rt) va = A[(folds[ga].row0 + r) * k + kappa_a];
      }
      for (std::int64_t c = C - 1; c >= 0; --c) {
        const std::size_t idx = static_cast<std::size_t>(r * C + c);
        std::int8_t a_in, b_in;
        std::int64_t id_a, id_b;
        if (c) {
          a_in = a[idx - 1], id_a = a_id[idx - 1];
        } else {
          a_in = va, id_a = ida;
        }
        if (r) {
          b_in = b[idx - C], id_b = b_id[idx - C];
        } else {
          std::int64_t kappa_b = 0;
          const std::int64_t gb = injecting(inj_col, c, t, kappa_b);
          b_in = 0, id_b = -1;
          if (gb >= 0 && (!physical || c < folds[gb].w)) {
            id_b = (gb << shift) | kappa_b;
            if (c < folds[gb].w) b_in = B[kappa_b * n + folds[gb].col0 + c];
          }
        }
        a[idx] = a_in, a_id[idx] = id_a;
        b[idx] = b_in, b_id[idx] = id_b;
        if (trace) busy[idx] = 0;
        if (id_a < 0 || id_b < 0) {
          // One operand passing through a PE outside its tile (physical: A's rows run past
          // the tile's columns, B's columns past its rows) is fine; inside the tile it is not.
          const std::int64_t id = std::max(id_a, id_b);
          if (id >= 0) {
            const OsFold& fo = folds[id >> shift];
            if (r < fo.rt && c < fo.w) hazard("missing operand", t, r, c);
          }
          continue;
        }
        if (id_a != id_b) hazard("operands out of step", t, r, c);
        const std::int32_t products = acc_n[idx];
        if (products == 0) {
          if ((id_a & ((std::int64_t{1} << shift) - 1)) != 0) {
            hazard("a sum started mid-stream", t, r, c);
          }
          acc[idx] = 0;
          acc_base[idx] = id_a;
        } else if (id_a != acc_base[idx] + products) {
          hazard("a new fold reached an unfinished sum", t, r, c);
        }
        acc[idx] += static_cast<std::int32_t>(a_in) * b_in;
        if (trace) {
          const OsFold& fo = folds[id_a >> shift];
          busy[idx] = (r < fo.rt && c < fo.w) ? 1 : 0;
        }
        if (products + 1 < k) {
          acc_n[idx] = products + 1;
          continue;
        }
        acc_n[idx] = 0;  // the K-th product: the sum is finished
        const std::int32_t g = static_cast<std::int32_t>(id_a >> shift);
        const OsFold& fo = folds[g];
        if (physical) {
          if (out_f[idx] >= 0) hazard("output register still occupied", t, r, c);
          out_v[idx] = acc[idx], out_f[idx] = g, out_r[idx] = static_cast<std::int32_t>(r);
        } else {
          if (r < fo.rt && c < fo.w) Cout[(fo.row0 + r) * n + fo.col0 + c] = acc[idx];
          if (r == R - 1 && c == C - 1) {  // the padded fold's last product
            ++finished;                    // SCALE-Sim starts the next fold on the next cycle
            done = t;
          }
        }
      }
    }

    // 3. Row 0's output registers write into the output buffer.
    if (physical) {
      for (std::int64_t c = 0; c < C; ++c) {
        const std::int32_t g = out_f[c];
        if (g < 0) continue;
        const OsFold& fo = folds[g];
        Cout[(fo.row0 + out_r[c]) * n + fo.col0 + c] = out_v[c];
        out_f[c] = -1;
        done = t;
        if (++emitted[g] == fo.rt * fo.w) ++finished;
      }
    }

    if (trace) {
      trace->left.insert(trace->left.end(), a.begin(), a.end());
      trace->top.insert(trace->top.end(), b.begin(), b.end());
      trace->acc.insert(trace->acc.end(), acc.begin(), acc.end());
      trace->busy.insert(trace->busy.end(), busy.begin(), busy.end());
      ++trace->cycles;
    }
  }

  ComputeCount out;
  out.folds = F;
  out.cycles = physical ? done + 1 : done;
  return out;
}

}  // namespace mlcore::systolic
