// Run-time CPU feature detection. The library is compiled for the baseline x86-64 (plus
// per-file -mavx2 -mfma for the AVX2 kernels), so it loads on any x86-64 CPU; before an AVX2
// instruction can run we ask CPUID, and on a CPU without AVX2/FMA the avx2 backend is listed as
// unavailable instead of dying with SIGILL.
#include "mlcore/backends.hpp"

namespace mlcore {

bool cpu_supports_avx2() {
#if defined(__x86_64__) || defined(__i386__)
  // GCC's builtins read CPUID, and for AVX also check (XGETBV) that the OS saves ymm registers.
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

}  // namespace mlcore
