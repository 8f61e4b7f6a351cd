// Internal error type. Code below capi/ reports failures by throwing
// conv1d::Error; capi/ turns it into a status and the thread-local message.
#pragma once

#include <conv1d/conv1d.h>

#include <stdexcept>
#include <string>

namespace conv1d {

class Error : public std::runtime_error {
 public:
  Error(conv1d_status status, const std::string& message) : std::runtime_error(message), status_(status) {}
  conv1d_status status() const noexcept { return status_; }

 private:
  conv1d_status status_;
};

[[noreturn]] inline void fail(conv1d_status status, const std::string& message) { throw Error(status, message); }

}  // namespace conv1d
