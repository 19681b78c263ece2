// The avx2 backend's partition_rows (Backend::partition_rows: a tree node's rows split stably
// into its children); compiled with -mavx2 -mfma like its neighbours, though its loop is plain
// C++: the work is one random byte read per row (the row's code), which a gather does not make
// faster, and AVX2 has no instruction that packs the selected lanes of a vector together
// (AVX-512's vpcompressd does). What makes it fast is the absence of a branch, and threads.
#include <algorithm>
#include <vector>

#include "mlcore/parallel.hpp"
#include "primitives_avx2.hpp"

namespace mlcore::cpu {

namespace {

// Which side each code goes to, as a table: the loop below then has no data-dependent branch.
struct SideTable {
  bool goes_left[256];
  explicit SideTable(const RowSplit& split) {
    for (int c = 0; c < 256; ++c) {
      goes_left[c] = c == split.missing_code ? split.missing_left : c <= split.bin;
    }
  }
};

// Splits ids[0, count): left ids to left[0..), right ids to right[0..), each in order; returns
// the number of lefts. `left` may be `ids` itself (its cursor never passes the reading one).
// Each id is written to both outputs and only one cursor advances: an `if` on a random split
// mispredicts for half the rows (~15 cycles each), the two stores cost one cycle.
int64_t split_ids(const SideTable& side, const std::uint8_t* code, const int32_t* ids,
                  int64_t count, int32_t* left, int32_t* right) {
  int64_t l = 0, r = 0;
  for (int64_t k = 0; k < count; ++k) {
    const int32_t i = ids[k];
    const bool goes_left = side.goes_left[code[i]];
    left[l] = i;
    right[r] = i;
    l += goes_left;
    r += !goes_left;
  }
  return l;
}

// Below this many rows one thread partitions: a team's start (~µs) would cost more than the
// pass. At 2^15 rows the pass takes ~50 µs (one random code read per row, mostly cached).
constexpr int64_t kParallelRows = int64_t{1} << 15;

}  // namespace

int64_t partition_rows_avx2(const std::uint8_t* code, const RowSplit& split, int32_t* ids,
                            int64_t m, int threads) {
  const SideTable side(split);
  // Scratch kept per thread between calls: a tree partitions once per split, and a fresh
  // buffer of a large node's size would page-fault on every call.
  thread_local std::vector<int32_t> tmp;
  if (m < kParallelRows || threads <= 1 || parallel::in_team()) {
    if (tmp.size() < static_cast<std::size_t>(m)) tmp.resize(m);
    const int64_t l = split_ids(side, code, ids, m, ids, tmp.data());
    std::copy(tmp.begin(), tmp.begin() + (m - l), ids + l);
    return l;
  }
  // Chunk t of the ids splits into tmp at its own place: lefts from the chunk's start in the
  // first half, rights from the chunk's start in the second. Then every chunk copies its lefts
  // and rights to their final places, found by prefix sums of the chunks' counts: chunks in
  // order, each in order, so the result is the serial one whatever the thread count.
  if (tmp.size() < static_cast<std::size_t>(2 * m)) tmp.resize(2 * m);
  int32_t* lefts = tmp.data();
  int32_t* rights = tmp.data() + m;
  std::vector<int64_t> chunk_begin(threads + 1), n_left(threads, 0);
  for (int t = 0; t <= threads; ++t) chunk_begin[t] = m * t / threads;
  parallel::for_each_static(threads, threads, [&](int64_t t) {
    const int64_t b = chunk_begin[t], count = chunk_begin[t + 1] - b;
    n_left[t] = split_ids(side, code, ids + b, count, lefts + b, rights + b);
  });
  std::vector<int64_t> left_at(threads), right_at(threads);
  int64_t total_left = 0;
  for (int t = 0; t < threads; ++t) {
    left_at[t] = total_left;
    total_left += n_left[t];
  }
  for (int64_t t = 0, at = total_left; t < threads; ++t) {
    right_at[t] = at;
    at += (chunk_begin[t + 1] - chunk_begin[t]) - n_left[t];
  }
  parallel::for_each_static(threads, threads, [&](int64_t t) {
    const int64_t b = chunk_begin[t], count = chunk_begin[t + 1] - b;
    std::copy(lefts + b, lefts + b + n_left[t], ids + left_at[t]);
    std::copy(rights + b, rights + b + (count - n_left[t]), ids + right_at[t]);
  });
  return total_left;
}

}  // namespace mlcore::cpu
