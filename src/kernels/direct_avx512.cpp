// AVX-512 instantiation of the direct kernels. The only file built with
// AVX-512 flags; called only after CPUID says the CPU has it.
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <utility>

#include "activations.hpp"
#include "kernels/backward.hpp"
#include "kernels/direct_isa.hpp"
#include "kernels/packed.hpp"
#include "kernels/transpose.hpp"

namespace conv1d {
namespace avx512 {
namespace {

#include "kernels/transpose8x8.inc"
#include "kernels/vec_avx512.inc"
// The templates over V.
#include "kernels/backward_direct.inc"
#include "kernels/backward_simd.inc"
#include "kernels/direct_simd.inc"
#include "kernels/ncw_panels_simd.inc"

}  // namespace

const BackwardKernels backward = {
    backward_data_run,   backward_weights_run, weight_tiles,       weight_tiles_run,  channel_tiles,
    channel_tile_floats, channel_panel_floats, channel_bias_fused, channel_tiles_run, bias_run,
    fold_rows,           ncw_panel_tasks,      ncw_panel_floats,   ncw_panels_run};
const DirectKernels kernels = {kNwcMaxUnits, kNcwMaxUnits,      V::kLanes,      nwc_tasks, nwc_run, ncw_tasks,
                               ncw_run,      ncw_xpanel_floats, ncw_xpanel_run, dw_tasks,  dw_run};

}  // namespace avx512
}  // namespace conv1d
