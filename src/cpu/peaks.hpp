// Measuring a CPU's ceilings for the roofline: how many multiply-accumulates per second its
// cores can issue, and how many bytes per second they can stream from DRAM. Measured (briefly,
// once per process) rather than looked up, because the same binary runs on many CPUs and
// turbo clocks make tables unreliable.
#pragma once

namespace mlcore::cpu {

// MACs/s of one core running independent scalar multiply-adds (plain, non-SIMD code's ceiling).
double measure_scalar_mac_peak();
// MACs/s of `threads` cores running independent 8-lane AVX2 FMAs (peaks_avx2.cpp; needs AVX2).
double measure_avx2_fma_peak(int threads);
// MACs/s of `threads` cores running independent 16-lane AVX-512 FMAs (peaks_avx512.cpp).
double measure_avx512_fma_peak(int threads);
// The timing harness of the SIMD probes (peaks.cpp, baseline code): run(iters) on each member of
// a team of `threads`, `macs_per_iter` MACs per iteration each; the best MACs/s of `reps` runs
// (on a shared machine a run that lost its core is discarded, not averaged in). A smaller team
// than asked (the pool busy) is counted as the members that ran.
double measure_team_mac_rate(int threads, int reps, long long iters, double macs_per_iter,
                             void (*run)(long long iters));
// Bytes/s that `threads` threads read from a buffer much larger than the last-level cache.
double measure_read_bandwidth(int threads);

}  // namespace mlcore::cpu
