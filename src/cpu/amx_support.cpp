// May this process run the AMX int8 GEMM? Compiled for the baseline x86-64: it asks CPUID and
// XCR0 (cpu_features.cpp), then Linux, then the kernel itself.
//
// Linux does not hand every process the 8 KiB of tile state: a process asks once with
// arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA), and a tile instruction before that raises
// SIGILL (Documentation/arch/x86/xstate.rst in the kernel tree). The permission is process-wide,
// so the threads of mlcore's pool share it.
//
// The self-test. This kernel was written on machines without AMX, where the tests run its loops
// on a model of the tile unit (igemm_amx_emulated.cpp); only the instructions themselves meet
// the hardware here. Before the process trusts them, a forked child runs a few awkward shapes
// and compares them with the scalar GEMM: a child that faults or disagrees makes AMX absent
// with that reason (and MLCORE_REQUIRE=amx turns the absence into a test failure), instead of
// taking the caller down or returning wrong integers.
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "cpu_features.hpp"
#include "gemm_scalar.hpp"
#include "igemm_amx.hpp"

#if defined(__linux__) && defined(__x86_64__)
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

namespace mlcore::cpu {
namespace {

#if defined(__linux__) && defined(__x86_64__) && defined(MLCORE_AMX_COMPILED)

constexpr int kArchReqXcompPerm = 0x1023;  // arch/x86/include/uapi/asm/prctl.h
constexpr int kXfeatureXtiledata = 18;     // the XSAVE component of the tile data

// True when igemm_amx reproduces igemm_scalar on shapes that cross every edge of the blocking
// (1, primes, a tile ± 1, more than one k-chunk) with both transposes and accumulation.
bool amx_matches_scalar() {
  struct Shape {
    std::int64_t m, n, k;
    bool ta, tb, acc;
  };
  const Shape shapes[] = {{1, 1, 1, false, false, false},
                          {37, 29, 53, false, true, false},
                          {33, 17, 130, true, false, true},
                          {16, 48, 64, true, true, false}};
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> byte(-128, 127);
  for (const Shape& s : shapes) {
    std::vector<std::int8_t> A(s.m * s.k), B(s.k * s.n);
    for (auto& v : A) v = static_cast<std::int8_t>(byte(rng));
    for (auto& v : B) v = static_cast<std::int8_t>(byte(rng));
    std::vector<std::int32_t> got(s.m * s.n, 3), want(s.m * s.n, 3);
    const std::int64_t lda = s.ta ? s.m : s.k, ldb = s.tb ? s.k : s.n;
    igemm_amx(s.ta, s.tb, s.m, s.n, s.k, A.data(), lda, B.data(), ldb, s.acc, got.data(), s.n, 1);
    igemm_scalar(s.ta, s.tb, s.m, s.n, s.k, A.data(), lda, B.data(), ldb, s.acc, want.data(), s.n);
    if (got != want) return false;
  }
  return true;
}

std::string self_test_in_child() {
  const pid_t pid = fork();
  if (pid < 0) return std::string("could not fork the AMX self-test: ") + std::strerror(errno);
  if (pid == 0) _exit(amx_matches_scalar() ? 0 : 1);  // the child: no destructors, no atexit
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR)
      return std::string("waiting for the AMX self-test: ") + std::strerror(errno);
  }
  if (WIFSIGNALED(status)) {
    return "the AMX GEMM's self-test died with signal " + std::to_string(WTERMSIG(status));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return "the AMX GEMM's self-test did not reproduce the scalar int8 GEMM";
  }
  return "";
}

std::string check() {
  const X86Features& f = x86_features();
  std::string missing;
  if (!f.amx_tile) missing += "AMX-TILE";
  if (!f.amx_int8) missing += missing.empty() ? "AMX-INT8" : ", AMX-INT8";
  if (!missing.empty()) return "the CPU lacks " + missing;
  if (!f.os_amx) return "the OS does not save the tile registers (XCR0 lacks the AMX state bits)";
  if (syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) != 0) {
    return std::string("Linux refused the AMX tile-data permission (arch_prctl): ") +
           std::strerror(errno);
  }
  return self_test_in_child();
}

#endif

}  // namespace

std::string amx_unavailable_reason() {
#if !defined(__linux__) || !defined(__x86_64__)
  return "AMX needs x86-64 Linux (the tile-data permission is asked with arch_prctl)";
#elif !defined(MLCORE_AMX_COMPILED)
  return "this build's compiler does not support -mamx-tile -mamx-int8";
#else
  static const std::string reason = check();  // once per process
  return reason;
#endif
}

#if !defined(MLCORE_AMX_COMPILED)
// Without the AMX source file the hardware path does not exist; amx_unavailable_reason() says
// why, and nothing calls this.
void igemm_amx(bool, bool, std::int64_t, std::int64_t, std::int64_t, const std::int8_t*,
               std::int64_t, const std::int8_t*, std::int64_t, bool, std::int32_t*, std::int64_t,
               int) {
  throw std::logic_error("igemm_amx called in a build without AMX support");
}
double measure_amx_int8_peak(int) {
  throw std::logic_error("measure_amx_int8_peak called in a build without AMX support");
}
#endif

}  // namespace mlcore::cpu
