// Backend::loss_gradients on the CPU (see loss_gradients.hpp for why one file serves every
// CPU backend). Baseline-compiled: the avx2 / avx512 backends run the very same instructions.
#include "loss_gradients.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "mlcore/interrupt.hpp"
#include "mlcore/parallel.hpp"

namespace mlcore::cpu {

void loss_gradient_rows(GradientLoss loss, std::int64_t begin, std::int64_t end, std::int64_t K,
                        const double* y, const double* raw, const double* w, double* g, double* h,
                        double* g_max, double* h_max) {
  for (std::int64_t i = begin; i < end; ++i) {
    const double* r = raw + i * K;
    double* gi = g + i * K;
    double* hi = h != nullptr ? h + i * K : nullptr;
    if (loss == GradientLoss::squared_error) {
      gi[0] = r[0] - y[i];
      if (hi != nullptr) hi[0] = 1.0;
    } else if (loss == GradientLoss::binary_log_loss) {
      const double p = 1.0 / (1.0 + std::exp(-r[0]));
      gi[0] = p - y[i];
      hi[0] = p * (1.0 - p);
    } else {
      const double mx = *std::max_element(r, r + K);
      double s = 0;
      for (std::int64_t k = 0; k < K; ++k) s += std::exp(r[k] - mx);
      const std::int64_t label = static_cast<std::int64_t>(y[i]);
      for (std::int64_t k = 0; k < K; ++k) {
        const double p = std::exp(r[k] - mx) / s;
        gi[k] = p - (label == k ? 1.0 : 0.0);
        hi[k] = p * (1.0 - p);
      }
    }
    // Weights scale both (a weighted squared error's hessian is the weight itself).
    if (w != nullptr) {
      for (std::int64_t k = 0; k < K; ++k) {
        gi[k] *= w[i];
        hi[k] = loss == GradientLoss::squared_error ? w[i] : hi[k] * w[i];
      }
    }
    for (std::int64_t k = 0; k < K; ++k) {
      g_max[k] = std::max(g_max[k], std::fabs(gi[k]));
      if (hi != nullptr) h_max[k] = std::max(h_max[k], hi[k]);
    }
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
