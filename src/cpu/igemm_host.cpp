// Compiled for the baseline x86-64: it only asks CPUID (cpu_features.cpp) which kernel may run.
#include "igemm_host.hpp"

#include "cpu_features.hpp"
#include "gemm_avx2.hpp"
#include "gemm_avx512.hpp"
#include "gemm_scalar.hpp"
#include "igemm_amx.hpp"
#include "mlcore/backends.hpp"
#include "mlcore/error.hpp"
#include "mlcore/parallel.hpp"
#include "mlcore/tensor.hpp"

namespace mlcore::cpu {
namespace {

enum class Kernel { amx, avx512_vnni, avx2, scalar };

Kernel best_kernel() {
  static const Kernel kernel = amx_unavailable_reason().empty()      ? Kernel::amx
                               : avx512_unavailable_reason().empty() ? Kernel::avx512_vnni
                               : avx2_unavailable_reason().empty()   ? Kernel::avx2
                                                                     : Kernel::scalar;
  return kernel;
}

}  // namespace

void igemm_host(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k,
                const std::int8_t* A, std::int64_t lda, const std::int8_t* B, std::int64_t ldb,
                bool accumulate, std::int32_t* C, std::int64_t ldc, int num_threads) {
  const int threads = num_threads > 0 ? num_threads : mlcore::num_threads();
  switch (best_kernel()) {
    case Kernel::amx:
      igemm_amx(trans_a, trans_b, m, n, k, A, lda, B, ldb, accumulate, C, ldc, threads);
      return;
    case Kernel::avx512_vnni:
      igemm_avx512(trans_a, trans_b, m, n, k, A, lda, B, ldb, accumulate, C, ldc, threads);
      return;
    case Kernel::avx2:
      igemm_avx2(trans_a, trans_b, m, n, k, A, lda, B, ldb, accumulate, C, ldc, threads);
      return;
    case Kernel::scalar:
      igemm_scalar(trans_a, trans_b, m, n, k, A, lda, B, ldb, accumulate, C, ldc);
      return;
  }
}

const char* igemm_host_kernel() {
  switch (best_kernel()) {
    case Kernel::amx:
      return "amx";
    case Kernel::avx512_vnni:
      return "avx512_vnni";
    case Kernel::avx2:
      return "avx2";
    case Kernel::scalar:
      return "scalar";
  }
  return "scalar";
}

}  // namespace mlcore::cpu

namespace mlcore {

std::string host_int8_kernel() { return cpu::igemm_host_kernel(); }
std::string amx_unavailable_reason() { return cpu::amx_unavailable_reason(); }

void host_int8_gemm(const Tensor& A, const Tensor& B, Tensor& C, int num_threads) {
  MLCORE_CHECK(
      A.device() == Device::host && B.device() == Device::host && C.device() == Device::host,
      "host_int8_gemm: A, B and C must be host tensors");
  MLCORE_CHECK(A.dtype() == DType::i8 && B.dtype() == DType::i8 && C.dtype() == DType::i32,
               "host_int8_gemm: A and B must be int8 and C int32");
  MLCORE_CHECK(A.cols() == B.rows() && C.rows() == A.rows() && C.cols() == B.cols(),
               "host_int8_gemm: shapes " + A.describe() + " · " + B.describe() + " → " +
                   C.describe() + " do not match");
  cpu::igemm_host(false, false, A.rows(), B.cols(), A.cols(), A.data<std::int8_t>(), A.cols(),
                  B.data<std::int8_t>(), B.cols(), false, C.data<std::int32_t>(), C.cols(),
                  num_threads);
}

double measure_amx_int8_peak(int num_threads) {
  const std::string why = cpu::amx_unavailable_reason();
  if (!why.empty()) throw DeviceError("AMX is not available: " + why);
  return cpu::measure_amx_int8_peak(num_threads > 0 ? num_threads : mlcore::num_threads());
}

}  // namespace mlcore
