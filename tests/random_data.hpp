// Seeded uniform test data, shared by the API test files.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

namespace test_util {

inline std::vector<float> uniform(size_t n, uint32_t seed, float lo, float hi) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (float& f : v) f = d(rng);
  return v;
}

}  // namespace test_util
