// The C boundary's error handling: every entry point runs its body through
// guard(), which turns any C++ exception into a status and the thread-local
// message, so nothing is ever thrown across the C ABI.
#pragma once

#include <conv1d/conv1d.h>

#include <new>
#include <string>

#include "error.hpp"

namespace conv1d {

conv1d_status set_last_error(conv1d_status status, const std::string& message) noexcept;
void clear_last_error() noexcept;

template <class Body>
conv1d_status guard(Body&& body) noexcept {
  try {
    body();
    clear_last_error();
    return CONV1D_OK;
  } catch (const Error& e) {
    return set_last_error(e.status(), e.what());
  } catch (const std::bad_alloc&) {
    return set_last_error(CONV1D_ERROR_OUT_OF_MEMORY, "out of memory");
  } catch (const std::exception& e) {
    return set_last_error(CONV1D_ERROR_INTERNAL, std::string("internal error: ") + e.what());
  } catch (...) {
    return set_last_error(CONV1D_ERROR_INTERNAL, "internal error: unknown exception");
  }
}

}  // namespace conv1d
