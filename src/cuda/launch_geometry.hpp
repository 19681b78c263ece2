// Launch-shape arithmetic of the cuda backend, as plain host functions: no CUDA header, so the
// tests check it on every machine, GPU or not (tests/cpp/cuda/test_launch_geometry.cpp).
#pragma once

#include <cstdint>

namespace mlcore::cuda {

// Blocks for a kernel whose blocks each take an equal share of the work, when `wanted` blocks
// would be the natural size and `resident` blocks fit on the GPU at once (blocks per SM × SMs).
// A grid of 1.27 waves runs as two: the last 0.27 of a wave leaves most of the GPU idle for a
// whole block's time. So a grid larger than one wave is rounded to the nearest whole number of
// waves (at least one), with each block's share grown or shrunk to match; a grid under one wave
// is left alone (all of it runs at once). `cap` bounds the grid (it sizes a workspace), rounded
// down to whole waves when it is at least one wave.
inline std::int64_t whole_wave_blocks(std::int64_t wanted, std::int64_t resident,
                                      std::int64_t cap) {
  if (wanted < 1) wanted = 1;
  if (resident < 1 || wanted <= resident) return wanted < cap ? wanted : cap;
  std::int64_t waves = (wanted + resident / 2) / resident;  // nearest whole number of waves
  if (waves < 1) waves = 1;
  if (cap >= resident && waves * resident > cap) waves = cap / resident;
  const std::int64_t blocks = waves * resident;
  return blocks < cap ? blocks : cap;
}

// CUDA grids allow 2^31 − 1 blocks along x but only 65,535 along y and z. A kernel that tiles a
// tall matrix puts its long axis (rows, or row tiles) on x so that no input size can exceed the
// limit; this is the check for the short axis.
constexpr std::int64_t kMaxGridX = (std::int64_t{1} << 31) - 1;
constexpr std::int64_t kMaxGridYZ = 65535;

// K rounded up to `multiple` (the int8 tensor-core path pads K to a multiple of its k-step),
// or -1 when the padded K no longer fits the kernels' 32-bit int.
inline std::int64_t padded_k_or_overflow(std::int64_t k, std::int64_t multiple) {
  const std::int64_t padded = (k + multiple - 1) / multiple * multiple;
  return padded > std::int64_t{0x7fffffff} ? -1 : padded;
}

}  // namespace mlcore::cuda
