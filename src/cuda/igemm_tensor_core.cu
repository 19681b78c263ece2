// int8 × int8 → int32 GEMM on the tensor cores: the real-hardware twin of the systolic array.
//
// A tensor core is a small matrix-multiply unit inside each SM sub-partition. One warp-wide
// instruction, mma.sync.m16n8k32.s8, multiplies a 16×32 int8 tile by a 32×8 int8 tile and adds
// the 16×8 int32 result to its accumulators: 4096 MACs per instruction, exact integer
// arithmetic, the same int8 × int8 → int32 MAC a TPU's array performs per PE per cycle. (Hopper
// also has wgmma, issued by four warps at once; mma.sync is the portable sm_80+ path and what
// this lesson uses.)
//
// Shapes (one thread block, 4 warps in a 2 × 2 grid):
//   C_blk   (128, 128) int32     accumulators spread over the 4 warps' registers
//   As      [4 stages][128][64 + 16 pad] int8     A rows m0.., k0..k0+63, K contiguous
//   Bs      [4 stages][128][64 + 16 pad] int8     B rows n0.. (B is n × k), K contiguous
//   warp    (64, 64) = 4 × 8 mma tiles of (16, 8); each k-step of 32 needs 4 A fragments
//           (ldmatrix.x4 each) and 8 B fragments (4 × ldmatrix.x4) for 32 mma instructions
//
// The loop it stands for:
//   for k0 in 0..K step 64:                      // cp.async, 3 stages ahead
//     for kk in {0, 32}:
//       for (i, j) in 4 × 8: acc[i][j] += A[16i.., kk..kk+32] · B[8j.., kk..kk+32]ᵀ   (mma)
//
// Hardware reasons:
//   * cp.async copies global → shared without passing through registers, and a 4-stage ring
//     keeps 3 tiles in flight while the tensor cores work on the fourth: the DRAM latency
//     (~600-800 cycles) hides behind ~3 × 2 × 32 mma per warp.
//   * ldmatrix gives each lane exactly the bytes its mma fragment needs (row g = lane/4,
//     bytes 4·(lane%4)..+3 of a 16-byte row chunk), one instruction for four 8×16-byte matrices.
//   * Rows padded from 64 to 80 bytes: the 8 row addresses of one ldmatrix phase land in 8
//     different 16-byte bank groups (80 = 5 × 16 and gcd(5, 8) = 1), so no bank conflicts.
//   * 64 × 64 warp tiles: 32 mma per 4 KiB of fragments loaded from shared memory, enough
//     reuse that shared-memory bandwidth (128 B/clock/SM) stays below the tensor-core rate.
#include <cstdint>

#include "device_util.cuh"
#include "kernels.hpp"
#include "launch_geometry.hpp"

namespace mlcore::cuda {

namespace {

constexpr int kBM = 128, kBN = 128, kBK = 64;  // block tile; kBK in int8 elements = bytes
constexpr int kStages = 4;
constexpr int kWarpsM = 2, kWarpsN = 2;
constexpr int kThreads = kWarpSize * kWarpsM * kWarpsN;        // 128
constexpr int kWarpM = kBM / kWarpsM, kWarpN = kBN / kWarpsN;  // 64 × 64
constexpr int kMmaM = 16, kMmaN = 8, kMmaK = 32;
constexpr int kFragsM = kWarpM / kMmaM;  // 4
constexpr int kFragsN = kWarpN / kMmaN;  // 8
constexpr int kPitch = kBK + 16;         // bytes per shared-memory row
constexpr int kChunksPerRow = kBK / 16;  // 16-byte cp.async chunks
constexpr int kChunksPerThread = kBM * kChunksPerRow / kThreads;
constexpr int kStageBytes = (kBM + kBN) * kPitch;
constexpr int kSmemBytes = kStages * kStageBytes;  // 80 KiB: needs the opt-in above 48 KiB

static_assert(kBM == kBN, "A and B tiles share one load loop");
static_assert(kBK % kMmaK == 0, "whole mma k-steps per stage");
static_assert(kWarpM % kMmaM == 0 && kWarpN % (2 * kMmaN) == 0,
              "B fragments are loaded two n8 tiles per ldmatrix.x4");
static_assert(kPitch % 16 == 0 && (kPitch / 16) % 2 == 1,
              "16-byte aligned rows whose pitch is an odd number of 16-byte units "
              "(conflict-free ldmatrix)");
static_assert((kBM * kChunksPerRow) % kThreads == 0, "every thread copies the same chunks");
static_assert(kSmemBytes * 2 <= 160 * 1024,
              "two blocks per SM must fit in an A100's 164 KiB of shared memory");

__device__ __forceinline__ unsigned smem_address(const void* p) {
  return static_cast<unsigned>(__cvta_generic_to_shared(p));
}

// 16 bytes global → shared, asynchronously; zero-fills when !valid (src is then not read).
__device__ __forceinline__ void cp_async_16(void* smem, const void* gmem, bool valid) {
  const int src_bytes = valid ? 16 : 0;
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(smem_address(smem)),
               "l"(gmem), "r"(src_bytes));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int kPending>
__device__ __forceinline__ void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(kPending));
}

// Four 8×8 b16 matrices (= four 8-row × 16-byte int8 matrices); lane l gives the row address
// of matrix l / 8, row l % 8, and receives in r[q] bytes 4·(l%4)..+3 of row l/4 of matrix q.
__device__ __forceinline__ void ldmatrix_x4(unsigned (&r)[4], const void* smem) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(smem_address(smem)));
}

// d (16×8 s32) += a (16×32 s8, row-major) · b (32×8 s8, column-major).
__device__ __forceinline__ void mma_s8(int (&d)[4], const unsigned (&a)[4], unsigned b0,
                                       unsigned b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, "
      "{%8, %9}, {%0, %1, %2, %3};\n"
      : "+r"(d[0]), "+r"(d[1]), "+r"(d[2]), "+r"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// A: M × K (row stride lda), B: N × K (row stride ldb), both K-contiguous with 16-byte aligned
// rows and K % 16 == 0. C: M × N int32. grid (ceil(M/128), ceil(N/128)), 128 threads: the
// row tiles on x, whose limit (2^31 − 1 blocks) no M can reach; y holds N's tiles (≤ 65,535).
__global__ void __launch_bounds__(kThreads, 2)
    igemm_mma_kernel(int M, int N, int K, const std::int8_t* __restrict__ A, i64 lda,
                     const std::int8_t* __restrict__ B, i64 ldb, std::int32_t* __restrict__ C,
                     i64 ldc, bool accumulate) {
  extern __shared__ __align__(128) unsigned char smem[];
  const int tid = threadIdx.x, lane = tid % kWarpSize, warp = tid / kWarpSize;
  const int wm = warp / kWarpsN, wn = warp % kWarpsN;
  const i64 m0 = static_cast<i64>(blockIdx.x) * kBM, n0 = static_cast<i64>(blockIdx.y) * kBN;
  const int ktiles = (K + kBK - 1) / kBK;

  // Stage s: As at smem + s·kStageBytes, Bs right after it.
  auto stage_a = [&](int s) { return smem + s * kStageBytes; };
  auto stage_b = [&](int s) { return smem + s * kStageBytes + kBM * kPitch; };

  // Copy tile kt (A and B rows, k0..k0+63) into stage s: 512 + 512 chunks of 16 bytes.
  auto load_stage = [&](int s, int kt) {
    unsigned char* sa = stage_a(s);
    unsigned char* sb = stage_b(s);
    const int k0 = kt * kBK;
#pragma unroll
    for (int l = 0; l < kChunksPerThread; ++l) {
      const int c = tid + l * kThreads;
      const int row = c / kChunksPerRow, col = (c % kChunksPerRow) * 16;
      const bool k_ok = k0 + col < K;  // K % 16 == 0: a chunk is wholly in or out
      const bool a_ok = k_ok && m0 + row < M;
      const bool b_ok = k_ok && n0 + row < N;
      cp_async_16(sa + row * kPitch + col, a_ok ? A + (m0 + row) * lda + k0 + col : A, a_ok);
      cp_async_16(sb + row * kPitch + col, b_ok ? B + (n0 + row) * ldb + k0 + col : B, b_ok);
    }
  };

  int acc[kFragsM][kFragsN][4];
#pragma unroll
  for (int i = 0; i < kFragsM; ++i)
#pragma unroll
    for (int j = 0; j < kFragsN; ++j)
#pragma unroll
      for (int e = 0; e < 4; ++e) acc[i][j][e] = 0;

  // Prologue: tiles 0 .. kStages-2 in flight. One commit per stage, even when empty, so that
  // "group t" always means "tile t" in the waits below.
#pragma unroll
  for (int s = 0; s < kStages - 1; ++s) {
    if (s < ktiles) load_stage(s, s);
    cp_async_commit();
  }

  for (int kt = 0; kt < ktiles; ++kt) {
    // Groups committed so far: tiles 0 .. kt + kStages - 2. Waiting until at most kStages - 2
    // are pending means tile kt has landed (for this thread's copies) ...
    cp_async_wait<kStages - 2>();
    // ... and after the barrier for everyone's copies. The barrier also means every warp has
    // finished computing on tile kt - 1, whose stage the next copy overwrites.
    __syncthreads();
    const int next = kt + kStages - 1;
    if (next < ktiles) load_stage(next % kStages, next);
    cp_async_commit();

    const unsigned char* sa = stage_a(kt % kStages);
    const unsigned char* sb = stage_b(kt % kStages);
#pragma unroll
    for (int kk = 0; kk < kBK; kk += kMmaK) {
      unsigned a[kFragsM][4], b[kFragsN][2];
#pragma unroll
      for (int i = 0; i < kFragsM; ++i) {
        // Matrices q = lane/8: (rows 0-7, k 0-15), (rows 8-15, k 0-15), (rows 0-7, k 16-31),
        // (rows 8-15, k 16-31) = the A fragment's registers a0..a3 of m16n8k32.
        const int row = wm * kWarpM + i * kMmaM + (lane % 8) + ((lane / 8) % 2) * 8;
        const int col = kk + (lane / 16) * 16;
        ldmatrix_x4(a[i], sa + row * kPitch + col);
      }
#pragma unroll
      for (int j = 0; j < kFragsN; j += 2) {
        // Matrices: (n 0-7, k 0-15), (n 0-7, k 16-31), (n 8-15, k 0-15), (n 8-15, k 16-31)
        // = b0, b1 of n-tile j and b0, b1 of n-tile j + 1.
        const int row = wn * kWarpN + j * kMmaN + (lane / 16) * 8 + (lane % 8);
        const int col = kk + ((lane / 8) % 2) * 16;
        unsigned r[4];
        ldmatrix_x4(r, sb + row * kPitch + col);
        b[j][0] = r[0];
        b[j][1] = r[1];
        b[j + 1][0] = r[2];
        b[j + 1][1] = r[3];
      }
#pragma unroll
      for (int i = 0; i < kFragsM; ++i)
#pragma unroll
        for (int j = 0; j < kFragsN; ++j) mma_s8(acc[i][j], a[i], b[j][0], b[j][1]);
    }
  }
  cp_async_wait<0>();  // nothing real is pending (only empty groups), but leave none behind

  // Epilogue. Accumulator e of tile (i, j) is C[row g (+8 for e ≥ 2), column 2·t + e % 2] of
  // that 16 × 8 tile, with g = lane / 4, t = lane % 4: a quad of lanes writes 32 contiguous bytes.
  const int g = lane / 4, t = lane % 4;
#pragma unroll
  for (int i = 0; i < kFragsM; ++i) {
#pragma unroll
    for (int half = 0; half < 2; ++half) {
      const i64 row = m0 + wm * kWarpM + i * kMmaM + g + half * 8;
      if (row >= M) continue;
#pragma unroll
      for (int j = 0; j < kFragsN; ++j) {
        const i64 col = n0 + wn * kWarpN + j * kMmaN + 2 * t;
#pragma unroll
        for (int e = 0; e < 2; ++e) {
          if (col + e < N) {
            std::int32_t* c = C + row * ldc + col + e;
            const int v = acc[i][j][half * 2 + e];
            // Wrap-around on overflow, like the int32 adders of the tensor core.
            *c = accumulate ? static_cast<std::int32_t>(static_cast<unsigned>(*c) +
                                                        static_cast<unsigned>(v))
                            : v;
          }
        }
      }
    }
  }
}

// One 32 × 32 tile of the packing below, rows [r0, r0+32) and k [k0, k0+32).
__device__ void pack_tile(const std::int8_t* __restrict__ src, i64 ld, bool trans, i64 R, i64 K,
                          i64 Kp, i64 r0, i64 k0, std::int8_t (&tile)[32][33],
                          std::int8_t* __restrict__ out) {
  const int tx = threadIdx.x, ty = threadIdx.y;
  if (trans) {
    for (int y = ty; y < 32; y += 8) {  // read along r (contiguous in src)
      const i64 k = k0 + y, r = r0 + tx;
      tile[y][tx] = (k < K && r < R) ? src[k * ld + r] : std::int8_t{0};
    }
    __syncthreads();
    for (int y = ty; y < 32; y += 8) {  // write along k (contiguous in out)
      const i64 r = r0 + y, k = k0 + tx;
      if (r < R && k < Kp) out[r * Kp + k] = tile[tx][y];
    }
  } else {
    for (int y = ty; y < 32; y += 8) {
      const i64 r = r0 + y, k = k0 + tx;
      if (r < R && k < Kp) out[r * Kp + k] = k < K ? src[r * ld + k] : std::int8_t{0};
    }
  }
}

// out (R × Kp) = the operand in K-contiguous form, zero-padded for k ≥ K:
//   trans = false: src is R × K, element (r, k) at src[r·ld + k]
//   trans = true:  src is K × R, element (r, k) at src[k·ld + r]
// 32 × 32 tiles through shared memory so that both the read and the write are coalesced.
// Block (32, 8); the blocks stride over the ceil(R/32) × ceil(Kp/32) tiles, numbered k-tile
// fastest, so that neither R nor K meets a grid-dimension limit.
__global__ void pack_k_contiguous_kernel(const std::int8_t* __restrict__ src, i64 ld, bool trans,
                                         i64 R, i64 K, i64 Kp, std::int8_t* __restrict__ out) {
  __shared__ std::int8_t tile[32][33];
  const i64 k_tiles = (Kp + 31) / 32, tiles = (R + 31) / 32 * k_tiles;
  for (i64 t = blockIdx.x; t < tiles; t += gridDim.x) {
    pack_tile(src, ld, trans, R, K, Kp, (t / k_tiles) * 32, (t % k_tiles) * 32, tile, out);
    __syncthreads();  // the tile buffer is reused by this block's next tile
  }
}

const std::int8_t* pack(const std::int8_t* src, i64 ld, bool trans, i64 R, i64 K, i64 Kp,
                        cudaStream_t stream, Workspace& workspace) {
  std::int8_t* out = workspace.alloc<std::int8_t>(static_cast<std::size_t>(R * Kp));
  const i64 tiles = ceil_div<i64>(R, 32) * ceil_div<i64>(Kp, 32);
  pack_k_contiguous_kernel<<<grid_for(tiles, 1), dim3(32, 8), 0, stream>>>(src, ld, trans, R, K, Kp,
                                                                           out);
  MLCORE_CUDA_CHECK_LAUNCH();
  return out;
}

bool rows_ok(const std::int8_t* p, i64 ld, i64 k) {
  return ld % 16 == 0 && k % 16 == 0 && is_aligned(p, 16);
}

}  // namespace

bool igemm_runs_unpacked(bool trans_a, bool trans_b, i64 k, const std::int8_t* A, i64 lda,
                         const std::int8_t* B, i64 ldb) {
  // A must be stored m × k (not transposed) and B stored n × k (transposed), K contiguous.
  return !trans_a && trans_b && rows_ok(A, lda, k) && rows_ok(B, ldb, k);
}

void igemm(bool trans_a, bool trans_b, i64 m, i64 n, i64 k, const std::int8_t* A, i64 lda,
           const std::int8_t* B, i64 ldb, bool accumulate, std::int32_t* C, i64 ldc,
           cudaStream_t stream, Workspace& workspace) {
  if (m == 0 || n == 0) return;
  MLCORE_CHECK(m < (i64{1} << 31) && n < (i64{1} << 31) && k < (i64{1} << 31),
               "int8 gemm: dimensions must be below 2^31, got " << m << "x" << n << "x" << k);
  const i64 grid_y = ceil_div<i64>(n, kBN);
  MLCORE_CHECK(grid_y <= kMaxGridYZ, "int8 gemm: n = " << n << " needs " << grid_y
                                                       << " column tiles, over " << kMaxGridYZ);
  // K is padded to the kernel's 16-byte k-step, and the padded K must still fit its int.
  const i64 k_padded = padded_k_or_overflow(k, 16);
  MLCORE_CHECK(k_padded >= 0,
               "int8 gemm: k = " << k << " rounds up to a multiple of 16 past 2^31 - 1");
  // Bring each operand into the kernel's form (K contiguous, 16-byte rows) unless it already is.
  const std::int8_t* a = A;
  const std::int8_t* b = B;
  i64 kp = k;
  // (k = 0 needs no operand at all: the kernel only writes 0 or leaves C.)
  if (k > 0 && !igemm_runs_unpacked(trans_a, trans_b, k, A, lda, B, ldb)) {
    kp = k_padded;
    a = pack(A, lda, trans_a, m, k, kp, stream, workspace);   // op(A) = A or (A stored k × m)ᵀ
    b = pack(B, ldb, !trans_b, n, k, kp, stream, workspace);  // B stored k × n needs the transpose
    lda = ldb = kp;
  }
  // More than 48 KiB of dynamic shared memory must be asked for (per device, so every time:
  // the call is cheap).
  MLCORE_CUDA_CHECK(cudaFuncSetAttribute(igemm_mma_kernel,
                                         cudaFuncAttributeMaxDynamicSharedMemorySize, kSmemBytes));
  const dim3 grid(static_cast<unsigned>(ceil_div<i64>(m, kBM)), static_cast<unsigned>(grid_y));
  igemm_mma_kernel<<<grid, kThreads, kSmemBytes, stream>>>(static_cast<int>(m), static_cast<int>(n),
                                                           static_cast<int>(kp), a, lda, b, ldb, C,
                                                           ldc, accumulate);
  MLCORE_CUDA_CHECK_LAUNCH();
}

}  // namespace mlcore::cuda
