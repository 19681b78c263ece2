// Profile: what the hardware did, one record per primitive call.
//
// Every primitive on every backend leaves one OpRecord: which op, its shape, how many
// multiply-accumulates, how many bytes it had to read and write, how many bytes crossed between
// host and device, and how long it took. The systolic simulator also fills SimCounters (cycles,
// utilization, on-chip and DRAM traffic, energy). Comparing these records across backends is the
// point of the library.
//
// Records belong to the caller, not to a global. A ProfileScope installs a Profile for the
// current thread; while it lives, every primitive call made on that thread appends its record
// to that Profile (and to every enclosing scope's Profile, so an outer scope sees the total).
//
//   mlcore::Profile profile;
//   {
//     mlcore::ProfileScope scope(profile);
//     backend.gemm(...);              // recorded into `profile`
//   }
//
// Work that fans out to other threads installs a scope for the same Profile in each worker
// (see ProfileScope::current()); Profile::add is thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace mlcore {

// Counters only a simulated machine can report (the systolic backend fills them).
struct SimCounters {
  std::int64_t compute_cycles = 0;  // cycles the array or vector unit was busy
  std::int64_t stall_cycles = 0;    // cycles waiting for off-chip bandwidth or buffer space
  double clock_hz = 0;              // the simulated clock
  double utilization = 0;           // useful MACs ÷ (PEs × total cycles), in [0, 1]
  std::int64_t onchip_read_bytes = 0;
  std::int64_t onchip_write_bytes = 0;
  std::int64_t dram_read_bytes = 0;
  std::int64_t dram_write_bytes = 0;
  double energy_joules = 0;  // from the configuration's energy table
  // int8 products the array ran for the call: 1 for a GEMM, one per magnitude band when an
  // operand was cut into bands (GemmHints::wide_range_b), 2 for a variance; 0 on the vector unit.
  std::int64_t passes = 0;
  // MACs the array performed on zeros it was handed as part of a dense tile: a sparse product
  // (Backend::spmm) runs every tile of op(A) that holds a nonzero as a dense tile, so its stored
  // zeros are multiplied too. Useful MACs (OpRecord::macs) + wasted = the MACs the PEs did.
  std::int64_t wasted_macs = 0;
  std::int64_t cycles() const { return compute_cycles + stall_cycles; }
};

struct OpRecord {
  std::string op;       // "gemm", "sqdist", ...
  std::string backend;  // "avx2", "systolic", ...
  std::string dtype;    // element type of the main operands: "f32", "i8"
  // The op's shape, as its documentation defines it (for gemm: C is m × n, inner dimension k).
  std::int64_t m = 0, n = 0, k = 0;
  std::int64_t macs = 0;           // multiply-accumulates (a flop count is 2 × macs)
  std::int64_t bytes_read = 0;     // the op's compulsory traffic: each input read once
  std::int64_t bytes_written = 0;  // each output written once
  std::int64_t host_to_device_bytes = 0;
  std::int64_t device_to_host_bytes = 0;
  double seconds = 0;              // time on the backend's machine (measured, or simulated)
  bool seconds_simulated = false;  // true when `seconds` comes from a cycle count, not a clock
  double wall_seconds = 0;         // host wall-clock time the call took (for the simulator: its
                                   // own run time)
  std::optional<SimCounters> sim;
  std::optional<double> quant_error;  // relative error of an int8 result against f32

  // Arithmetic intensity in MACs per byte of compulsory traffic (0 when no bytes move).
  double intensity() const;
  // A JSON object with every field (absent optionals as null).
  std::string to_json() const;
};

// Sums of a set of records (per op, or over everything).
struct OpTotals {
  std::int64_t calls = 0;
  std::int64_t macs = 0;
  std::int64_t bytes_read = 0;
  std::int64_t bytes_written = 0;
  std::int64_t host_to_device_bytes = 0;
  std::int64_t device_to_host_bytes = 0;
  double seconds = 0;
  double wall_seconds = 0;
  std::int64_t cycles = 0;  // sum of sim cycles (0 when no record has sim counters)
  double energy_joules = 0;
  void add(const OpRecord& record);
};

class Profile {
 public:
  Profile() = default;
  Profile(const Profile& other);
  Profile& operator=(const Profile& other);

  void add(const OpRecord& record);  // thread-safe
  void clear();
  // Appends every record of `other` (e.g. a worker thread's profile into its parent's).
  void merge(const Profile& other);

  std::vector<OpRecord> records() const;  // a copy, in call order
  std::size_t size() const;
  OpTotals total() const;
  std::map<std::string, OpTotals> totals_by_op() const;
  // {"records": [...], "total": {...}, "by_op": {"gemm": {...}, ...}}
  std::string to_json() const;

 private:
  mutable std::mutex mutex_;
  std::vector<OpRecord> records_;
};

// Installs `profile` as a sink for this thread's primitive calls while the scope lives.
// Scopes nest; a record goes to every profile on the thread's stack.
class ProfileScope {
 public:
  explicit ProfileScope(Profile& profile);
  ~ProfileScope();
  ProfileScope(const ProfileScope&) = delete;
  ProfileScope& operator=(const ProfileScope&) = delete;

  // The innermost profile installed on this thread, or nullptr.
  static Profile* current();
  // True when any profile is installed on this thread (backends skip bookkeeping otherwise).
  static bool active();
  // Appends `record` to every profile installed on this thread.
  static void record(const OpRecord& record);
};

}  // namespace mlcore
