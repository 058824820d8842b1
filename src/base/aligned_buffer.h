// AlignedBuffer: a fixed-size, 64-byte aligned, zero-initialized heap buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace omnicoder {

class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  // Returns false (and stays empty) if the allocation fails.
  // zero = false leaves the bytes unset (and a large block's pages untouched until used).
  bool Allocate(size_t bytes, bool zero = true) {
    size_t rounded = (bytes + 63) / 64 * 64;
    if (rounded == 0) rounded = 64;
    void* p = std::aligned_alloc(64, rounded);
    if (!p) return false;
    if (zero) std::memset(p, 0, rounded);
    data_.reset(static_cast<uint8_t*>(p));
    size_ = bytes;
    return true;
  }
  uint8_t* data() { return data_.get(); }
  const uint8_t* data() const { return data_.get(); }
  template <typename T>
  T* as() {
    return reinterpret_cast<T*>(data_.get());
  }
  size_t size() const { return size_; }

 private:
  struct Free {
    void operator()(uint8_t* p) const { std::free(p); }
  };
  std::unique_ptr<uint8_t, Free> data_;
  size_t size_ = 0;
};

}  // namespace omnicoder
