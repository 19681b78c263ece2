// Runs one GEMM on every backend available on this machine and prints what each one did.
//   usage: gemm_all_backends [n]        (C = A·B with A, B n × n; default n = 256)
#include <cstdio>
#include <cstdlib>
#include <mlcore/mlcore.hpp>
#include <random>

int main(int argc, char** argv) {
  const std::int64_t n = argc > 1 ? std::atoll(argv[1]) : 256;
  if (n <= 0) {
    std::fprintf(stderr, "n must be positive\n");
    return 2;
  }
  mlcore::Tensor A(n, n), B(n, n);
  std::mt19937 rng(0);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (std::int64_t i = 0; i < n * n; ++i) {
    A.data<float>()[i] = dist(rng);
    B.data<float>()[i] = dist(rng);
  }

  std::printf("mlcore %s: C = A·B, %lld × %lld × %lld\n", MLCORE_VERSION, (long long)n,
              (long long)n, (long long)n);
  std::printf("%-10s %14s %12s %12s %10s  %s\n", "backend", "MACs", "bytes", "seconds", "GFLOP/s",
              "time is");
  for (const std::string& name : mlcore::available_backends()) {
    mlcore::BackendPtr b = mlcore::backend(name);
    mlcore::Profile profile;
    {
      mlcore::ProfileScope scope(profile);  // records this block's primitive calls
      mlcore::Tensor C = b->empty(n, n);
      b->gemm(mlcore::Trans::no, mlcore::Trans::no, 1.0f, b->to_device(A), b->to_device(B), 0.0f,
              C);
      b->to_host(C);
    }
    for (const mlcore::OpRecord& r : profile.records()) {
      if (r.op != "gemm") continue;
      std::printf("%-10s %14lld %12lld %12.6f %10.2f  %s\n", name.c_str(), (long long)r.macs,
                  (long long)(r.bytes_read + r.bytes_written), r.seconds,
                  2.0 * r.macs / r.seconds * 1e-9, r.seconds_simulated ? "simulated" : "measured");
    }
    std::printf("  profile JSON: %.160s...\n", profile.to_json().c_str());
  }
  for (const mlcore::BackendInfo& info : mlcore::backend_info()) {
    if (!info.available)
      std::printf("(%s not available: %s)\n", info.name.c_str(), info.reason.c_str());
  }
  return 0;
}
