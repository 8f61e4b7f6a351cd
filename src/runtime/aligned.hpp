// 64-byte aligned float storage: packed weights and per-thread scratch.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>

namespace conv1d {

class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  explicit AlignedBuffer(size_t n) { resize(n); }
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  AlignedBuffer(AlignedBuffer&& o) noexcept : data_(o.data_), size_(o.size_) { o.data_ = nullptr, o.size_ = 0; }
  AlignedBuffer& operator=(AlignedBuffer&& o) noexcept {
    if (this != &o) {
      std::free(data_);
      data_ = o.data_, size_ = o.size_;
      o.data_ = nullptr, o.size_ = 0;
    }
    return *this;
  }
  ~AlignedBuffer() { std::free(data_); }

  // Discards the contents; zero-filled. Throws std::bad_alloc.
  void resize(size_t n) {
    float* p = nullptr;
    if (n > 0) {
      const size_t bytes = (n * sizeof(float) + 63) / 64 * 64;
      p = static_cast<float*>(std::aligned_alloc(64, bytes));
      if (!p) throw std::bad_alloc();
      std::memset(p, 0, bytes);
    }
    std::free(data_);
    data_ = p;
    size_ = n;
  }
  // Grows (never shrinks) without keeping the contents.
  float* reserve(size_t n) {
    if (n > size_) resize(n);
    return data_;
  }
  float* data() { return data_; }
  const float* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  float* data_ = nullptr;
  size_t size_ = 0;
};

// Per-thread scratch that grows to the largest request and is reused, so the
// hot path allocates only the first time a thread sees a larger shape.
// Slots: 0 the forward GEMM path, 1 glu's pre-activation, 2 the layer's
// backward buffers, 3 backward dispatch's transposes and staging, 4 and 5
// the forward's dtype conversions of x and y (forward_ex, bfloat16 layers),
// 6 the channels_first pointwise kernel's copies of x.
float* thread_scratch(int slot, size_t floats);

// Splits one scratch slot into 64-byte aligned pieces: ask for every size
// first, then take the pieces in the same order. Empty requests give null.
class ScratchSplit {
 public:
  explicit ScratchSplit(int slot) : slot_(slot) {}
  // Registers a piece; returns its index.
  size_t want(size_t floats) {
    sizes_[count_] = floats;
    total_ += (floats + 15) / 16 * 16;
    return count_++;
  }
  // Reserves the whole slot (the one allocation, which may throw).
  void allocate() { base_ = thread_scratch(slot_, total_); }
  float* get(size_t piece) const {
    size_t off = 0;
    for (size_t i = 0; i < piece; ++i) off += (sizes_[i] + 15) / 16 * 16;
    return sizes_[piece] ? base_ + off : nullptr;
  }

 private:
  int slot_;
  size_t sizes_[16] = {};
  size_t count_ = 0, total_ = 0;
  float* base_ = nullptr;
};

}  // namespace conv1d
