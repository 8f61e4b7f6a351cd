// Helpers for unit tests of internal code that reports errors by throwing
// conv1d::Error: the status (CONV1D_OK when nothing was thrown) and message.
#pragma once

#include <string>

#include "error.hpp"

namespace test_util {

template <class F>
conv1d_status status_of(F&& f) {
  try {
    f();
  } catch (const conv1d::Error& e) {
    return e.status();
  }
  return CONV1D_OK;
}

template <class F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const conv1d::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace test_util
