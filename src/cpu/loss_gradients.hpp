// Backend::loss_gradients' arithmetic, written once for every CPU backend (and the simulator's
// vector unit): gradient boosting's trees must come out the same on every backend, and they
// are grown from histograms of these gradients, quantized — a last-bit difference in one g
// can move a sample across a quantization step and change a split. So the formula is plain
// double arithmetic with the C library's exp, in one order, in a baseline-compiled file (no
// FMA contraction, no vector exp approximation); the backends differ only in how many threads
// share the rows, and maxima combine exactly whatever the split.
#pragma once

#include <cstdint>

#include "mlcore/backend.hpp"

namespace mlcore::cpu {

// Rows [begin, end) of Backend::loss_gradients: g, h (n × K; h == nullptr when squared error
// has no weights), and the rows' maxima into g_max[k], h_max[k] (raised, never lowered: the
// caller starts them at 0, or h_max at 1 for the unstored unit hessian). w == nullptr: weight 1.
void loss_gradient_rows(GradientLoss loss, std::int64_t begin, std::int64_t end, std::int64_t K,
                        const double* y, const double* raw, const double* w, double* g, double* h,
                        double* g_max, double* h_max);

// The whole call on `threads` threads (1: the reference's single pass). ranges: 2 × K.
void loss_gradients_cpu(GradientLoss loss, std::int64_t n, std::int64_t K, const double* y,
                        const double* raw, const double* w, double* g, double* h, double* ranges,
                        int threads);

}  // namespace mlcore::cpu
