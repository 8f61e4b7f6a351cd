#include "dispatch/cpu.hpp"

#include <cstdlib>
#include <cstring>
#include <string>

#include "error.hpp"

namespace conv1d {

conv1d_isa detected_isa() {
  // libgcc's checks include the OS's XSAVE state for AVX and AVX-512.
  static const conv1d_isa isa = [] {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512vl"))
      return CONV1D_ISA_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return CONV1D_ISA_AVX2;
    return CONV1D_ISA_SCALAR;
  }();
  return isa;
}

bool cpu_has_avx512_bf16() {
  static const bool has = detected_isa() == CONV1D_ISA_AVX512 && __builtin_cpu_supports("avx512bf16");
  return has;
}

const char* isa_name(conv1d_isa isa) {
  switch (isa) {
    case CONV1D_ISA_SCALAR:
      return "scalar";
    case CONV1D_ISA_AVX2:
      return "avx2";
    case CONV1D_ISA_AVX512:
      return "avx512";
    default:
      break;
  }
  return nullptr;
}

conv1d_isa parse_isa(const char* name) {
  for (int i = CONV1D_ISA_SCALAR; i <= CONV1D_ISA_AVX512; ++i)
    if (std::strcmp(name, isa_name(static_cast<conv1d_isa>(i))) == 0) return static_cast<conv1d_isa>(i);
  fail(CONV1D_ERROR_UNKNOWN_NAME,
       std::string("unknown instruction set '") + name + "'; expected 'scalar', 'avx2' or 'avx512'");
}

conv1d_isa default_max_isa() {
  const char* env = std::getenv("CONV1D_MAX_ISA");
  if (!env || !*env) return detected_isa();
  try {
    return parse_isa(env);
  } catch (const Error& e) {
    fail(e.status(), std::string("environment variable CONV1D_MAX_ISA: ") + e.what());
  }
}

}  // namespace conv1d
