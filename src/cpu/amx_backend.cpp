// The `amx` backend: the CPU's own matrix engine. AMX's tile unit multiplies int8 tiles into
// int32 tiles (tdpbssd, 16 384 MACs per instruction; igemm_amx_loops.hpp), a small systolic array
// inside each core, so this backend is the real-hardware twin of the systolic simulator:
//
//   gemm, int8    igemm_amx on the tiles, exact
//   gemm, f32     quantized exactly as the systolic backend quantizes it — the same shared
//                 pipeline (systolic/quantized_gemm.hpp: per-row / per-column scales, the
//                 GemmHints' row medians and magnitude bands, non-finite operands from the f32
//                 reference, the sampled error in OpRecord::quant_error) — with each int8 pass
//                 on the tiles. Same codes and exact integer sums, so the same bits as the
//                 simulator's functional result; the time is measured, not simulated.
//   everything else: the avx512 backend's kernels (it derives from Avx512Backend and overrides
//                 nothing else). gemv, sqdist and reduce_cols stay f32 here, unlike on the
//                 systolic array: a GEMV or a norm pass streams its operand once at one or two
//                 MACs per element, so it is bound by memory, not by the MAC unit the tiles
//                 would speed up, and quantizing it would cost accuracy for no time.
//
// Compiled for the baseline x86-64: the only file with AMX instructions is igemm_amx.cpp, and
// make_amx_backend refuses to build the hardware variant unless amx_unavailable_reason() (CPUID,
// XCR0, Linux's permission, a self-test) is empty. The emulated variant runs the same loops on
// the plain-C++ model of the tiles (igemm_amx_emulated.cpp), so its results are the hardware's
// bit for bit and the backend is tested on every machine that runs avx512.
#include "amx_backend.hpp"

#include <chrono>
#include <map>
#include <mutex>
#include <sstream>

#include "avx512_backend.hpp"
#include "cpu_features.hpp"
#include "igemm_amx.hpp"
#include "mlcore/backends.hpp"
#include "peaks.hpp"
#include "systolic/quantized_gemm.hpp"

namespace mlcore {
namespace {

using Clock = std::chrono::steady_clock;

class AmxBackend final : public Avx512Backend {
 public:
  explicit AmxBackend(const AmxOptions& options)
      : Avx512Backend(options.num_threads), options_(options) {}

  std::string name() const override { return "amx"; }
  std::string description() const override {
    std::ostringstream s;
    s << "amx: GEMMs on AMX int8 tiles" << (options_.emulate_tiles ? " (plain-C++ tile model)" : "")
      << ", f32 quantized per row / column as on the systolic array; other primitives avx512; "
      << threads() << " thread" << (threads() > 1 ? "s" : "");
    return s.str();
  }
  // int8 MACs behind an f32 interface, as on the systolic array; times are measured.
  Capabilities capabilities() const override {
    Capabilities c;
    c.exact_f32 = false;
    return c;
  }
  // The tile unit's int8 MACs/s (a loop of tdpbssd on resident tiles, all threads) and the read
  // bandwidth; measured once per thread count. The tile model has no rate of its own: it reports
  // the avx512 ceilings its other primitives run against.
  MachinePeaks peaks() const override {
    if (options_.emulate_tiles) {
      MachinePeaks p = Avx512Backend::peaks();
      p.source = "tile model (no AMX measured); avx512 " + p.source;
      return p;
    }
    static std::mutex mutex;
    static std::map<int, MachinePeaks> cache;
    std::lock_guard<std::mutex> lock(mutex);
    auto it = cache.find(threads());
    if (it == cache.end()) {
      MachinePeaks p{cpu::measure_amx_int8_peak(threads()), cpu::measure_read_bandwidth(threads()),
                     "measured: int8 MACs of 4 independent tdpbssd chains on resident tiles per "
                     "thread; 64 MiB read, " +
                         std::to_string(threads()) + " threads"};
      it = cache.emplace(threads(), p).first;
    }
    return it->second;
  }

 protected:
  void gemm_impl(Trans ta, Trans tb, float alpha, const Tensor& A, const Tensor& B, float beta,
                 Tensor& C, OpRecord& r) override {
    gemm_hinted_impl(ta, tb, alpha, A, B, beta, C, GemmHints{}, r);
  }

  void gemm_hinted_impl(Trans ta, Trans tb, float alpha, const Tensor& A, const Tensor& B,
                        float beta, Tensor& C, const GemmHints& hints, OpRecord& r) override {
    const bool tra = ta == Trans::yes, trb = tb == Trans::yes;
    if (A.dtype() == DType::i8) {  // exact: alpha = 1, beta ∈ {0, 1} (checked by Backend::gemm)
      int8_gemm(tra, trb, r.m, r.n, r.k, A.data<std::int8_t>(), A.cols(), B.data<std::int8_t>(),
                B.cols(), beta != 0.0f, C.data<std::int32_t>(), C.cols());
      return;
    }
    const auto start = Clock::now();
    const systolic::QuantizedGemmReport report = systolic::quantized_gemm(
        tra, trb, alpha, A, B, beta, C, hints, options_.record_quant_error, threads(),
        [&](const systolic::Quantized& qa, const systolic::Quantized& qb, systolic::ExactSums& sums,
            std::size_t) {
          systolic::exact_product(
              qa, qb,
              [&](std::int64_t m, std::int64_t n, std::int64_t k, const std::int8_t* a,
                  std::int64_t lda, const std::int8_t* b, std::int64_t ldb, std::int32_t* c,
                  std::int64_t ldc) {
                int8_gemm(false, false, m, n, k, a, lda, b, ldb, false, c, ldc);
              },
              sums);
        });
    r.quant_error = report.quant_error;
    // The call's time is the GEMM's: quantize, int8 passes, dequantize. The float64 error
    // estimate is the profiler's instrument, not the machine's work (wall_seconds keeps it).
    r.seconds = std::chrono::duration<double>(Clock::now() - start).count() - report.error_seconds;
  }

 private:
  void int8_gemm(bool ta, bool tb, std::int64_t m, std::int64_t n, std::int64_t k,
                 const std::int8_t* A, std::int64_t lda, const std::int8_t* B, std::int64_t ldb,
                 bool accumulate, std::int32_t* C, std::int64_t ldc) const {
    const auto kernel = options_.emulate_tiles ? cpu::igemm_amx_emulated : cpu::igemm_amx;
    kernel(ta, tb, m, n, k, A, lda, B, ldb, accumulate, C, ldc, threads());
  }

  AmxOptions options_;
};

}  // namespace

namespace cpu {

std::string amx_backend_unavailable_reason() {
  if (std::string why = avx512_unavailable_reason(); !why.empty()) {
    return "its non-GEMM primitives run on avx512, and " + why;
  }
  return amx_unavailable_reason();
}

}  // namespace cpu

BackendPtr make_amx_backend(const AmxOptions& options) {
  // The tile model needs no AMX, but the primitives it does not override are avx512's.
  const std::string why = options.emulate_tiles ? cpu::avx512_unavailable_reason()
                                                : cpu::amx_backend_unavailable_reason();
  if (!why.empty()) throw DeviceError("backend 'amx' is not available: " + why);
  return std::make_shared<AmxBackend>(options);
}

}  // namespace mlcore
