// The backend registry: every backend mlcore knows, how to build its default instance, and
// whether it can run here. Adding a backend is one line in kEntries.
#include <functional>
#include <map>
#include <mutex>

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
};

const std::vector<Entry>& entries() {
  static const std::vector<Entry> kEntries = {
      {"scalar", [] { return make_scalar_backend(); }, [] { return std::string(); }},
      {"avx2", [] { return make_avx2_backend(0); },
       [] { return cpu_supports_avx2() ? std::string() : std::string("this CPU lacks AVX2/FMA"); }},
      {"cuda", [] { return make_cuda_backend(0); }, [] { return cuda_unavailable_reason(); }},
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
