// The avx512 backend's kernels other than the GEMMs (gemm_avx512.hpp): raw pointers, row-major,
// the semantics of the matching Backend primitive (backend.hpp) and of the *_avx2 kernel of the
// same name (primitives_avx2.hpp), which the tests check against the scalar backend. The code
// (sqdist_avx512.cpp, select_rows_avx512.cpp; helpers in simd_avx512.hpp) is compiled with the
// AVX-512 flags; this header is plain C++. Each function needs a CPU with AVX-512F/BW/DQ/VL (the
// backend checks before it is created).
//
// What AVX-512 adds to the lessons of the avx2 kernels is the mask register: a compare writes a
// 16-bit mask (k-register) instead of a vector of all-ones lanes, a blend or a store takes that
// mask directly, and a loop's tail is the body's instruction under a mask (_mm512_maskz_loadu_ps
// never touches memory past the end), so no scalar clean-up loop and no second rounding path
// exist.
//
// Only the primitives AVX-512 makes faster are here; the avx512 backend runs the others on the
// AVX2 kernels, and avx512_backend.cpp says why for each.
#pragma once

#include <cstdint>

#include "mlcore/backend.hpp"

namespace mlcore::cpu {

// D[i, j] = max(0, ‖a_i‖² + ‖b_j‖² − 2·a_i·b_j).  A: m × d, B: n × d, D: m × n. The product is
// one sgemm_avx512 (m·n·d MACs), the norms and the add-and-clamp pass 16 lanes at a time.
void sqdist_avx512(std::int64_t m, std::int64_t n, std::int64_t d, const float* A, const float* B,
                   float* D, int threads);

// For each row i of D (m × n, n ≥ 1): index[i], value[i] = the first minimum (NaN never chosen
// unless the row is all NaN; then index 0).
void argmin_rows_avx512(std::int64_t m, std::int64_t n, const float* D, std::int32_t* index,
                        float* value, int threads);

// For each row i of D (m × n): the k smallest, ascending, by row_select.hpp's order (ties to the
// lower column, NaN last), in index[i·k ..], value[i·k ..]; as topk_rows_avx2, with the best k of
// a row kept in a zmm register for k ≤ 16 (that function otherwise).
void topk_rows_avx512(std::int64_t m, std::int64_t n, std::int64_t k, const float* D,
                      std::int32_t* index, float* value, int threads);

// topk_rows of sqdist(A, B) without the distance matrix (sqdist_topk_avx512.cpp): for each row
// of A (m × d), the k rows of B (n × d, 1 ≤ k ≤ n) nearest to it, exactly the indices and values
// sqdist_avx512 then topk_rows_avx512 give.
void sqdist_topk_avx512(std::int64_t m, std::int64_t n, std::int64_t d, const float* A,
                        const float* B, std::int64_t k, std::int32_t* index, float* value,
                        int threads);

}  // namespace mlcore::cpu
