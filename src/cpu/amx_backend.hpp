// Whether the `amx` backend can run here (the registry asks; amx_backend.cpp answers).
#pragma once

#include <string>

namespace mlcore::cpu {

// Empty when the amx backend can run: the avx512 backend it delegates to runs, and AMX does
// (amx_unavailable_reason(): CPUID, XCR0, Linux's tile-data permission, the self-test).
// Otherwise the first missing piece, in words.
std::string amx_backend_unavailable_reason();

}  // namespace mlcore::cpu
