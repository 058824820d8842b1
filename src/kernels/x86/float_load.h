// Loads of 8 f32 / f16 / bf16 values as f32 (x86), shared by the float matmul and
// attention kernels.
#pragma once

#include <cstring>

#include "base/half.h"
#include "kernels/x86/x86_common.h"

namespace omnicoder {
namespace {

struct F32Load {
  static constexpr size_t kElem = 4;
  static __m256 Load(const uint8_t* p) { return _mm256_loadu_ps(reinterpret_cast<const float*>(p)); }
  static float One(const uint8_t* p) {
    float f;
    std::memcpy(&f, p, 4);
    return f;
  }
};
struct F16Load {
  static constexpr size_t kElem = 2;
  static __m256 Load(const uint8_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
  static float One(const uint8_t* p) { return HalfToFloat(p); }
};
struct Bf16Load {
  static constexpr size_t kElem = 2;
  static __m256 Load(const uint8_t* p) {
    const __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
  }
  static float One(const uint8_t* p) {
    uint16_t h;
    std::memcpy(&h, p, 2);
    return Bf16ToF32(h);
  }
};

}  // namespace
}  // namespace omnicoder
