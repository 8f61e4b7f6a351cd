#include "runtime/aligned.hpp"

namespace conv1d {

float* thread_scratch(int slot, size_t floats) {
  thread_local AlignedBuffer buffers[7];
  return buffers[slot].reserve(floats);
}

}  // namespace conv1d
