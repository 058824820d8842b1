// NEON helpers shared by the neon/ kernel files (included only there; anonymous
// namespace so each translation unit keeps its own copy under its own flags).
#pragma once

#include <arm_neon.h>

#include <cstdint>
#include <cstring>

#include "base/half.h"

namespace omnicoder {
namespace {

inline float HalfAt(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return F16ToF32(h);
}

// exp of 2 doubles, Taylor degree 11 after range reduction (as the x86 Exp4d).
inline float64x2_t Exp2d(float64x2_t x) {
  const float64x2_t n = vrndnq_f64(vmulq_n_f64(x, 1.4426950408889634));
  float64x2_t r = vfmsq_f64(x, n, vdupq_n_f64(0.6931471805599453));
  r = vfmsq_f64(r, n, vdupq_n_f64(2.3190468138462996e-17));
  const double c[] = {1.0 / 39916800.0, 1.0 / 3628800.0, 1.0 / 362880.0, 1.0 / 40320.0, 1.0 / 5040.0, 1.0 / 720.0,
                      1.0 / 120.0,      1.0 / 24.0,      1.0 / 6.0,      0.5,           1.0,          1.0};
  float64x2_t p = vdupq_n_f64(c[0]);
  for (int i = 1; i < 12; ++i) p = vfmaq_f64(vdupq_n_f64(c[i]), p, r);
  const int64x2_t e = vshlq_n_s64(vaddq_s64(vcvtq_s64_f64(n), vdupq_n_s64(1023)), 52);
  return vmulq_f64(p, vreinterpretq_f64_s64(e));
}

// exp of 4 floats via double (rounded once).
inline float32x4_t Exp4(float32x4_t x) {
  x = vminq_f32(vmaxq_f32(x, vdupq_n_f32(-103.0f)), vdupq_n_f32(88.72f));
  const float64x2_t lo = Exp2d(vcvt_f64_f32(vget_low_f32(x)));
  const float64x2_t hi = Exp2d(vcvt_high_f64_f32(x));
  return vcombine_f32(vcvt_f32_f64(lo), vcvt_f32_f64(hi));
}

}  // namespace
}  // namespace omnicoder
