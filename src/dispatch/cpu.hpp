// The CPU's instruction sets, detected once per process.
#pragma once

#include <conv1d/conv1d.h>

namespace conv1d {

// Best ISA the CPU and OS support for the kernels.
conv1d_isa detected_isa();

// Whether the CPU has AVX512_BF16 (vdpbf16ps, vcvtne2ps2bf16) on top of the
// AVX-512 level detected_isa() reports. Not capped by CONV1D_MAX_ISA.
bool cpu_has_avx512_bf16();

// The cap from $CONV1D_MAX_ISA (scalar|avx2|avx512), or the detected ISA.
// An unknown value throws Error(CONV1D_ERROR_UNKNOWN_NAME).
conv1d_isa default_max_isa();

conv1d_isa parse_isa(const char* name);
const char* isa_name(conv1d_isa isa);

}  // namespace conv1d
