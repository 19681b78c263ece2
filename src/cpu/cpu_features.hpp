// What this x86-64 CPU and its operating system let a process execute, read once with CPUID and
// XGETBV. Plain C++ (compiled for the baseline x86-64), so the registry can ask before any
// AVX2/AVX-512/AMX instruction runs.
//
// Two conditions make an instruction set usable, and both are checked:
//   * the CPU implements it: a CPUID feature bit (leaf 1 ECX, leaf 7 EBX/ECX/EDX);
//   * the OS saves and restores its registers on a context switch: the XCR0 register (read with
//     XGETBV, allowed when CPUID.1:ECX.OSXSAVE says the OS enabled XSAVE) has a bit per
//     register state. AVX needs SSE (bit 1) + the ymm upper halves (bit 2); AVX-512 also needs
//     the opmask registers k0–k7 (bit 5), the upper 256 bits of zmm0–15 (bit 6) and zmm16–31
//     (bit 7); AMX needs the tile configuration (bit 17) and tile data (bit 18). A CPU with the
//     feature bit but a kernel without the state bits (an old kernel, a hypervisor that masks
//     it) would corrupt those registers on every context switch, so the instructions raise #UD.
#pragma once

#include <string>

namespace mlcore::cpu {

struct X86Features {
  bool osxsave = false;  // the OS enabled XSAVE, so XGETBV may be executed
  bool os_ymm = false;   // XCR0 bits 1, 2
  bool os_zmm = false;   // XCR0 bits 1, 2, 5, 6, 7
  bool os_amx = false;   // XCR0 bits 17, 18 (the process still asks Linux for permission)
  bool avx2 = false, fma = false;
  bool avx512f = false, avx512dq = false, avx512bw = false, avx512vl = false;
  bool avx512vnni = false, avx512bf16 = false;
  bool amx_tile = false, amx_int8 = false, amx_bf16 = false;
};

// Read once per process (CPUID is slow in virtual machines: it traps to the hypervisor).
const X86Features& x86_features();

// Empty when the avx2 / avx512 backend can run here, otherwise the missing feature(s) in words:
// "the CPU lacks AVX512_VNNI", "the OS does not save the zmm/opmask registers (XCR0 = 0x7)".
std::string avx2_unavailable_reason();
std::string avx512_unavailable_reason();

// The data caches of one core, in bytes, as the C library reads them (CPUID leaf 4 on Intel,
// 0x8000001D on AMD); where it cannot tell (0 or an error, as in some virtual machines), the
// most common server sizes: 32 KiB L1d and 1 MiB L2. The GEMMs size their blocks from these.
struct CacheSizes {
  long l1d = 32 * 1024;
  long l2 = 1024 * 1024;
};
const CacheSizes& host_cache_sizes();

}  // namespace mlcore::cpu
