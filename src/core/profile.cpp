#include "mlcore/profile.hpp"

#include <cmath>
#include <cstdio>
#include <sstream>

namespace mlcore {

namespace {

// The stack of profiles installed on this thread by ProfileScope (innermost last).
thread_local std::vector<Profile*> tls_profiles;

void write_json_string(std::ostringstream& s, const std::string& value) {
  s << '"';
  for (char c : value) {
    if (c == '"' || c == '\\') {
      s << '\\' << c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      s << buf;
    } else {
      s << c;
    }
  }
  s << '"';
}

void write_json_number(std::ostringstream& s, double value) {
  if (!std::isfinite(value)) {
    s << "null";  // JSON has no NaN or Infinity
    return;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", value);
  s << buf;
}

void write_totals(std::ostringstream& s, const OpTotals& t) {
  s << "{\"calls\":" << t.calls << ",\"macs\":" << t.macs << ",\"bytes_read\":" << t.bytes_read
    << ",\"bytes_written\":" << t.bytes_written
    << ",\"host_to_device_bytes\":" << t.host_to_device_bytes
    << ",\"device_to_host_bytes\":" << t.device_to_host_bytes << ",\"seconds\":";
  write_json_number(s, t.seconds);
  s << ",\"wall_seconds\":";
  write_json_number(s, t.wall_seconds);
  s << ",\"cycles\":" << t.cycles << ",\"energy_joules\":";
  write_json_number(s, t.energy_joules);
  s << "}";
}

}  // namespace

double OpRecord::intensity() const {
  const std::int64_t bytes = bytes_read + bytes_written;
  return bytes > 0 ? static_cast<double>(macs) / static_cast<double>(bytes) : 0.0;
}

std::string OpRecord::to_json() const {
  std::ostringstream s;
  s << "{\"op\":";
  write_json_string(s, op);
  s << ",\"backend\":";
  write_json_string(s, backend);
  s << ",\"dtype\":";
  write_json_string(s, dtype);
  s << ",\"m\":" << m << ",\"n\":" << n << ",\"k\":" << k << ",\"macs\":" << macs
    << ",\"bytes_read\":" << bytes_read << ",\"bytes_written\":" << bytes_written
    << ",\"host_to_device_bytes\":" << host_to_device_bytes
    << ",\"device_to_host_bytes\":" << device_to_host_bytes << ",\"seconds\":";
  write_json_number(s, seconds);
  s << ",\"seconds_simulated\":" << (seconds_simulated ? "true" : "false") << ",\"wall_seconds\":";
  write_json_number(s, wall_seconds);
  s << ",\"sim\":";
  if (sim) {
    s << "{\"compute_cycles\":" << sim->compute_cycles << ",\"stall_cycles\":" << sim->stall_cycles
      << ",\"cycles\":" << sim->cycles() << ",\"clock_hz\":";
    write_json_number(s, sim->clock_hz);
    s << ",\"utilization\":";
    write_json_number(s, sim->utilization);
    s << ",\"onchip_read_bytes\":" << sim->onchip_read_bytes
      << ",\"onchip_write_bytes\":" << sim->onchip_write_bytes
      << ",\"dram_read_bytes\":" << sim->dram_read_bytes
      << ",\"dram_write_bytes\":" << sim->dram_write_bytes << ",\"energy_joules\":";
    write_json_number(s, sim->energy_joules);
    s << ",\"passes\":" << sim->passes << ",\"wasted_macs\":" << sim->wasted_macs;
    s << "}";
  } else {
    s << "null";
  }
  s << ",\"quant_error\":";
  if (quant_error) {
    write_json_number(s, *quant_error);
  } else {
    s << "null";
  }
  s << "}";
  return s.str();
}

void OpTotals::add(const OpRecord& r) {
  calls += 1;
  macs += r.macs;
  bytes_read += r.bytes_read;
  bytes_written += r.bytes_written;
  host_to_device_bytes += r.host_to_device_bytes;
  device_to_host_bytes += r.device_to_host_bytes;
  seconds += r.seconds;
  wall_seconds += r.wall_seconds;
  if (r.sim) {
    cycles += r.sim->cycles();
    energy_joules += r.sim->energy_joules;
  }
}

Profile::Profile(const Profile& other) { records_ = other.records(); }

Profile& Profile::operator=(const Profile& other) {
  if (this != &other) {
    std::vector<OpRecord> copy = other.records();
    std::lock_guard<std::mutex> lock(mutex_);
    records_ = std::move(copy);
  }
  return *this;
}

void Profile::add(const OpRecord& record) {
  std::lock_guard<std::mutex> lock(mutex_);
  records_.push_back(record);
}

void Profile::clear() {
  std::lock_guard<std::mutex> lock(mutex_);
  records_.clear();
}

void Profile::merge(const Profile& other) {
  if (this == &other) return;
  std::vector<OpRecord> copy = other.records();
  std::lock_guard<std::mutex> lock(mutex_);
  records_.insert(records_.end(), copy.begin(), copy.end());
}

std::vector<OpRecord> Profile::records() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return records_;
}

std::size_t Profile::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return records_.size();
}

OpTotals Profile::total() const {
  std::lock_guard<std::mutex> lock(mutex_);
  OpTotals t;
  for (const OpRecord& r : records_) t.add(r);
  return t;
}

std::map<std::string, OpTotals> Profile::totals_by_op() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::map<std::string, OpTotals> by_op;
  for (const OpRecord& r : records_) by_op[r.op].add(r);
  return by_op;
}

std::string Profile::to_json() const {
  std::vector<OpRecord> snapshot = records();
  std::ostringstream s;
  s << "{\"records\":[";
  OpTotals total;
  std::map<std::string, OpTotals> by_op;
  for (std::size_t i = 0; i < snapshot.size(); ++i) {
    if (i > 0) s << ",";
    s << snapshot[i].to_json();
    total.add(snapshot[i]);
    by_op[snapshot[i].op].add(snapshot[i]);
  }
  s << "],\"total\":";
  write_totals(s, total);
  s << ",\"by_op\":{";
  bool first = true;
  for (const auto& [op, totals] : by_op) {
    if (!first) s << ",";
    first = false;
    write_json_string(s, op);
    s << ":";
    write_totals(s, totals);
  }
  s << "}}";
  return s.str();
}

ProfileScope::ProfileScope(Profile& profile) { tls_profiles.push_back(&profile); }

ProfileScope::~ProfileScope() { tls_profiles.pop_back(); }

Profile* ProfileScope::current() { return tls_profiles.empty() ? nullptr : tls_profiles.back(); }

bool ProfileScope::active() { return !tls_profiles.empty(); }

void ProfileScope::record(const OpRecord& record) {
  for (Profile* p : tls_profiles) p->add(record);
}

}  // namespace mlcore
