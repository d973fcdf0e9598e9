// `glimpse info` and the build/machine block stamped into every report: version, build type,
// compiler, CPU instruction set, CUDA backend availability, hardware threads.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace glimpse {

// Glimpse's version ("0.1.0"), from the CMake project version.
const char* glimpse_version();

// Build and machine facts as JSON: version, build_type, compiler, cpu_arch, cuda_built,
// cuda_available, hardware_threads.
nlohmann::json build_info_json();

// The same facts as aligned "key: value" lines for the terminal.
std::string build_info_text();

}  // namespace glimpse
