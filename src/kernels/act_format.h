// Activation formats: how an f32 input row is prepared for a dot product with a weight row.
//
// Design goals: the quantized values (and their scales) follow ggml's vec_dot_type
// semantics (Q8_0/Q8_1 for the 32-blocks, Q8_K for the K formats, F16/BF16 rounding for
// half weights) so results track llama.cpp's; the *layout* is ours, structure-of-arrays
// so SIMD kernels load contiguous bytes and precomputed group sums. Every ISA uses the
// same layout, so a scalar kernel can be checked against a SIMD one on the same buffer.
//
// kQ8 row (n elements, nb = n/32):
//   int8  qs[n]          quantized values, round-half-even of x * 127/amax
//   float d[nb]          block scale (amax/127 rounded to f16, as ggml stores it)
//   float s[nb]          d_unrounded * sum(qs) rounded to f16 (ggml's Q8_1 `s`)
//   int32 neg_sum4[n/4]  -(sum of each group of 4 qs): seeds accumulators so offset
//                        formats (Q4_0: q-8, Q5_0: q-16) need no extra correction op
//   int32 sum[nb]        sum of each block's qs (offset correction of interleaved rows)
// kQ8K row (n elements, nb = n/256):
//   int8  qs[n]; float d[nb]; int16 bsums[n/16] (sums of each 16 qs)
// Row sizes are rounded up to 64 bytes so rows of a batch stay cache-line aligned.
#pragma once

#include <cstddef>
#include <cstdint>

namespace omnicoder {

enum class ActFormat { kF32, kF16, kBF16, kQ8, kQ8K };

constexpr size_t AlignUp64(size_t n) {
  return (n + 63) / 64 * 64;
}

inline size_t ActRowBytes(ActFormat f, int n) {
  size_t un = static_cast<size_t>(n);
  switch (f) {
    case ActFormat::kF32:
      return AlignUp64(4 * un);
    case ActFormat::kF16:
    case ActFormat::kBF16:
      return AlignUp64(2 * un);
    case ActFormat::kQ8:
      return AlignUp64(un + 12 * (un / 32) + un);
    case ActFormat::kQ8K:
      return AlignUp64(un + 4 * (un / 256) + 2 * (un / 16));
  }
  return 0;
}

// Views into one kQ8 row.
struct ActQ8View {
  const int8_t* qs;
  const float* d;
  const float* s;
  const int32_t* neg_sum4;
  const int32_t* sum;
};
inline ActQ8View ViewActQ8(const void* row, int n) {
  const uint8_t* p = static_cast<const uint8_t*>(row);
  size_t nb = static_cast<size_t>(n) / 32;
  return {reinterpret_cast<const int8_t*>(p), reinterpret_cast<const float*>(p + n),
          reinterpret_cast<const float*>(p + n + 4 * nb), reinterpret_cast<const int32_t*>(p + n + 8 * nb),
          reinterpret_cast<const int32_t*>(p + n + 8 * nb + n)};
}

struct ActQ8KView {
  const int8_t* qs;
  const float* d;
  const int16_t* bsums;
};
inline ActQ8KView ViewActQ8K(const void* row, int n) {
  const uint8_t* p = static_cast<const uint8_t*>(row);
  size_t nb = static_cast<size_t>(n) / 256;
  return {reinterpret_cast<const int8_t*>(p), reinterpret_cast<const float*>(p + n),
          reinterpret_cast<const int16_t*>(p + n + 4 * nb)};
}

}  // namespace omnicoder
