// The systolic backend: exact int8 results, the two cycle modes against each other, cycle
// counts derived by hand, SCALE-Sim's reported counts, f32 primitives within their quantization
// bound, non-MAC primitives equal to the scalar reference, and the profile it records.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "cpu/gemm_scalar.hpp"
#include "mlcore/systolic.hpp"
#include "systolic/quantize.hpp"
#include "test_util.hpp"

namespace mlcore::test {
namespace {

SystolicConfig small_array(std::int64_t rows, std::int64_t cols, Dataflow d,
                           Convention conv = Convention::physical,
                           SimMode mode = SimMode::analytic) {
  SystolicConfig c = systolic_preset("tpu-v1");
  c.rows = rows;
  c.cols = cols;
  c.dataflow = d;
  c.convention = conv;
  c.mode = mode;
  return c;
}

const Dataflow kDataflows[] = {Dataflow::ws, Dataflow::os, Dataflow::is};
const Convention kConventions[] = {Convention::physical, Convention::scalesim};

std::string label(const SystolicConfig& c, std::int64_t m, std::int64_t n, std::int64_t k) {
  return to_string(c) + " gemm " + std::to_string(m) + "x" + std::to_string(n) + "x" +
         std::to_string(k);
}

// op(A)·op(B) by the plain int8 reference.
Tensor reference_i8(const Tensor& A, bool ta, const Tensor& B, bool tb) {
  const std::int64_t m = ta ? A.cols() : A.rows(), k = ta ? A.rows() : A.cols();
  const std::int64_t n = tb ? B.rows() : B.cols();
  Tensor C(m, n, DType::i32);
  cpu::igemm_scalar(ta, tb, m, n, k, A.data<std::int8_t>(), A.cols(), B.data<std::int8_t>(),
                    B.cols(), false, C.data<std::int32_t>(), n);
  return C;
}

void expect_equal_i32(const Tensor& got, const Tensor& want, const std::string& what) {
  ASSERT_EQ(got.numel(), want.numel()) << what;
  const std::int32_t* g = got.data<std::int32_t>();
  const std::int32_t* w = want.data<std::int32_t>();
  for (std::int64_t i = 0; i < got.numel(); ++i) {
    ASSERT_EQ(g[i], w[i]) << what << " at flat index " << i;
  }
}

// ---- exact int8 ---------------------------------------------------------------------------

struct Shape {
  std::int64_t m, n, k;
};
// 1×1, primes, smaller than, equal to and larger than the 8 × 8 and 5 × 7 arrays below.
const Shape kShapes[] = {{1, 1, 1},    {1, 7, 3},  {13, 1, 17}, {8, 8, 8},  {7, 5, 11},
                         {17, 19, 23}, {3, 29, 2}, {31, 4, 37}, {40, 16, 9}};

TEST(SystolicInt8, AnalyticModeIsBitExactForEveryDataflowAndTranspose) {
  std::mt19937 rng(1);
  for (Dataflow d : kDataflows) {
    for (auto [rows, cols] : {std::pair<int, int>{8, 8}, {5, 7}, {1, 1}}) {
      BackendPtr b = make_systolic_backend(small_array(rows, cols, d));
      for (const Shape& s : kShapes) {
        for (bool ta : {false, true}) {
          for (bool tb : {false, true}) {
            Tensor A = ta ? random_i8(s.k, s.m, rng) : random_i8(s.m, s.k, rng);
            Tensor B = tb ? random_i8(s.n, s.k, rng) : random_i8(s.k, s.n, rng);
            Tensor C(s.m, s.n, DType::i32);
            b->gemm(ta ? Trans::yes : Trans::no, tb ? Trans::yes : Trans::no, 1.0f, A, B, 0.0f, C);
            expect_equal_i32(C, reference_i8(A, ta, B, tb), b->description());
          }
        }
      }
    }
  }
}

TEST(SystolicInt8, BetaOneAccumulatesIntoC) {
  std::mt19937 rng(2);
  BackendPtr b = make_systolic_backend(small_array(4, 4, Dataflow::ws));
  Tensor A = random_i8(9, 6, rng), B = random_i8(6, 5, rng);
  Tensor C(9, 5, DType::i32);
  for (std::int64_t i = 0; i < C.numel(); ++i) C.data<std::int32_t>()[i] = static_cast<int>(i);
  b->gemm(Trans::no, Trans::no, 1.0f, A, B, 1.0f, C);
  Tensor want = reference_i8(A, false, B, false);
  for (std::int64_t i = 0; i < C.numel(); ++i) want.data<std::int32_t>()[i] += static_cast<int>(i);
  expect_equal_i32(C, want, "beta = 1");
}

TEST(SystolicInt8, ExtremeCodesAreExact) {
  // All −128 × −128: the largest products; k = 256 sums to 2^22, far from int32's limit.
  BackendPtr b = make_systolic_backend(small_array(16, 16, Dataflow::os));
  Tensor A(3, 256, DType::i8), B(256, 2, DType::i8), C(3, 2, DType::i32);
  std::fill_n(A.data<std::int8_t>(), A.numel(), std::int8_t{-128});
  std::fill_n(B.data<std::int8_t>(), B.numel(), std::int8_t{-128});
  b->gemm(Trans::no, Trans::no, 1.0f, A, B, 0.0f, C);
  for (std::int64_t i = 0; i < C.numel(); ++i) EXPECT_EQ(C.data<std::int32_t>()[i], 256 * 16384);
}

// ---- the two cycle modes agree -----------------------------------------------------------------

TEST(SystolicCycles, SteppedEqualsAnalyticOnRandomSmallConfigs) {
  std::mt19937 rng(3);
  std::uniform_int_distribution<int> dim(1, 9), size(1, 23), acc_rows(1, 6);
  for (int trial = 0; trial < 60; ++trial) {
    for (Dataflow d : kDataflows) {
      for (Convention conv : kConventions) {
        SystolicConfig c = small_array(dim(rng), dim(rng), d, conv);
        // Small accumulators so that the physical ws/is model streams in several chunks.
        c.accumulator_bytes = 2 * 4 * c.cols * acc_rows(rng);
        const std::int64_t m = size(rng), n = size(rng), k = size(rng);
        Tensor A = random_i8(m, k, rng), B = random_i8(k, n, rng), C(m, n, DType::i32);
        const SystolicGemmStats stepped = systolic_gemm_stepped(c, A, B, C);
        const SystolicGemmStats analytic = systolic_gemm_cycles(c, m, n, k);
        ASSERT_EQ(stepped.compute_cycles, analytic.compute_cycles) << label(c, m, n, k);
        ASSERT_EQ(stepped.stall_cycles, analytic.stall_cycles) << label(c, m, n, k);
        ASSERT_EQ(stepped.folds, analytic.folds) << label(c, m, n, k);
        expect_equal_i32(C, reference_i8(A, false, B, false), label(c, m, n, k));
      }
    }
  }
}

TEST(SystolicCycles, SteppedBackendMatchesAnalyticBackendRecord) {
  std::mt19937 rng(4);
  for (Dataflow d : kDataflows) {
    SystolicConfig c = small_array(6, 5, d);
    SystolicConfig cs = c;
    cs.mode = SimMode::stepped;
    BackendPtr analytic = make_systolic_backend(c), stepped = make_systolic_backend(cs);
    Tensor A = random_tensor(23, 17, rng), B = random_tensor(17, 11, rng);
    Tensor C1(23, 11), C2(23, 11);
    Profile p1, p2;
    {
      ProfileScope s(p1);
      analytic->gemm(Trans::no, Trans::no, 1.0f, A, B, 0.0f, C1);
    }
    {
      ProfileScope s(p2);
      stepped->gemm(Trans::no, Trans::no, 1.0f, A, B, 0.0f, C2);
    }
    EXPECT_EQ(p1.records()[0].sim->cycles(), p2.records()[0].sim->cycles());
    for (std::int64_t i = 0; i < C1.numel(); ++i) {
      ASSERT_EQ(C1.data<float>()[i], C2.data<float>()[i]) << "same codes, same result";
    }
  }
}

// ---- cycle counts derived by hand ----------------------------------------------------------

std::int64_t compute_cycles(const SystolicConfig& c, std::int64_t m, std::int64_t n,
                            std::int64_t k) {
  const std::int64_t analytic = systolic_gemm_cycles(c, m, n, k).compute_cycles;
  std::mt19937 rng(5);
  Tensor A = random_i8(m, k, rng), B = random_i8(k, n, rng), C(m, n, DType::i32);
  EXPECT_EQ(systolic_gemm_stepped(c, A, B, C).compute_cycles, analytic) << label(c, m, n, k);
  return analytic;
}

TEST(SystolicCycles, OneTileThatFitsExactly) {
  // A 4 × 4 array, C (4 × 4) = A (4 × 4) · B (4 × 4): one fold.
  // ws physical: the weights take R = 4 cycles to shift in (cycles 0-3). Row i of A enters
  //   array row r at 4 + i + r and leaves the bottom of column c at 4 + i + (R − 1) + c; the
  //   last (i = 3, c = 3) at 4 + 3 + 3 + 3 = 13: 14 cycles = 2R + M + N − 2.
  EXPECT_EQ(compute_cycles(small_array(4, 4, Dataflow::ws), 4, 4, 4), 14);
  // is: the same with A and B exchanged (the array holds A, the columns of B stream): 14.
  EXPECT_EQ(compute_cycles(small_array(4, 4, Dataflow::is), 4, 4, 4), 14);
  // os physical: A[r, κ] and B[κ, c] meet in PE (r, c) at κ + r + c; PE (3, 3) finishes at
  //   3 + 3 + 3 = 9; its sum climbs 3 rows to the output buffer (cycle 12): the last of the
  //   fold, 13 cycles = K + 2·rt + w − 3.
  EXPECT_EQ(compute_cycles(small_array(4, 4, Dataflow::os), 4, 4, 4), 13);
  // scalesim: ws and is 2R + C + T − 2 − 1 = 8 + 4 + 4 − 3 = 13; os R + C + K − 2 − 1 = 9.
  EXPECT_EQ(compute_cycles(small_array(4, 4, Dataflow::ws, Convention::scalesim), 4, 4, 4), 13);
  EXPECT_EQ(compute_cycles(small_array(4, 4, Dataflow::os, Convention::scalesim), 4, 4, 4), 9);
}

TEST(SystolicCycles, OneRowGemv) {
  // y (1 × 4) = x (1 × 4) · W (4 × 4) on a 4 × 4 ws array: 4 cycles to load W, x enters at
  // cycle 4, its last partial sum leaves column 3 at 4 + 0 + 3 + 3 = 10: 11 cycles, of which
  // the 16 MACs fill 16 / (16 · 11) = 1/11 of the PE-cycles.
  const SystolicConfig c = small_array(4, 4, Dataflow::ws);
  EXPECT_EQ(compute_cycles(c, 1, 4, 4), 11);
  SystolicConfig no_dram = c;
  no_dram.dram_bytes_per_second = 1e30;  // isolate the array: no memory time
  const SystolicGemmStats s = systolic_gemm_cycles(no_dram, 1, 4, 4);
  EXPECT_EQ(s.stall_cycles, 0);
  EXPECT_DOUBLE_EQ(s.utilization, 1.0 / 11.0);
}

TEST(SystolicCycles, KLargerThanTheArray) {
  // C (6 × 4) = A (6 × 10) · B (10 × 4) on 4 × 4, ws physical: K folds of depth 4, 4, 2.
  // Fold 0's weights load in cycles 0-3, so s₀ = 4. Each next tile shifts in while the current
  // one streams; it may start max(M, R) = max(6, 4) = 6 cycles later: s = 4, 10, 16. The last
  // fold's last row (i = 5) enters at 21 and leaves column 3 at 21 + 3 + 3 = 27: 28 cycles.
  EXPECT_EQ(compute_cycles(small_array(4, 4, Dataflow::ws), 6, 4, 10), 28);
  // With M = 2 < R the weight shifts cannot be hidden: s = 4, 8, 12, end 12 + 2 + 4 + 4 − 2 = 20.
  EXPECT_EQ(compute_cycles(small_array(4, 4, Dataflow::ws), 2, 4, 10), 20);
  // scalesim: 3 folds × (2·4 + 4 + 6 − 2) − 1 = 47.
  EXPECT_EQ(compute_cycles(small_array(4, 4, Dataflow::ws, Convention::scalesim), 6, 4, 10), 47);
  // os physical, K = 10 > 2·rt − 1 = 7: folds 10 cycles apart; one fold here (6 > 4 rows: two).
  // Row tiles 4 and 2: s = 0, 10; the second ends at 10 + 10 + 2·2 + 4 − 3 = 25; the first at
  // 0 + 10 + 8 + 4 − 3 = 19. 25 cycles.
  EXPECT_EQ(compute_cycles(small_array(4, 4, Dataflow::os), 6, 4, 10), 25);
}

TEST(SystolicCycles, WorkedExampleOfTheDocs) {
  // docs/SYSTOLIC.md, "Worked example": C (1000 × 10) = A (1000 × 64) · B (64 × 10) on tpu-v1.
  const SystolicConfig c = systolic_preset("tpu-v1");
  const SystolicGemmStats s = systolic_gemm_cycles(c, 1000, 10, 64);
  EXPECT_EQ(s.folds, 1);
  EXPECT_EQ(s.compute_cycles, 2 * 256 + 1000 + 10 - 2);  // 1520
  EXPECT_EQ(s.dram_read_bytes, 1000 * 64 + 64 * 10);     // 64 640
  EXPECT_EQ(s.dram_write_bytes, 4 * 1000 * 10);          // 40 000
  // load 64 640 B at 34e9/700e6 = 48.57 B/cycle: 1331; store 40 000 B: 824; all: 2155.
  EXPECT_EQ(s.stall_cycles, 1331 + 824);
  EXPECT_EQ(s.cycles(), 3675);
  EXPECT_NEAR(s.utilization, 640000.0 / (65536.0 * 3675.0), 1e-12);
  // The backend records the same for the f32 GEMM, 3675 cycles = 5.25 µs at 700 MHz.
  BackendPtr b = backend("systolic");
  std::mt19937 rng(6);
  Tensor A = random_tensor(1000, 64, rng), B = random_tensor(64, 10, rng), C(1000, 10);
  Profile p;
  {
    ProfileScope scope(p);
    b->gemm(Trans::no, Trans::no, 1.0f, A, B, 0.0f, C);
  }
  const OpRecord r = p.records()[0];
  ASSERT_TRUE(r.sim.has_value());
  EXPECT_EQ(r.sim->compute_cycles, 1520);
  EXPECT_EQ(r.sim->cycles(), 3675);
  EXPECT_TRUE(r.seconds_simulated);
  EXPECT_NEAR(r.seconds, 3675 / 700e6, 1e-15);
  EXPECT_DOUBLE_EQ(r.sim->clock_hz, 700e6);
}

// SCALE-Sim v3.0.0 (pip install scalesim; numpy < 2.4), GEMM mode, "Total Cycles" with 0 stall
// cycles (CALC bandwidth mode), measured on these shapes (bench/RESULTS.md, "systolic").
struct ScaleSimCase {
  const char* df;
  std::int64_t R, C, M, N, K, cycles;
};
const ScaleSimCase kScaleSim[] = {
    {"os", 8, 8, 20, 12, 10, 143},  {"os", 4, 4, 1, 1, 1, 6},       {"os", 4, 8, 7, 13, 5, 59},
    {"os", 8, 4, 30, 3, 17, 107},   {"os", 16, 16, 5, 40, 33, 188}, {"os", 3, 5, 11, 7, 13, 151},
    {"os", 8, 8, 8, 8, 8, 21},      {"ws", 8, 8, 20, 12, 10, 167},  {"ws", 4, 4, 1, 1, 1, 10},
    {"ws", 4, 8, 7, 13, 5, 83},     {"ws", 8, 4, 30, 3, 17, 143},   {"ws", 16, 16, 5, 40, 33, 458},
    {"ws", 3, 5, 11, 7, 13, 199},   {"ws", 8, 8, 8, 8, 8, 29},      {"is", 8, 8, 20, 12, 10, 203},
    {"is", 4, 4, 1, 1, 1, 10},      {"is", 4, 8, 7, 13, 5, 53},     {"is", 8, 4, 30, 3, 17, 503},
    {"is", 16, 16, 5, 40, 33, 257}, {"is", 3, 5, 11, 7, 13, 239},   {"is", 8, 8, 8, 8, 8, 29},
};

TEST(SystolicCycles, ScalesimConventionReproducesScaleSimCounts) {
  for (const ScaleSimCase& s : kScaleSim) {
    const SystolicConfig c = small_array(s.R, s.C, parse_dataflow(s.df), Convention::scalesim);
    EXPECT_EQ(compute_cycles(c, s.M, s.N, s.K), s.cycles) << label(c, s.M, s.N, s.K);
  }
}

TEST(SystolicCycles, AnalyticCountOfALargeGemmIsImmediate) {
  // 1024³ on tpu-v1 ws: 4 × 4 folds of 1024 rows, 1024 > R so every weight load is hidden:
  // s₀ = 256, period 1024; the last fold ends at 256 + 15·1024 + 1024 + 256 + 256 − 2.
  const SystolicGemmStats s = systolic_gemm_cycles(systolic_preset("tpu-v1"), 1024, 1024, 1024);
  EXPECT_EQ(s.folds, 16);
  EXPECT_EQ(s.compute_cycles, 256 + 16 * 1024 + 256 + 256 - 2);
  // The array alone would be 94% busy (2^30 MACs in 17 150 cycles of 65 536 PEs) ...
  EXPECT_GT(double(1 << 30) / (65536.0 * s.compute_cycles), 0.9);
  // ... but 6 MiB must cross the 34 GB/s interface (A and B as int8, C as 4-byte values):
  // 129 553 cycles, so the GEMM is memory-bound at 2·2^30 / 6 MiB = 341 ops/byte, below the
  // TPU v1's ridge point of 1350 (Jouppi et al. 2017, Section 4).
  EXPECT_EQ(s.cycles(), (6ll << 20) * 700 / 34000 + 1);
  EXPECT_NEAR(s.utilization, double(1 << 30) / (65536.0 * s.cycles()), 1e-12);
}

TEST(SystolicCycles, AccumulatorCapacitySplitsTheStream) {
  // ws physical on tpu-v1 holds 2048 streamed rows per fold group (4 MiB / (2 · 256 · 4 B)):
  // M = 5000 streams as 2048 + 2048 + 904, each with its own weight loads.
  const SystolicConfig c = systolic_preset("tpu-v1");
  const SystolicGemmStats s = systolic_gemm_cycles(c, 5000, 256, 256);
  EXPECT_EQ(s.folds, 3);
  EXPECT_EQ(s.compute_cycles, 256 + 2048 + 2048 + 904 + 256 + 256 - 2);
  EXPECT_EQ(s.dram_read_bytes, 5000 * 256 + 3 * 256 * 256);  // weights once per chunk
}

TEST(SystolicCycles, SmallBuffersRereadOperandsAndStallLonger) {
  // os on 8 × 8, 64 × 64 × 64: with a 24 MiB buffer A and B are read once (8 KiB). With the
  // smallest buffer (two 8 × 8 tiles, half of it 64 B) neither an 8-row tile of A (512 B) nor B
  // fits: A is re-read for each of the 8 column tiles and B for each of the 8 row tiles.
  SystolicConfig big = small_array(8, 8, Dataflow::os);
  big.dram_bytes_per_second = 1e9;  // 1.43 B per cycle: memory-bound either way
  SystolicConfig tiny = big;
  tiny.unified_buffer_bytes = 2 * 8 * 8;
  const SystolicGemmStats a = systolic_gemm_cycles(big, 64, 64, 64);
  const SystolicGemmStats b = systolic_gemm_cycles(tiny, 64, 64, 64);
  EXPECT_EQ(a.dram_read_bytes, 2 * 64 * 64);
  EXPECT_EQ(b.dram_read_bytes, 2 * 64 * 64 * 8);
  EXPECT_EQ(a.compute_cycles, b.compute_cycles);
  // Memory-bound: total = DRAM bytes / 1.43 B per cycle, 4 KiB of A and B + 16 KiB of C
  // against 32 + 32 KiB of re-read operands + 16 KiB.
  EXPECT_EQ(a.cycles(), ((2 * 4096 + 16384) * 700 + 999) / 1000);  // ⌈bytes · 0.7⌉
  EXPECT_EQ(b.cycles(), ((16 * 4096 + 16384) * 700 + 999) / 1000);
}

TEST(SystolicCycles, VectorUnitCostsLaneCyclesOverLanes) {
  // exp costs 4 lane-cycles per element: 1000 elements on 256 lanes = ⌈4000 / 256⌉ = 16 cycles.
  BackendPtr b = backend("systolic");
  Tensor X(1000, 1), Y(1000, 1);
  Profile p;
  {
    ProfileScope s(p);
    b->map(MapFn::exp, X, Y);
  }
  const OpRecord r = p.records()[0];
  EXPECT_EQ(r.sim->compute_cycles, 16);
  // 4000 B in and 4000 B out at 48.57 B/cycle: ⌈8000 / 48.57⌉ = 165 cycles of DRAM time, which
  // bounds the op (first vector 22 + 16 + last vector 22 = 60 < 165).
  EXPECT_EQ(r.sim->cycles(), 165);
  EXPECT_EQ(r.sim->dram_read_bytes, 4000);
  EXPECT_EQ(r.sim->dram_write_bytes, 4000);
}

// ---- wavefront trace ---------------------------------------------------------------------------

TEST(SystolicTrace, RecordsEveryCycleAndEveryUsefulMac) {
  std::mt19937 rng(7);
  for (Dataflow d : kDataflows) {
    const SystolicConfig c = small_array(3, 4, d);
    Tensor A = random_i8(5, 6, rng), B = random_i8(6, 2, rng), C(5, 2, DType::i32);
    const WavefrontTrace t = systolic_trace(c, A, B, C);
    EXPECT_EQ(t.cycles, systolic_gemm_cycles(c, 5, 2, 6).compute_cycles);
    const std::size_t entries = static_cast<std::size_t>(t.cycles * 3 * 4);
    ASSERT_EQ(t.left.size(), entries);
    ASSERT_EQ(t.top.size(), entries);
    ASSERT_EQ(t.acc.size(), entries);
    ASSERT_EQ(t.busy.size(), entries);
    std::int64_t busy = 0;
    for (std::uint8_t v : t.busy) busy += v;
    EXPECT_EQ(busy, 5 * 2 * 6) << "one busy PE-cycle per useful MAC, " << dataflow_name(d);
    expect_equal_i32(C, reference_i8(A, false, B, false), "trace result");
  }
}

TEST(SystolicTrace, RefusesHugeTraces) {
  Tensor A(2000, 300, DType::i8), B(300, 300, DType::i8), C(2000, 300, DType::i32);
  EXPECT_THROW(systolic_trace(systolic_preset("tpu-v1"), A, B, C), Error);
}

// ---- f32 primitives within their quantization bound --------------------------------------------

// |x − x̂| ≤ s/2 for each quantized value, s = max|x| / 127 over its group.
double half_step(double max_abs) { return max_abs / 127.0 / 2.0; }

TEST(SystolicF32, GemmWithinTheQuantizationBound) {
  std::mt19937 rng(8);
  BackendPtr b = backend("systolic");
  for (const Shape& s : {Shape{1, 1, 1}, Shape{37, 41, 29}, Shape{300, 20, 257}}) {
    for (bool ta : {false, true}) {
      for (bool tb : {false, true}) {
        Tensor A = ta ? random_tensor(s.k, s.m, rng) : random_tensor(s.m, s.k, rng);
        Tensor B = tb ? random_tensor(s.n, s.k, rng, -3.0f, 3.0f)
                      : random_tensor(s.k, s.n, rng, -3.0f, 3.0f);
        Tensor C0 = random_tensor(s.m, s.n, rng);
        const float alpha = 1.5f, beta = 0.5f;
        // op(A) is quantized per row: one scale per sample.
        std::vector<double> amax(s.m, 0.0);
        for (std::int64_t i = 0; i < s.m; ++i) {
          for (std::int64_t p = 0; p < s.k; ++p)
            amax[i] = std::max(amax[i], std::fabs(op_at(A, ta, i, p)));
        }
        std::vector<double> ref(s.m * s.n), tol(s.m * s.n), zero(s.m * s.n, 1.0);
        for (std::int64_t j = 0; j < s.n; ++j) {
          double bmax = 0;
          for (std::int64_t p = 0; p < s.k; ++p)
            bmax = std::max(bmax, std::fabs(op_at(B, tb, p, j)));
          for (std::int64_t i = 0; i < s.m; ++i) {
            double sum = 0, bound = 0;
            for (std::int64_t p = 0; p < s.k; ++p) {
              const double a = op_at(A, ta, i, p), bb = op_at(B, tb, p, j);
              sum += a * bb;
              // |âb̂ − ab| ≤ |a|·|b − b̂| + |b̂|·|a − â|
              bound += std::fabs(a) * half_step(bmax) +
                       (std::fabs(bb) + half_step(bmax)) * half_step(amax[i]);
            }
            const double c = beta * C0.at<float>(i, j);
            ref[i * s.n + j] = alpha * sum + c;
            // + f32 rounding of the result
            tol[i * s.n + j] =
                alpha * bound + 4 * kEpsF32 * (std::fabs(alpha * sum) + std::fabs(c));
          }
        }
        Tensor C = C0.clone();
        b->gemm(ta ? Trans::yes : Trans::no, tb ? Trans::yes : Trans::no, alpha, A, B, beta, C);
        expect_close(C, ref, tol, 1.0, 1e-7, "systolic f32 gemm");
      }
    }
  }
}

TEST(SystolicF32, GemmKeepsEachRowsPrecision) {
  // Row 0 is 1000 times larger than row 1. With one scale for all of A, row 1's values (about
  // 0.001 of the largest) would all round to code 0 and its products to 0; with a scale per row
  // each row keeps ~1% relative precision.
  BackendPtr b = backend("systolic");
  std::mt19937 rng(12);
  const std::int64_t k = 64, n = 5;
  Tensor A = random_tensor(2, k, rng, 0.5f, 1.0f), B = random_tensor(k, n, rng, 0.5f, 1.0f);
  for (std::int64_t p = 0; p < k; ++p) A.at<float>(0, p) *= 1000.0f;
  Tensor C(2, n);
  b->gemm(Trans::no, Trans::no, 1.0f, A, B, 0.0f, C);
  for (std::int64_t i = 0; i < 2; ++i) {
    for (std::int64_t j = 0; j < n; ++j) {
      double ref = 0;
      for (std::int64_t p = 0; p < k; ++p) ref += double(A.at<float>(i, p)) * B.at<float>(p, j);
      EXPECT_NEAR(C.at<float>(i, j), ref, 0.02 * ref) << "row " << i << ", column " << j;
    }
  }
}

// ---- wide-range operands: magnitude bands and row medians (GemmHints) -------------------------

// A rows × cols operand whose columns span orders of magnitude: each entry ±10^u, u uniform in
// [−2, 1) (three decades: at most 5 bands of R = 8), and in every third column a cluster of
// entries 10⁸ times larger, within a factor 2 of each other (GaussianNB's "hard" precisions
// beside ordinary ones: 1–2 bands more), some entries 0, and column 0 all zeros when cols > 2.
// At most 7 bands in all, so every value keeps its band's relative precision.
Tensor wide_range(std::int64_t rows, std::int64_t cols, std::mt19937& rng) {
  Tensor t(rows, cols);
  std::uniform_real_distribution<double> u(-2.0, 1.0), coin(0.0, 1.0);
  for (std::int64_t i = 0; i < rows; ++i) {
    for (std::int64_t j = 0; j < cols; ++j) {
      double v = std::pow(10.0, u(rng)) * (coin(rng) < 0.5 ? -1.0 : 1.0);
      if (j % 3 == 1 && coin(rng) < 0.2) v = std::copysign(1e8 * (1.0 + coin(rng)), v);
      if (coin(rng) < 0.1 || (cols > 2 && j == 0)) v = 0.0;
      t.at<float>(i, j) = static_cast<float>(v);
    }
  }
  return t;
}

TEST(SystolicBands, EveryValueInOneBandWithinRelativePrecision) {
  // quantize_bands: the bands' dequantized sum gives every value back within R/254 of itself
  // (each band's scale is at most R times its smallest value), zeros stay 0, and the bands are
  // exactly those that hold a value. Shapes: 1 × 1, primes, a column of zeros, all zeros.
  std::mt19937 rng(21);
  for (auto [r, c] : {std::pair<int, int>{1, 1}, {7, 1}, {13, 11}, {64, 10}, {3, 29}}) {
    for (bool trans : {false, true}) {
      const Tensor X = trans ? wide_range(c, r, rng) : wide_range(r, c, rng);
      const auto bands = systolic::quantize_bands(X, trans, systolic::ScaleAxis::col);
      ASSERT_GE(bands.size(), 1u);
      ASSERT_LE(bands.size(), static_cast<std::size_t>(systolic::kMaxBands));
      for (std::int64_t i = 0; i < r; ++i) {
        for (std::int64_t j = 0; j < c; ++j) {
          const double x = op_at(X, trans, i, j);
          double back = 0.0;
          int holders = 0;
          for (const auto& q : bands) {
            const int code = q.q[i * c + j];
            back += double(q.scale_of_col(j)) * code;
            holders += code != 0;
          }
          EXPECT_LE(holders, 1) << "value at " << i << ", " << j;
          EXPECT_LE(std::fabs(back - x), systolic::kBandRatio / 254.0 * std::fabs(x) * (1 + 1e-6))
              << "value " << x << " at " << i << ", " << j << " of " << r << "x" << c;
        }
      }
      for (const auto& q : bands) {  // no empty band (unless all of X is 0: one band of zeros)
        const bool any = std::any_of(q.q.begin(), q.q.end(), [](std::int8_t v) { return v != 0; });
        EXPECT_TRUE(any || bands.size() == 1);
      }
    }
  }
  const auto zeros = systolic::quantize_bands(Tensor(4, 3), false, systolic::ScaleAxis::col);
  ASSERT_EQ(zeros.size(), 1u);
  EXPECT_TRUE(
      std::all_of(zeros[0].q.begin(), zeros[0].q.end(), [](std::int8_t v) { return v == 0; }));
}

TEST(SystolicBands, WideRangeGemmKeepsEveryProductsRelativePrecision) {
  // With wide_range_b each B value is quantized within R/254 of itself, so the error bound of
  // C[i, j] is relative to Σ_p |a|·|b|, not to max|b| as with one scale per column: the small
  // products keep their digits. Against a float64 reference; awkward sizes on an 8 × 8 array
  // (non-multiples, primes, 1) and on tpu-v1; every transpose; α, β ≠ 0, 1.
  std::mt19937 rng(22);
  GemmHints hints;
  hints.wide_range_b = true;
  for (bool tpu : {false, true}) {
    BackendPtr b =
        tpu ? backend("systolic") : make_systolic_backend(small_array(8, 8, Dataflow::ws));
    for (const Shape& s : {Shape{1, 1, 1}, Shape{1, 7, 3}, Shape{13, 1, 17}, Shape{17, 19, 23},
                           Shape{31, 4, 37}, Shape{300, 10, 64}}) {
      for (bool ta : {false, true}) {
        for (bool tb : {false, true}) {
          Tensor A = ta ? random_tensor(s.k, s.m, rng) : random_tensor(s.m, s.k, rng);
          Tensor B = tb ? wide_range(s.n, s.k, rng) : wide_range(s.k, s.n, rng);
          // (a wide_range(n, k) transposed is wide per row of B, i.e. per column of op(B) it is
          // still a mix of magnitudes: what the bound below needs is only the mix)
          Tensor C0 = random_tensor(s.m, s.n, rng);
          const float alpha = 1.5f, beta = 0.5f;
          std::vector<double> ref(s.m * s.n), tol(s.m * s.n);
          for (std::int64_t i = 0; i < s.m; ++i) {
            double amax = 0;
            for (std::int64_t p = 0; p < s.k; ++p)
              amax = std::max(amax, std::fabs(op_at(A, ta, i, p)));
            for (std::int64_t j = 0; j < s.n; ++j) {
              double sum = 0, bound = 0;
              for (std::int64_t p = 0; p < s.k; ++p) {
                const double a = op_at(A, ta, i, p), bb = op_at(B, tb, p, j);
                const double eb = systolic::kBandRatio / 254.0 * std::fabs(bb);
                sum += a * bb;
                bound += std::fabs(a) * eb + (std::fabs(bb) + eb) * half_step(amax);
              }
              const double c = beta * C0.at<float>(i, j);
              ref[i * s.n + j] = alpha * sum + c;
              tol[i * s.n + j] = alpha * bound * (1 + 1e-6) +
                                 4 * kEpsF32 * (std::fabs(alpha * sum) + std::fabs(c));
            }
          }
          Tensor C = C0.clone();
          Profile prof;
          {
            ProfileScope scope(prof);
            b->gemm(ta ? Trans::yes : Trans::no, tb ? Trans::yes : Trans::no, alpha, A, B, beta, C,
                    hints);
          }
          expect_close(C, ref, tol, 1.0, 1e-7,
                       "banded gemm " + label(systolic_config_of(*b), s.m, s.n, s.k));
          const OpRecord r = prof.records().back();
          ASSERT_TRUE(r.sim.has_value());
          EXPECT_GE(r.sim->passes, 1);
          EXPECT_LE(r.sim->passes, systolic::kMaxBands);
          EXPECT_EQ(r.macs, s.m * s.n * s.k);  // the op's MACs; the passes show in the counters
        }
      }
    }
  }
}

TEST(SystolicBands, PassesCyclesAndErrorShowInTheProfile) {
  // Each column of B holds one "hard" value 10⁶ in row 0, where A is 0 (so it adds nothing to
  // C, as a hard precision times x″ = 0), and two clusters of ordinary values, ~1 and ~1e-3.
  // One scale per column rounds all the ordinary values to 0 (C = 0, relative error 1); in bands
  // there are three int8 passes (each as many array cycles as the plain GEMM, the later ones
  // reading back the sum so far) and the error of ordinary int8.
  std::mt19937 rng(23);
  const std::int64_t m = 40, n = 6, k = 31;
  Tensor A = random_tensor(m, k, rng, 0.5f, 1.0f), B(k, n);
  std::uniform_real_distribution<float> u(0.5f, 1.0f);
  for (std::int64_t p = 0; p < k; ++p) {
    const float size = p == 0 ? 1e6f : p % 2 == 1 ? 1.0f : 1e-3f;
    for (std::int64_t j = 0; j < n; ++j) B.at<float>(p, j) = size * u(rng);
  }
  for (std::int64_t i = 0; i < m; ++i) A.at<float>(i, 0) = 0.0f;
  BackendPtr b = backend("systolic");
  GemmHints hints;
  hints.wide_range_b = true;
  Tensor plain(m, n), banded(m, n);
  Profile prof;
  {
    ProfileScope scope(prof);
    b->gemm(Trans::no, Trans::no, 1.0f, A, B, 0.0f, plain);
    b->gemm(Trans::no, Trans::no, 1.0f, A, B, 0.0f, banded, hints);
  }
  const std::vector<OpRecord> recs = prof.records();
  const OpRecord& p1 = recs[0];
  const OpRecord& p3 = recs[1];
  EXPECT_EQ(p1.sim->passes, 1);
  EXPECT_EQ(p3.sim->passes, 3);
  EXPECT_EQ(p1.macs, p3.macs);
  EXPECT_GE(p3.sim->compute_cycles, 3 * p1.sim->compute_cycles);
  EXPECT_GT(p3.sim->dram_read_bytes, p1.sim->dram_read_bytes);  // the partial sums read back
  ASSERT_TRUE(p1.quant_error && p3.quant_error);
  EXPECT_GT(*p1.quant_error, 0.5) << "the plain GEMM loses the ordinary values";
  EXPECT_LT(*p3.quant_error, 0.02);
  EXPECT_LT(*p3.quant_error * 10, *p1.quant_error);
}

TEST(SystolicBands, RowsUpToAConstantNarrowTheWeights) {
  // rows_up_to_constant: each row of op(B) is 100 + a small spread, so the differences between
  // C's columns are what carries information. Subtracting the rows' medians lets the int8 codes
  // resolve the spread: the differences C[i, j] − C[i, 0] are within the bound of the shifted B
  // (|spread| ≤ 2, so half a step ≤ 2/254), while C itself may move by a constant per row. A
  // row of B with an outlier ten thousand times larger does not choose its row's shift.
  std::mt19937 rng(24);
  for (const Shape& s : {Shape{1, 2, 1}, Shape{13, 7, 17}, Shape{29, 11, 31}}) {
    Tensor A = random_tensor(s.m, s.k, rng), B = random_tensor(s.k, s.n, rng, 99.0f, 101.0f);
    B.at<float>(0, s.n - 1) = 1e6f;  // an outlier in row 0
    GemmHints hints;
    hints.rows_up_to_constant = true;
    Tensor C(s.m, s.n), plain(s.m, s.n);
    BackendPtr b = backend("systolic");
    b->gemm(Trans::no, Trans::no, 1.0f, A, B, 0.0f, C, hints);
    b->gemm(Trans::no, Trans::no, 1.0f, A, B, 0.0f, plain);
    double worst = 0.0, worst_plain = 0.0;
    for (std::int64_t i = 0; i < s.m; ++i) {
      double asum = 0;
      for (std::int64_t p = 0; p < s.k; ++p) asum += std::fabs(A.at<float>(i, p));
      for (std::int64_t j = 1; j + 1 < s.n; ++j) {  // the outlier's column aside
        double diff = 0;
        for (std::int64_t p = 0; p < s.k; ++p)
          diff += double(A.at<float>(i, p)) * (double(B.at<float>(p, j)) - B.at<float>(p, 0));
        const double got = double(C.at<float>(i, j)) - C.at<float>(i, 0);
        const double got_plain = double(plain.at<float>(i, j)) - plain.at<float>(i, 0);
        // two entries, each within Σ|a|·(half a step of the shifted column + A's share)
        const double bound = 2 * asum * (2.0 / 254.0 + 3.0 * 2.0 / 254.0) + 1e-4 * asum * 100;
        EXPECT_LE(std::fabs(got - diff), bound) << "row " << i << ", column " << j;
        worst = std::max(worst, std::fabs(got - diff) / asum);
        worst_plain = std::max(worst_plain, std::fabs(got_plain - diff) / asum);
      }
    }
    if (s.n > 2) EXPECT_LT(worst * 4, worst_plain) << "the shift should narrow the codes' step";
  }
}

TEST(SystolicBands, HintsChangeNothingOnF32BackendsAndIntGemmRefusesThem) {
  std::mt19937 rng(25);
  Tensor A = random_tensor(17, 23, rng), B = wide_range(23, 19, rng);
  GemmHints hints;
  hints.wide_range_b = true;
  hints.rows_up_to_constant = true;
  for (const std::string& name : available_backends()) {
    BackendPtr b = backend(name);
    if (quantized(name) || b->device() != Device::host) continue;  // f32 backends only
    Tensor C1(17, 19), C2(17, 19);
    b->gemm(Trans::no, Trans::no, 1.0f, A, B, 0.0f, C1);
    b->gemm(Trans::no, Trans::no, 1.0f, A, B, 0.0f, C2, hints);
    EXPECT_EQ(0, std::memcmp(C1.data<float>(), C2.data<float>(), 4 * C1.numel())) << name;
  }
  BackendPtr s = backend("systolic");
  Tensor Ai = random_i8(3, 4, rng), Bi = random_i8(4, 2, rng), Ci(3, 2, DType::i32);
  EXPECT_THROW(s->gemm(Trans::no, Trans::no, 1.0f, Ai, Bi, 0.0f, Ci, hints), Error);
}

TEST(SystolicBands, NonFiniteWeightsStillGiveTheReferencesNonFiniteOutputs) {
  std::mt19937 rng(26);
  Tensor A = random_tensor(5, 7, rng), B = wide_range(7, 4, rng);
  B.at<float>(3, 2) = std::numeric_limits<float>::infinity();
  GemmHints hints;
  hints.wide_range_b = true;
  hints.rows_up_to_constant = true;
  Tensor C(5, 4);
  backend("systolic")->gemm(Trans::no, Trans::no, 1.0f, A, B, 0.0f, C, hints);
  for (std::int64_t i = 0; i < 5; ++i) {
    EXPECT_FALSE(std::isfinite(C.at<float>(i, 2))) << i;
    for (std::int64_t j : {0, 1, 3}) EXPECT_TRUE(std::isfinite(C.at<float>(i, j))) << i << j;
  }
}

TEST(SystolicF32, GemvWithinTheQuantizationBound) {
  std::mt19937 rng(9);
  BackendPtr b = backend("systolic");
  for (bool ta : {false, true}) {
    const std::int64_t rows = 53, cols = 31;
    Tensor A = random_tensor(rows, cols, rng);
    const std::int64_t in = ta ? rows : cols, out = ta ? cols : rows;
    Tensor x = random_tensor(in, 1, rng), y(out, 1);
    double xmax = 0;
    for (std::int64_t p = 0; p < in; ++p)
      xmax = std::max(xmax, double(std::fabs(x.data<float>()[p])));
    std::vector<double> ref(out), tol(out);
    for (std::int64_t i = 0; i < out; ++i) {
      double amax = 0, sum = 0, bound = 0;
      for (std::int64_t p = 0; p < in; ++p) amax = std::max(amax, std::fabs(op_at(A, ta, i, p)));
      for (std::int64_t p = 0; p < in; ++p) {
        const double a = op_at(A, ta, i, p), xv = x.data<float>()[p];
        sum += a * xv;
        bound +=
            std::fabs(xv) * half_step(amax) + (std::fabs(a) + half_step(amax)) * half_step(xmax);
      }
      ref[i] = 2.0 * sum;
      tol[i] = 2.0 * bound + 4 * kEpsF32 * std::fabs(ref[i]);
    }
    b->gemv(ta ? Trans::yes : Trans::no, 2.0f, A, x, 0.0f, y);
    expect_close(y, ref, tol, 1.0, 1e-7, "systolic gemv");
  }
}

TEST(SystolicF32, SqdistIsTheDistanceOfTheQuantizedPoints) {
  std::mt19937 rng(10);
  BackendPtr b = backend("systolic");
  const std::int64_t m = 40, n = 7, d = 13;
  Tensor A = random_tensor(m, d, rng, -2.0f, 2.0f), B = random_tensor(n, d, rng, -1.0f, 1.0f);
  Tensor D(m, n);
  b->sqdist(A, B, D);
  double amax = 0;
  for (std::int64_t i = 0; i < A.numel(); ++i)
    amax = std::max(amax, double(std::fabs(A.data<float>()[i])));
  std::vector<double> ref(m * n), tol(m * n);
  for (std::int64_t j = 0; j < n; ++j) {
    double bmax = 0;
    for (std::int64_t p = 0; p < d; ++p)
      bmax = std::max(bmax, double(std::fabs(B.at<float>(j, p))));
    // â − b̂ = (a − b) + e with ‖e‖ ≤ √d (s_A + s_j)/2, so |D̂ − D| ≤ 2‖a − b‖‖e‖ + ‖e‖².
    const double e = std::sqrt(double(d)) * (half_step(amax) + half_step(bmax));
    for (std::int64_t i = 0; i < m; ++i) {
      double s = 0;
      for (std::int64_t p = 0; p < d; ++p) {
        const double diff = double(A.at<float>(i, p)) - B.at<float>(j, p);
        s += diff * diff;
      }
      ref[i * n + j] = s;
      tol[i * n + j] = 2 * std::sqrt(s) * e + e * e + 4 * kEpsF32 * s;
    }
  }
  expect_close(D, ref, tol, 1.0, 1e-6, "systolic sqdist");
  for (std::int64_t i = 0; i < D.numel(); ++i) EXPECT_GE(D.data<float>()[i], 0.0f);
}

TEST(SystolicF32, ColumnReductionsWithinTheQuantizationBound) {
  std::mt19937 rng(11);
  BackendPtr b = backend("systolic");
  const std::int64_t m = 500, n = 6;
  Tensor X = random_tensor(m, n, rng, -1.0f, 3.0f);
  for (Reduce op : {Reduce::sum, Reduce::mean, Reduce::var}) {
    Tensor out(1, n);
    b->reduce_cols(op, X, out);
    std::vector<double> ref(n), tol(n);
    for (std::int64_t j = 0; j < n; ++j) {
      double s = 0, xmax = 0;
      for (std::int64_t i = 0; i < m; ++i) {
        s += X.at<float>(i, j);
        xmax = std::max(xmax, double(std::fabs(X.at<float>(i, j))));
      }
      const double mean = s / m;
      double v = 0, d2max = 0;
      for (std::int64_t i = 0; i < m; ++i) {
        const double dv = X.at<float>(i, j) - mean;
        v += dv * dv;
        d2max = std::max(d2max, dv * dv);
      }
      v /= m;
      // Σ of m codes each off by ≤ s/2; the variance also inherits the mean's error δ as δ².
      const double sum_err = m * half_step(xmax);
      ref[j] = op == Reduce::sum ? s : op == Reduce::mean ? mean : v;
      tol[j] = op == Reduce::sum    ? sum_err
               : op == Reduce::mean ? sum_err / m
                                    : half_step(d2max * 1.01) + std::pow(sum_err / m, 2) + 1e-6;
      tol[j] += 8 * kEpsF32 * std::fabs(ref[j]);
    }
    expect_close(out, ref, tol, 1.0, 1e-7, std::string("reduce_cols ") + reduce_name(op));
  }
}

// NaN and ±inf have no int8 code: the outputs they feed are the scalar reference's (NaN or ±inf
// where IEEE arithmetic makes them so), and every other output keeps the array's int8 result,
// untouched by the special value (its row's or column's scale ignores it).
TEST(SystolicF32, NonFiniteOperandsGiveTheReferencesNonFiniteOutputs) {
  std::mt19937 rng(21);
  BackendPtr sys = backend("systolic"), ref = backend("scalar");
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  const std::int64_t m = 7, n = 5, k = 6;
  Tensor A = random_tensor(m, k, rng, -2.0f, 2.0f), B = random_tensor(k, n, rng, -2.0f, 2.0f);
  A.at<float>(1, 2) = nan;   // row 1 of C
  A.at<float>(4, 0) = -inf;  // row 4
  B.at<float>(3, 2) = inf;   // column 2
  // Non-finite outputs must be the reference's (NaN where it is NaN, the same infinity where it
  // is infinite); finite ones must equal the product of the clean operands on the array.
  auto check = [](const Tensor& got, const Tensor& want, const Tensor& clean, const char* what) {
    ASSERT_EQ(got.numel(), want.numel());
    for (std::int64_t i = 0; i < got.numel(); ++i) {
      const float g = got.data<float>()[i], w = want.data<float>()[i];
      if (!std::isfinite(w)) {
        EXPECT_TRUE(std::isnan(w) ? std::isnan(g) : g == w)
            << what << " at " << i << ": " << g << " vs the reference's " << w;
      } else {
        EXPECT_EQ(g, clean.data<float>()[i]) << what << " at " << i;
      }
    }
  };
  {  // gemm, β ≠ 0 so that the reference also reads C
    Tensor C0 = random_tensor(m, n, rng, -1.0f, 1.0f);
    Tensor got = C0.clone(), want = C0.clone(), clean = C0.clone();
    sys->gemm(Trans::no, Trans::no, 0.5f, A, B, 1.0f, got);
    ref->gemm(Trans::no, Trans::no, 0.5f, A, B, 1.0f, want);
    // The clean product: the special values' rows and columns replaced by finite values, so
    // the other outputs (whose scales never saw the specials) must come out bit-identical.
    Tensor Ac = A.clone(), Bc = B.clone();
    Ac.at<float>(1, 2) = Ac.at<float>(4, 0) = Bc.at<float>(3, 2) = 0.0f;
    sys->gemm(Trans::no, Trans::no, 0.5f, Ac, Bc, 1.0f, clean);
    check(got, want, clean, "gemm");
    for (std::int64_t j = 0; j < n; ++j) EXPECT_FALSE(std::isfinite(got.at<float>(1, j)));
    for (std::int64_t i = 0; i < m; ++i) EXPECT_FALSE(std::isfinite(got.at<float>(i, 2)));
  }
  {  // gemv: a non-finite row of A, then a non-finite x (every output)
    Tensor x = random_tensor(k, 1, rng, -1.0f, 1.0f), got(m, 1), want(m, 1), clean(m, 1);
    sys->gemv(Trans::no, 1.0f, A, x, 0.0f, got);
    ref->gemv(Trans::no, 1.0f, A, x, 0.0f, want);
    Tensor Ac = A.clone();
    Ac.at<float>(1, 2) = Ac.at<float>(4, 0) = 0.0f;
    sys->gemv(Trans::no, 1.0f, Ac, x, 0.0f, clean);
    check(got, want, clean, "gemv");
    x.at<float>(0, 0) = nan;
    sys->gemv(Trans::no, 1.0f, Ac, x, 0.0f, got);
    for (std::int64_t i = 0; i < m; ++i) EXPECT_TRUE(std::isnan(got.at<float>(i, 0))) << i;
  }
  {  // sqdist: rows of A and rows of B
    Tensor Bq = random_tensor(n, k, rng, -2.0f, 2.0f);
    Bq.at<float>(3, 1) = inf;
    Tensor got(m, n), want(m, n);
    sys->sqdist(A, Bq, got);
    ref->sqdist(A, Bq, want);
    for (std::int64_t i = 0; i < m; ++i) {
      for (std::int64_t j = 0; j < n; ++j) {
        const float w = want.at<float>(i, j), g = got.at<float>(i, j);
        if (std::isfinite(w)) {
          EXPECT_NEAR(g, w, 0.1f * (1.0f + w)) << "sqdist " << i << ", " << j;
        } else {
          EXPECT_TRUE(std::isnan(w) ? std::isnan(g) : g == w) << "sqdist " << i << ", " << j;
        }
      }
    }
  }
  {  // reduce_cols: a NaN column, and a column whose f32 squares overflow but whose float64
     // variance (the reference's) does not
    Tensor X = random_tensor(64, 3, rng, -1.0f, 1.0f);
    X.at<float>(5, 0) = nan;
    X.at<float>(9, 2) = 3e19f;  // (x − mean)² ≈ 9e38 > FLT_MAX; / 64 rows ≈ 1.4e37 < FLT_MAX
    for (Reduce op : {Reduce::sum, Reduce::mean, Reduce::var}) {
      Tensor got(1, 3), want(1, 3);
      sys->reduce_cols(op, X, got);
      ref->reduce_cols(op, X, want);
      EXPECT_TRUE(std::isnan(got.at<float>(0, 0))) << reduce_name(op);
      // Column 1 is clean: within 64 half-steps of 1/127 (the sum's bound).
      EXPECT_NEAR(got.at<float>(0, 1), want.at<float>(0, 1), 0.3) << reduce_name(op);
      EXPECT_TRUE(std::isfinite(got.at<float>(0, 2))) << reduce_name(op);
      EXPECT_NEAR(got.at<float>(0, 2), want.at<float>(0, 2), 0.02 * std::fabs(want.at<float>(0, 2)))
          << reduce_name(op);
    }
  }
}

// ---- non-MAC primitives are the scalar reference's
// -----------------------------------------------

void expect_same_f32(const Tensor& a, const Tensor& b, const std::string& what) {
  ASSERT_EQ(a.numel(), b.numel()) << what;
  for (std::int64_t i = 0; i < a.numel(); ++i) {
    const float x = a.data<float>()[i], y = b.data<float>()[i];
    if (std::isnan(x) && std::isnan(y)) continue;
    ASSERT_EQ(x, y) << what << " at " << i;
  }
}

TEST(SystolicVectorUnit, NonMacPrimitivesEqualTheScalarBackend) {
  std::mt19937 rng(12);
  BackendPtr sys = backend("systolic"), ref = backend("scalar");
  const std::int64_t m = 33, n = 17;
  Tensor X = random_tensor(m, n, rng, -3.0f, 3.0f);
  for (MapFn fn :
       {MapFn::identity, MapFn::exp, MapFn::log, MapFn::sigmoid, MapFn::tanh, MapFn::sqrt,
        MapFn::square, MapFn::abs, MapFn::relu, MapFn::reciprocal, MapFn::pow, MapFn::log1pexp}) {
    Tensor Y1(m, n), Y2(m, n);
    MapArgs args{0.5f, 0.25f, 3.0f};
    sys->map(fn, X, Y1, args);
    ref->map(fn, X, Y2, args);
    expect_same_f32(Y1, Y2, std::string("map ") + map_fn_name(fn));
  }
  for (bool log : {false, true}) {
    Tensor Y1(m, n), Y2(m, n);
    sys->softmax_rows(X, Y1, log);
    ref->softmax_rows(X, Y2, log);
    expect_same_f32(Y1, Y2, "softmax");
  }
  {
    Tensor i1(m, 1, DType::i32), v1(m, 1), i2(m, 1, DType::i32), v2(m, 1);
    sys->argmin_rows(X, i1, v1);
    ref->argmin_rows(X, i2, v2);
    expect_same_f32(v1, v2, "argmin value");
    for (std::int64_t i = 0; i < m; ++i)
      EXPECT_EQ(i1.data<std::int32_t>()[i], i2.data<std::int32_t>()[i]);
    Tensor ti1(m, 4, DType::i32), tv1(m, 4), ti2(m, 4, DType::i32), tv2(m, 4);
    sys->topk_rows(X, 4, ti1, tv1);
    ref->topk_rows(X, 4, ti2, tv2);
    expect_same_f32(tv1, tv2, "topk value");
  }
  {
    Tensor Y1 = random_tensor(m, n, rng), Y2 = Y1.clone(), v = random_tensor(1, n, rng),
           w = random_tensor(m, 1, rng);
    sys->axpby(0.5f, X, 2.0f, Y1);
    ref->axpby(0.5f, X, 2.0f, Y2);
    sys->multiply(X, Y1);
    ref->multiply(X, Y2);
    sys->add_row_vector(-1.5f, v, Y1);
    ref->add_row_vector(-1.5f, v, Y2);
    sys->scale_rows(w, Y1);
    ref->scale_rows(w, Y2);
    expect_same_f32(Y1, Y2, "axpby / multiply / add_row_vector / scale_rows");
    sys->fill(Y1, 7.0f);
    ref->fill(Y2, 7.0f);
    expect_same_f32(Y1, Y2, "fill");
  }
  {
    Tensor index(m, 2, DType::i32);
    for (std::int64_t i = 0; i < index.numel(); ++i)
      index.data<std::int32_t>()[i] = (i * 7) % 6 - 1;
    Tensor o1(5, n), o2(5, n);
    sys->scatter_add(index, X, o1);
    ref->scatter_add(index, X, o2);
    expect_same_f32(o1, o2, "scatter_add");
    Tensor rows(4, 1, DType::i32), g1(4, n), g2(4, n);
    for (int i = 0; i < 4; ++i) rows.data<std::int32_t>()[i] = 3 * i;
    sys->gather_rows(X, rows, g1);
    ref->gather_rows(X, rows, g2);
    expect_same_f32(g1, g2, "gather_rows");
  }
  for (float p : {1.0f, 2.0f, 3.0f, std::numeric_limits<float>::infinity()}) {
    // No MACs for the array: the vector unit computes every term, with the reference's bits,
    // and its record says so (cycles on the vector unit, none on the array).
    const Tensor B = random_tensor(11, n, rng, -3.0f, 3.0f);
    Tensor d1(m, 11), d2(m, 11);
    Profile prof;
    {
      ProfileScope scope(prof);
      sys->minkowski_dist(X, B, p, d1);
    }
    ref->minkowski_dist(X, B, p, d2);
    expect_same_f32(d1, d2, "minkowski_dist p=" + std::to_string(p));
    const OpRecord r = prof.records().at(0);
    ASSERT_TRUE(r.sim.has_value());
    EXPECT_EQ(r.macs, 0);
    EXPECT_GT(r.sim->compute_cycles, 0) << "the vector unit's cycles, p=" << p;
    EXPECT_EQ(r.sim->passes, 0) << "no product on the array, p=" << p;
  }
}

// ---- the profile ----------------------------------------------------------------------------

TEST(SystolicProfile, EveryPrimitiveRecordsSimulatedCounters) {
  std::mt19937 rng(13);
  BackendPtr b = backend("systolic");
  Tensor X = random_tensor(50, 8, rng), Cn = random_tensor(4, 8, rng), D(50, 4), G(8, 8);
  Tensor idx(50, 1, DType::i32), val(50, 1), colsum(1, 8);
  Profile p;
  {
    ProfileScope s(p);
    b->gemm(Trans::yes, Trans::no, 1.0f, X, X, 0.0f, G);
    b->sqdist(X, Cn, D);
    b->argmin_rows(D, idx, val);
    b->map(MapFn::exp, D, D);
    b->reduce_cols(Reduce::var, X, colsum);
  }
  ASSERT_EQ(p.size(), 5u);
  for (const OpRecord& r : p.records()) {
    ASSERT_TRUE(r.sim.has_value()) << r.op;
    EXPECT_TRUE(r.seconds_simulated) << r.op;
    EXPECT_GT(r.sim->cycles(), 0) << r.op;
    EXPECT_DOUBLE_EQ(r.seconds, r.sim->cycles() / 700e6) << r.op;
    EXPECT_GE(r.sim->utilization, 0.0) << r.op;
    EXPECT_LE(r.sim->utilization, 1.0) << r.op;
    EXPECT_GT(r.sim->energy_joules, 0.0) << r.op;
    EXPECT_GT(r.sim->dram_read_bytes, 0) << r.op;
    EXPECT_GE(r.wall_seconds, 0.0) << r.op;
    const bool mac = r.op == "gemm" || r.op == "sqdist" || r.op == "reduce_cols_var";
    EXPECT_EQ(r.quant_error.has_value(), mac) << r.op;
    if (mac) {
      EXPECT_GT(*r.quant_error, 0.0) << r.op;
      EXPECT_LT(*r.quant_error, 0.05) << r.op << ": int8 error should be ~1%";
    }
  }
}

TEST(SystolicProfile, ResultsAreDeterministic) {
  std::mt19937 rng(14);
  BackendPtr b = backend("systolic");
  Tensor A = random_tensor(200, 300, rng), B = random_tensor(300, 100, rng);
  Tensor C1(200, 100), C2(200, 100);
  b->gemm(Trans::no, Trans::no, 1.0f, A, B, 0.0f, C1);
  b->gemm(Trans::no, Trans::no, 1.0f, A, B, 0.0f, C2);
  expect_same_f32(C1, C2, "two runs");
}

// ---- configuration --------------------------------------------------------------------------

TEST(SystolicConfigTest, PresetsPrintingEqualityAndValidation) {
  const SystolicConfig tpu = systolic_preset("tpu-v1"), edge = systolic_preset("edge-npu");
  EXPECT_EQ(tpu.rows, 256);
  EXPECT_EQ(tpu.unified_buffer_bytes, 24ll << 20);
  EXPECT_EQ(tpu.accumulator_bytes, 4ll << 20);
  EXPECT_DOUBLE_EQ(tpu.dram_bytes_per_second, 34e9);
  EXPECT_LT(edge.rows * edge.cols, tpu.rows * tpu.cols);
  EXPECT_NE(tpu, edge);
  SystolicConfig same = tpu;
  same.preset = "custom";
  EXPECT_EQ(same, tpu) << "the label does not change the machine";
  EXPECT_NE(to_string(tpu).find("256x256 ws physical analytic"), std::string::npos)
      << to_string(tpu);
  EXPECT_THROW(systolic_preset("tpu-v9"), Error);
  EXPECT_THROW(parse_dataflow("rs"), Error);
  SystolicConfig bad = tpu;
  bad.rows = 0;
  EXPECT_THROW(make_systolic_backend(bad), Error);
  EXPECT_EQ(systolic_config_of(*make_systolic_backend(edge)), edge);
  EXPECT_THROW(systolic_config_of(*backend("scalar")), Error);
  EXPECT_EQ(backend("systolic")->description(), to_string(tpu));
}

// ---- sparse × dense: dense tiles, their zeros counted -------------------------------------

// The nonzeros of a dense matrix as CSR (csr_from_dense), with every entry set to `value` at
// the listed positions.
CsrMatrix csr_at(std::int64_t rows, std::int64_t cols,
                 const std::vector<std::pair<std::int64_t, std::int64_t>>& at) {
  Tensor d(rows, cols);
  for (auto [i, j] : at) d.at<float>(i, j) = 0.5f + 0.01f * static_cast<float>(i + j);
  return csr_from_dense(d);
}

OpRecord only_record(const Profile& p, const std::string& op) {
  for (const OpRecord& r : p.records()) {
    if (r.op == op) return r;
  }
  ADD_FAILURE() << "no " << op << " record";
  return {};
}

TEST(SystolicSpmm, EqualsTheDenseGemmOnTheDensifiedMatrix) {
  // Same int8 pipeline: the sparse product's functional result is the dense one's, bit for bit.
  BackendPtr b = make_systolic_backend(small_array(8, 8, Dataflow::ws));
  std::mt19937 rng(7);
  Tensor dense = random_tensor(29, 19, rng);
  for (std::int64_t i = 0; i < dense.numel(); ++i) {
    if (i % 4 != 0) dense.data<float>()[i] = 0.0f;
  }
  const CsrMatrix A = csr_from_dense(dense);
  for (bool trans : {false, true}) {
    const Tensor B = random_tensor(trans ? 29 : 19, 6, rng);
    Tensor sparse_out = b->empty(trans ? 19 : 29, 6), dense_out = b->empty(trans ? 19 : 29, 6);
    const Trans t = trans ? Trans::yes : Trans::no;
    b->spmm(t, 1.0f, A, B, 0.0f, sparse_out);
    b->gemm(t, Trans::no, 1.0f, dense, B, 0.0f, dense_out);
    EXPECT_EQ(std::memcmp(sparse_out.raw(), dense_out.raw(), sparse_out.size_bytes()), 0)
        << "trans=" << trans;
  }
}

TEST(SystolicSpmm, RunsOnlyOccupiedTilesAndCountsTheirZerosAsWasted) {
  // An 8 × 8 array: tiles of op(A) are 8 × 8. A (24 × 16): 3 × 2 tiles.
  BackendPtr b = make_systolic_backend(small_array(8, 8, Dataflow::ws));
  const std::int64_t n = 5;
  const Tensor B = Tensor::zeros(16, n);
  auto record_of = [&](const CsrMatrix& A) {
    Tensor C = b->empty(24, n);
    Profile p;
    {
      ProfileScope scope(p);
      b->spmm(Trans::no, 1.0f, A, B, 0.0f, C);
    }
    return only_record(p, "spmm");
  };
  // One nonzero: one tile of 8 rows × 8 deep runs, 8·8·n MACs, n of them useful.
  const OpRecord one = record_of(csr_at(24, 16, {{9, 3}}));
  ASSERT_TRUE(one.sim.has_value());
  EXPECT_EQ(one.macs, n);
  EXPECT_EQ(one.sim->wasted_macs, 8 * 8 * n - n);
  // Two nonzeros in the same tile cost the same array time as one; one in another K tile adds
  // a second pass, so more cycles.
  const OpRecord same_tile = record_of(csr_at(24, 16, {{9, 3}, {15, 7}}));
  EXPECT_EQ(same_tile.sim->wasted_macs, 8 * 8 * n - 2 * n);
  EXPECT_EQ(same_tile.sim->compute_cycles, one.sim->compute_cycles);
  const OpRecord two_tiles = record_of(csr_at(24, 16, {{9, 3}, {9, 12}}));
  EXPECT_EQ(two_tiles.sim->wasted_macs, 2 * 8 * 8 * n - 2 * n);
  EXPECT_GT(two_tiles.sim->compute_cycles, one.sim->compute_cycles);
  // Dense: every tile runs, nothing wasted; empty: nothing runs.
  std::vector<std::pair<std::int64_t, std::int64_t>> all;
  for (std::int64_t i = 0; i < 24; ++i) {
    for (std::int64_t j = 0; j < 16; ++j) all.push_back({i, j});
  }
  const OpRecord full = record_of(csr_at(24, 16, all));
  EXPECT_EQ(full.sim->wasted_macs, 0);
  EXPECT_EQ(full.macs, 24 * 16 * n);
  const OpRecord empty = record_of(csr_at(24, 16, {}));
  EXPECT_EQ(empty.sim->wasted_macs, 0);
  EXPECT_EQ(empty.sim->compute_cycles, 0);
  // Transposed: op(A) = Aᵀ (16 × 24); A[9, 3] is op(A)[3, 9]: still one tile.
  Tensor Ct = b->empty(16, n);
  Profile pt;
  {
    ProfileScope scope(pt);
    b->spmm(Trans::yes, 1.0f, csr_at(24, 16, {{9, 3}}), Tensor::zeros(24, n), 0.0f, Ct);
  }
  EXPECT_EQ(only_record(pt, "spmm_t").sim->wasted_macs, 8 * 8 * n - n);
}

}  // namespace
}  // namespace mlcore::test
