#include "errors.hpp"

namespace conv1d {
namespace {

thread_local std::string last_message;

}  // namespace

conv1d_status set_last_error(conv1d_status status, const std::string& message) noexcept {
  try {
    last_message = message;
  } catch (...) {
    // The message could not be stored (no memory); the status still tells.
    last_message.clear();
  }
  return status;
}

void clear_last_error() noexcept { last_message.clear(); }

}  // namespace conv1d

extern "C" {

const char* conv1d_last_error_message(void) { return conv1d::last_message.c_str(); }

const char* conv1d_status_string(conv1d_status status) {
  switch (status) {
    case CONV1D_OK:
      return "success";
    case CONV1D_ERROR_NULL_POINTER:
      return "null pointer argument";
    case CONV1D_ERROR_INVALID_VALUE:
      return "invalid value";
    case CONV1D_ERROR_UNKNOWN_NAME:
      return "unknown name";
    case CONV1D_ERROR_UNKNOWN_PARAMETER:
      return "unknown parameter";
    case CONV1D_ERROR_WRONG_TYPE:
      return "wrong parameter type";
    case CONV1D_ERROR_INVALID_SIZE:
      return "size must be positive";
    case CONV1D_ERROR_SIZE_OVERFLOW:
      return "size overflow";
    case CONV1D_ERROR_BUFFER_TOO_SMALL:
      return "buffer too small";
    case CONV1D_ERROR_STRIDES_WITH_DILATION:
      return "strides > 1 with dilation_rate > 1";
    case CONV1D_ERROR_GROUPS_MISMATCH:
      return "groups do not divide channels or filters";
    case CONV1D_ERROR_EMPTY_OUTPUT:
      return "output would be empty";
    case CONV1D_ERROR_CHANNELS_MISMATCH:
      return "input channels differ from the built layer";
    case CONV1D_ERROR_NOT_BUILT:
      return "layer has no weights";
    case CONV1D_ERROR_INVALID_STATE:
      return "not allowed in the layer's state";
    case CONV1D_ERROR_UNSUPPORTED:
      return "unsupported";
    case CONV1D_ERROR_PARSE:
      return "parse error";
    case CONV1D_ERROR_OUT_OF_MEMORY:
      return "out of memory";
    case CONV1D_ERROR_IO:
      return "I/O error";
    case CONV1D_ERROR_INTERNAL:
      return "internal error";
    default:
      break;
  }
  return "unknown status";
}

}  // extern "C"
