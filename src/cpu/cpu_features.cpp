// Run-time CPU feature detection (cpu_features.hpp). The library is compiled for the baseline
// x86-64 (plus per-file ISA flags for the *_avx2.cpp / *_avx512.cpp kernels), so it loads on any
// x86-64 CPU; before a kernel of a wider instruction set can run we ask CPUID and XCR0, and on a
// machine without it the backend is listed as unavailable, with the reason, instead of dying
// with SIGILL.
#include "cpu_features.hpp"

#include <unistd.h>

#include <cstdint>
#include <sstream>
#include <vector>

#include "mlcore/backends.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace mlcore::cpu {
namespace {

// XCR0 bits (Intel SDM vol. 1, 13.1): which register states the OS saves with XSAVE.
constexpr std::uint64_t kXcr0Sse = 1u << 1, kXcr0Ymm = 1u << 2;
constexpr std::uint64_t kXcr0Opmask = 1u << 5, kXcr0ZmmHi256 = 1u << 6, kXcr0Hi16Zmm = 1u << 7;
constexpr std::uint64_t kXcr0TileCfg = 1u << 17, kXcr0TileData = 1u << 18;
constexpr std::uint64_t kXcr0Avx = kXcr0Sse | kXcr0Ymm;
constexpr std::uint64_t kXcr0Avx512 = kXcr0Avx | kXcr0Opmask | kXcr0ZmmHi256 | kXcr0Hi16Zmm;
constexpr std::uint64_t kXcr0Amx = kXcr0TileCfg | kXcr0TileData;

bool bit(unsigned reg, int b) { return (reg >> b) & 1u; }

X86Features detect() {
  X86Features f;
#if defined(__x86_64__) || defined(__i386__)
  unsigned eax, ebx, ecx, edx;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return f;
  f.fma = bit(ecx, 12);
  f.osxsave = bit(ecx, 27);
  std::uint64_t xcr0 = 0;
  if (f.osxsave) {
    // XGETBV with ECX = 0 reads XCR0. Written as inline assembly: the intrinsic _xgetbv needs
    // -mxsave, and this file is compiled for the baseline.
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    xcr0 = (std::uint64_t{hi} << 32) | lo;
  }
  f.os_ymm = (xcr0 & kXcr0Avx) == kXcr0Avx;
  f.os_zmm = (xcr0 & kXcr0Avx512) == kXcr0Avx512;
  f.os_amx = (xcr0 & kXcr0Amx) == kXcr0Amx;
  if (__get_cpuid_max(0, nullptr) >= 7) {
    __cpuid_count(7, 0, eax, ebx, ecx, edx);
    f.avx2 = bit(ebx, 5);
    f.avx512f = bit(ebx, 16);
    f.avx512dq = bit(ebx, 17);
    f.avx512bw = bit(ebx, 30);
    f.avx512vl = bit(ebx, 31);
    f.avx512vnni = bit(ecx, 11);
    f.amx_bf16 = bit(edx, 22);
    f.amx_tile = bit(edx, 24);
    f.amx_int8 = bit(edx, 25);
    __cpuid_count(7, 1, eax, ebx, ecx, edx);
    f.avx512bf16 = bit(eax, 5);
  }
#endif
  return f;
}

// "the CPU lacks X, Y" for the features whose flag is false; empty when none is.
std::string lacking(const std::vector<std::pair<const char*, bool>>& features) {
  std::string missing;
  for (const auto& [name, present] : features) {
    if (!present) missing += std::string(missing.empty() ? "" : ", ") + name;
  }
  return missing.empty() ? missing : "the CPU lacks " + missing;
}

}  // namespace

const X86Features& x86_features() {
  static const X86Features features = detect();
  return features;
}

std::string avx2_unavailable_reason() {
#if defined(__x86_64__) || defined(__i386__)
  const X86Features& f = x86_features();
  std::string r = lacking({{"AVX2", f.avx2}, {"FMA", f.fma}});
  if (r.empty() && !f.os_ymm) r = "the OS does not save the ymm registers (XCR0 lacks AVX state)";
  return r;
#else
  return "not an x86-64 CPU";
#endif
}

std::string avx512_unavailable_reason() {
#if defined(__x86_64__) || defined(__i386__)
  const X86Features& f = x86_features();
  // The kernels use F (zmm arithmetic, masks), BW (byte/word masks and loads), DQ, VL (masked
  // ymm/xmm forms in tails) and VNNI (vpdpbusd in the int8 GEMM), and are compiled with -mfma.
  std::string r = lacking({{"AVX512F", f.avx512f},
                           {"AVX512DQ", f.avx512dq},
                           {"AVX512BW", f.avx512bw},
                           {"AVX512VL", f.avx512vl},
                           {"AVX512_VNNI", f.avx512vnni},
                           {"AVX2", f.avx2},
                           {"FMA", f.fma}});
  if (r.empty() && !f.os_zmm) {
    r = "the OS does not save the zmm and opmask registers (XCR0 lacks the AVX-512 state bits)";
  }
  return r;
#else
  return "not an x86-64 CPU";
#endif
}

const CacheSizes& host_cache_sizes() {
  static const CacheSizes sizes = [] {
    CacheSizes c;
#if defined(_SC_LEVEL1_DCACHE_SIZE) && defined(_SC_LEVEL2_CACHE_SIZE)
    const long l1d = sysconf(_SC_LEVEL1_DCACHE_SIZE), l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
    if (l1d > 0) c.l1d = l1d;
    if (l2 > 0) c.l2 = l2;
#endif
    return c;
  }();
  return sizes;
}

}  // namespace mlcore::cpu

namespace mlcore {

bool cpu_supports_avx2() { return cpu::avx2_unavailable_reason().empty(); }
bool cpu_supports_avx512() { return cpu::avx512_unavailable_reason().empty(); }

}  // namespace mlcore
