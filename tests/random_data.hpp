// Seeded uniform test data, shared by the API test files.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

namespace test_util {

// n values uniform in [lo, hi) drawn from the caller's generator.
template <typename T, typename Rng>
std::vector<T> uniform_from(Rng& rng, size_t n, T lo, T hi) {
  std::uniform_real_distribution<T> d(lo, hi);
  std::vector<T> v(n);
  for (T& e : v) e = d(rng);
  return v;
}

inline std::vector<float> uniform(size_t n, uint32_t seed, float lo, float hi) {
  std::mt19937 rng(seed);
  return uniform_from(rng, n, lo, hi);
}

}  // namespace test_util
