// Register-resident FMA loops for the machine's peak GFLOP/s. Each is in its
// own translation unit compiled with the matching -m flags; call one only
// after __builtin_cpu_supports says the CPU has that instruction set.
#ifndef CONV1D_BENCH_PEAK_HPP
#define CONV1D_BENCH_PEAK_HPP

namespace bench {

// `iters` iterations of 16 independent zmm FMAs (16 lanes): returns a value
// derived from the accumulators so the work cannot be dropped.
float fma_loop_avx512(long iters);
constexpr double kFlopsPerIterAvx512 = 16.0 * 16.0 * 2.0;

// `iters` iterations of 16 independent vdpbf16ps (16 lanes, 2 products each).
float dpbf16_loop_avx512(long iters);
constexpr double kFlopsPerIterBf16 = 16.0 * 16.0 * 2.0 * 2.0;

// `iters` iterations of 12 independent ymm FMAs (8 lanes).
float fma_loop_avx2(long iters);
constexpr double kFlopsPerIterAvx2 = 12.0 * 8.0 * 2.0;

}  // namespace bench

#endif  // CONV1D_BENCH_PEAK_HPP
