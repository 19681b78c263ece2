// What the SIMD CPU backends (avx2, avx512) share outside their kernels: how many threads
// element-wise work is worth, the one place their element-wise kernels start threads (through
// mlcore's pool, include/mlcore/parallel.hpp), and grow-only aligned buffers. Plain C++ that
// compiles under any ISA flags.
//
// INTERNAL LINKAGE ON PURPOSE. This header is included by files compiled with different target
// flags (*_avx2.cpp with -mavx2 -mfma, *_avx512.cpp with -mavx512f ...). An ordinary inline
// function would be emitted by each of them as a weak symbol of which the linker keeps one, at
// random: a helper compiled (and auto-vectorised) with AVX-512 could then be the copy the avx2
// backend calls on a CPU without AVX-512, and die with SIGILL. In an unnamed namespace every file
// gets its own copy, compiled with its own flags.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>

#include "mlcore/parallel.hpp"

namespace mlcore::cpu {
namespace {  // see above: one private copy per ISA-specific file

using parallel::split_range;

// A thread is worth waking for ≥ 32 Ki elements of work: ~128 KiB of traffic, some 10 µs at one
// core's ~10 GB/s, well above the few µs a team's start and join cost.
constexpr std::int64_t kMinWorkPerThread = std::int64_t{1} << 15;

inline int threads_for(std::int64_t items, std::int64_t work_per_item, int threads) {
  const std::int64_t useful = items * work_per_item / kMinWorkPerThread;
  return static_cast<int>(
      std::max<std::int64_t>(1, std::min<std::int64_t>({threads, useful, items})));
}

// THE place the element-wise kernels start threads: body(thread, begin, end) over `items` split
// into contiguous ranges, one per thread (a fixed split, so sums do not depend on timing), on as
// many threads as the work pays for. Inside another team it runs the whole range on the calling
// thread (parallel::for_ranges).
template <class Body>
void parallel_ranges(std::int64_t items, std::int64_t work_per_item, int threads, Body&& body) {
  parallel::for_ranges(items, threads_for(items, work_per_item, threads), body);
}

// Reductions over rows (Aᵀx, column sums, scatter-add) sum each block of rows into its own
// partial result and add the partials in block order. The blocks are cut by the work's size
// alone, never by the thread count, so the float sums are grouped alike on 1, 2 or 64 threads
// and the result is bit-identical whatever the count (docs/ARCHITECTURE.md, "Determinism"); the
// threads then share out the blocks. As many blocks as threads_for would use threads, at most
// kMaxReductionBlocks (the partials' memory and the cost of adding them up).
constexpr std::int64_t kMaxReductionBlocks = 16;

inline std::int64_t reduction_blocks(std::int64_t items, std::int64_t work_per_item) {
  return std::max<std::int64_t>(
      1, std::min<std::int64_t>(
             {kMaxReductionBlocks, items * work_per_item / kMinWorkPerThread, items}));
}

// body(block, begin, end) for each of `blocks` fixed contiguous ranges of [0, items), on up to
// `threads` threads.
template <class Body>
void parallel_blocks(std::int64_t items, std::int64_t blocks, int threads, Body&& body) {
  parallel::for_ranges(blocks, threads, [&](int, std::int64_t b0, std::int64_t b1) {
    for (std::int64_t blk = b0; blk < b1; ++blk) {
      body(blk, items * blk / blocks, items * (blk + 1) / blocks);
    }
  });
}

// A grow-only, 64-byte aligned buffer (a cache line: every packed micro-panel row starts on one,
// so the kernels' vector loads are aligned). Kept per thread by its users, so no call after the
// first allocates: a fresh multi-MiB malloc is an mmap whose page faults cost ~1 ms per call.
template <class T>
class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  ~AlignedBuffer() { std::free(data_); }

  T* get(std::size_t count) {
    if (count > capacity_) {
      std::free(data_);
      // Rounded up to a whole cache line, as aligned_alloc requires a multiple of the alignment.
      const std::size_t bytes = (count * sizeof(T) + 63) / 64 * 64;
      data_ = static_cast<T*>(std::aligned_alloc(64, bytes));
      if (data_ == nullptr) {
        capacity_ = 0;
        throw std::bad_alloc();
      }
      capacity_ = bytes / sizeof(T);
    }
    return data_;
  }

 private:
  T* data_ = nullptr;
  std::size_t capacity_ = 0;
};

}  // namespace
}  // namespace mlcore::cpu
