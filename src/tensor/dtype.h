// DType: the tensor element/block formats OmniCoder reads and writes, with a traits table.
//
// Ids are ggml's, so a GGUF tensor type maps 1:1. A block format packs `block_size`
// elements into `block_bytes` bytes; rows are whole blocks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace omnicoder {

enum class DType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ5_0 = 6,
  kQ5_1 = 7,
  kQ8_0 = 8,
  kQ8_1 = 9,
  kQ4_K = 12,
  kQ5_K = 13,
  kQ6_K = 14,
  kQ8_K = 15,
  kBF16 = 30,
  kMXFP4 = 39,  // OCP microscaling FP4 (E2M1 values, E8M0 scale per 32): gpt-oss experts
};
constexpr uint32_t kDTypeIdLimit = 40;  // ids are < this

// Dequantize n elements (n a multiple of block_size) of one row.
using DequantizeRowFn = void (*)(const void* src, float* dst, int64_t n);
// Quantize n elements of one row with the reference (slow, careful) algorithm.
using QuantizeRowFn = void (*)(const float* src, void* dst, int64_t n);

struct DTypeTraits {
  DType type;
  const char* name;    // "Q4_K"
  int block_size;      // elements per block
  size_t block_bytes;  // bytes per block
  bool quantized;
  DequantizeRowFn dequantize;
  QuantizeRowFn quantize;  // nullptr when we cannot produce this type
};

// nullptr for ids this build does not know.
const DTypeTraits* FindDTypeTraits(uint32_t id);
// Traits of a known type (aborts on an unknown enum value: a bug, not input).
const DTypeTraits& GetDTypeTraits(DType type);
// For messages about unknown ids: "Q2_K, not supported" / "unknown".
const char* DTypeIdDescription(uint32_t id);
// Case-insensitive lookup by name ("q4_k", "F16"); false if unknown.
bool ParseDType(std::string_view name, DType* out);

inline size_t RowBytes(DType type, int64_t n) {
  const DTypeTraits& t = GetDTypeTraits(type);
  return static_cast<size_t>(n / t.block_size) * t.block_bytes;
}

}  // namespace omnicoder
