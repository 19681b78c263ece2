// The backend registry: every backend mlcore knows, how to build its default instance, and
// whether it can run here. Adding a backend is one line in kEntries.
#include <functional>
#include <map>
#include <mutex>

#include "cpu/amx_backend.hpp"
#include "cpu/cpu_features.hpp"
#include "mlcore/backend.hpp"
#include "mlcore/backends.hpp"
#include "mlcore/systolic.hpp"

namespace mlcore {

namespace {

struct Entry {
  const char* name;
  std::function<BackendPtr()> make;
  // Empty when the backend can run on this machine, otherwise why not.
  std::function<std::string()> unavailable_reason;
  // For the default backend (default_backend_name): how fast this backend's f32 arithmetic is
  // among the CPU backends, higher is faster; 0 = never the default (a device with its own
  // memory, a simulator, or amx, whose f32 GEMMs are quantized to int8, is something to ask for
  // by name).
  int cpu_f32_speed = 0;
};

const std::vector<Entry>& entries() {
  static const std::vector<Entry> kEntries = {
      {"scalar", [] { return make_scalar_backend(); }, [] { return std::string(); }, 1},
      {"avx2", [] { return make_avx2_backend(0); }, cpu::avx2_unavailable_reason, 2},
      {"avx512", [] { return make_avx512_backend(0); }, cpu::avx512_unavailable_reason, 3},
      {"cuda", [] { return make_cuda_backend(0); }, [] { return cuda_unavailable_reason(); }},
      {"amx", [] { return make_amx_backend(); }, cpu::amx_backend_unavailable_reason},
      {"systolic", [] { return make_default_systolic_backend(); }, [] { return std::string(); }},
  };
  return kEntries;
}

}  // namespace

std::vector<BackendInfo> backend_info() {
  std::vector<BackendInfo> info;
  for (const Entry& e : entries()) {
    std::string reason = e.unavailable_reason();
    info.push_back({e.name, reason.empty(), reason});
  }
  return info;
}

std::vector<std::string> available_backends() {
  std::vector<std::string> names;
  for (const BackendInfo& b : backend_info()) {
    if (b.available) names.push_back(b.name);
  }
  return names;
}

std::string default_backend_name() {
  // Asked once: the hardware does not change while the process runs.
  static const std::string name = [] {
    const Entry* best = nullptr;
    for (const Entry& e : entries()) {
      if (e.cpu_f32_speed > (best ? best->cpu_f32_speed : 0) && e.unavailable_reason().empty()) {
        best = &e;
      }
    }
    return std::string(best->name);  // scalar always runs
  }();
  return name;
}

BackendPtr backend(const std::string& name) {
  // One shared instance per name: backends hold thread pools, device contexts and caches that
  // are expensive to build, and they keep no per-call state (records go to the caller's scope).
  static std::mutex mutex;
  static std::map<std::string, BackendPtr> instances;
  std::lock_guard<std::mutex> lock(mutex);
  if (auto it = instances.find(name); it != instances.end()) return it->second;
  for (const Entry& e : entries()) {
    if (name != e.name) continue;
    std::string reason = e.unavailable_reason();
    if (!reason.empty()) throw DeviceError("backend '" + name + "' is not available: " + reason);
    BackendPtr b = e.make();
    instances[name] = b;
    return b;
  }
  std::string known;
  for (const Entry& e : entries()) known += std::string(known.empty() ? "" : ", ") + e.name;
  MLCORE_FAIL("unknown backend '" << name << "'; known backends: " << known);
}

}  // namespace mlcore
