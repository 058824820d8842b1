// NaN/Inf scans of tensor data.
#include "model/weight_checks.h"

#include <cmath>
#include <cstring>

#include "base/half.h"
#include "base/strings.h"
#include "tensor/blocks.h"

namespace omnicoder {

namespace {

Status Bad(const std::string& name, uint64_t index, const char* what) {
  return CorruptFile(StrFormat("tensor '%s' holds a non-finite %s at element %llu", name.c_str(), what,
                               static_cast<unsigned long long>(index)));
}

bool HalfFinite(uint16_t h) {
  return (h & 0x7c00) != 0x7c00;
}
bool Bf16Finite(uint16_t h) {
  return (h & 0x7f80) != 0x7f80;
}

// Checks the half-precision fields at `offsets` in each block.
Status ScanBlockHalves(const std::string& name, const uint8_t* data, uint64_t n_blocks, size_t block_bytes,
                       int block_size, std::initializer_list<size_t> offsets) {
  for (uint64_t b = 0; b < n_blocks; ++b) {
    const uint8_t* blk = data + b * block_bytes;
    for (size_t off : offsets) {
      uint16_t h;
      std::memcpy(&h, blk + off, 2);
      if (!HalfFinite(h)) return Bad(name, b * block_size, "block scale");
    }
  }
  return Status::Ok();
}

}  // namespace

Status ScanTensorForNonFinite(const std::string& name, DType type, const uint8_t* data, uint64_t n) {
  const DTypeTraits& t = GetDTypeTraits(type);
  const uint64_t nb = n / t.block_size;
  switch (type) {
    case DType::kF32: {
      for (uint64_t i = 0; i < n; ++i) {
        float v;
        std::memcpy(&v, data + 4 * i, 4);
        if (!std::isfinite(v)) return Bad(name, i, "value");
      }
      return Status::Ok();
    }
    case DType::kF16:
    case DType::kBF16: {
      for (uint64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, data + 2 * i, 2);
        if (type == DType::kF16 ? !HalfFinite(h) : !Bf16Finite(h)) return Bad(name, i, "value");
      }
      return Status::Ok();
    }
    case DType::kQ4_0:
    case DType::kQ5_0:
    case DType::kQ8_0:
      return ScanBlockHalves(name, data, nb, t.block_bytes, t.block_size, {0});
    case DType::kQ4_1:
    case DType::kQ5_1:
    case DType::kQ4_K:
    case DType::kQ5_K:
      return ScanBlockHalves(name, data, nb, t.block_bytes, t.block_size, {0, 2});
    case DType::kQ6_K:
      return ScanBlockHalves(name, data, nb, t.block_bytes, t.block_size, {offsetof(BlockQ6_K, d)});
    default:
      return Status::Ok();
  }
}

}  // namespace omnicoder
