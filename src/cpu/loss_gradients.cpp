// Backend::loss_gradients on the CPU (see loss_gradients.hpp for why one file serves every
// CPU backend). Baseline-compiled: the avx2 / avx512 backends run the very same instructions.
#include "loss_gradients.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "mlcore/interrupt.hpp"
#include "mlcore/parallel.hpp"

namespace mlcore::cpu {

namespace {

// One loss and weighting per instantiation: the loop body has no per-row branch on either,
// and K = 1 losses no inner loops (a boosting iteration makes one pass of a few ns per row,
// so a branch and a loop set-up per row were measurable). The arithmetic, and its order, is
// the same in every instantiation.
template <GradientLoss kLoss, bool kWeighted>
void rows(std::int64_t begin, std::int64_t end, std::int64_t K, const double* y, const double* raw,
          const double* w, double* g, double* h, double* g_max, double* h_max) {
  for (std::int64_t i = begin; i < end; ++i) {
    if constexpr (kLoss == GradientLoss::squared_error) {
      double gi = raw[i] - y[i];
      if constexpr (kWeighted) {
        gi *= w[i];
        h[i] = w[i];  // a weighted squared error's hessian is the weight itself
        h_max[0] = std::max(h_max[0], h[i]);
      } else if (h != nullptr) {
        h[i] = 1.0;
      }
      g[i] = gi;
      g_max[0] = std::max(g_max[0], std::fabs(gi));
    } else if constexpr (kLoss == GradientLoss::binary_log_loss ||
                         kLoss == GradientLoss::half_poisson || kLoss == GradientLoss::half_gamma) {
      double gi, hi;
      if constexpr (kLoss == GradientLoss::binary_log_loss) {
        const double p = 1.0 / (1.0 + std::exp(-raw[i]));
        gi = p - y[i];
        hi = p * (1.0 - p);
      } else if constexpr (kLoss == GradientLoss::half_poisson) {
        hi = std::exp(raw[i]);  // the mean e^raw
        gi = hi - y[i];
      } else {
        hi = y[i] * std::exp(-raw[i]);  // y / mean
        gi = 1.0 - hi;
      }
      if constexpr (kWeighted) {
        gi *= w[i];
        hi *= w[i];
      }
      g[i] = gi;
      h[i] = hi;
      g_max[0] = std::max(g_max[0], std::fabs(gi));
      h_max[0] = std::max(h_max[0], hi);
    } else {
      const double* r = raw + i * K;
      const double mx = *std::max_element(r, r + K);
      double s = 0;
      for (std::int64_t k = 0; k < K; ++k) s += std::exp(r[k] - mx);
      const std::int64_t label = static_cast<std::int64_t>(y[i]);
      for (std::int64_t k = 0; k < K; ++k) {
        const double p = std::exp(r[k] - mx) / s;
        double gk = p - (label == k ? 1.0 : 0.0), hk = p * (1.0 - p);
        if constexpr (kWeighted) {
          gk *= w[i];
          hk *= w[i];
        }
        g[i * K + k] = gk;
        h[i * K + k] = hk;
        g_max[k] = std::max(g_max[k], std::fabs(gk));
        h_max[k] = std::max(h_max[k], hk);
      }
    }
  }
}

template <GradientLoss kLoss>
void rows_of(std::int64_t begin, std::int64_t end, std::int64_t K, const double* y,
             const double* raw, const double* w, double* g, double* h, double* g_max,
             double* h_max) {
  if (w != nullptr) {
    rows<kLoss, true>(begin, end, K, y, raw, w, g, h, g_max, h_max);
  } else {
    rows<kLoss, false>(begin, end, K, y, raw, w, g, h, g_max, h_max);
  }
}

}  // namespace

void loss_gradient_rows(GradientLoss loss, std::int64_t begin, std::int64_t end, std::int64_t K,
                        const double* y, const double* raw, const double* w, double* g, double* h,
                        double* g_max, double* h_max) {
  switch (loss) {
    case GradientLoss::squared_error:
      return rows_of<GradientLoss::squared_error>(begin, end, K, y, raw, w, g, h, g_max, h_max);
    case GradientLoss::binary_log_loss:
      return rows_of<GradientLoss::binary_log_loss>(begin, end, K, y, raw, w, g, h, g_max, h_max);
    case GradientLoss::softmax_log_loss:
      return rows_of<GradientLoss::softmax_log_loss>(begin, end, K, y, raw, w, g, h, g_max, h_max);
    case GradientLoss::half_poisson:
      return rows_of<GradientLoss::half_poisson>(begin, end, K, y, raw, w, g, h, g_max, h_max);
    case GradientLoss::half_gamma:
      return rows_of<GradientLoss::half_gamma>(begin, end, K, y, raw, w, g, h, g_max, h_max);
  }
}

void loss_gradients_cpu(GradientLoss loss, std::int64_t n, std::int64_t K, const double* y,
                        const double* raw, const double* w, double* g, double* h, double* ranges,
                        int threads) {
  // The unstored unit hessian of unweighted squared error has range 1.
  const double h_start = h == nullptr ? 1.0 : 0.0;
  // Rows in parts (by size alone, below 8192 one); each part keeps its own maxima, combined
  // after: max is exact, so any split gives the serial result.
  const int parts = n > 8192 ? std::max(threads, 1) : 1;
  std::vector<double> part_g(static_cast<std::size_t>(parts * K), 0.0);
  std::vector<double> part_h(static_cast<std::size_t>(parts * K), h_start);
  parallel::for_ranges(n, parts, [&](int part, std::int64_t begin, std::int64_t end) {
    for (std::int64_t b = begin; b < end; b += 4096) {  // Ctrl-C between blocks
      check_interrupt();
      loss_gradient_rows(loss, b, std::min(end, b + 4096), K, y, raw, w, g, h,
                         part_g.data() + part * K, part_h.data() + part * K);
    }
  });
  for (std::int64_t k = 0; k < K; ++k) {
    double gm = 0, hm = h_start;
    for (int part = 0; part < parts; ++part) {
      gm = std::max(gm, part_g[part * K + k]);
      hm = std::max(hm, part_h[part * K + k]);
    }
    ranges[k] = gm;
    ranges[K + k] = hm;
  }
}

}  // namespace mlcore::cpu
