// A layer handle for API tests: created or the test fails, destroyed at scope end.
#pragma once

#include <conv1d/conv1d.h>

#include <catch2/catch.hpp>
#include <cstdint>

namespace test_util {

struct Layer {
  conv1d_layer* p = nullptr;
  Layer(int64_t filters, int64_t k) { REQUIRE(conv1d_create(filters, k, &p) == CONV1D_OK); }
  ~Layer() { conv1d_destroy(p); }
  Layer(const Layer&) = delete;
  Layer& operator=(const Layer&) = delete;
  operator conv1d_layer*() const { return p; }
};

}  // namespace test_util
