// Candidate sweeps of the K quantizers, lane by lane (quant_fit.h).
#include "tensor/quant_fit.h"

#include <cmath>

namespace omnicoder {

namespace {

constexpr int kLanes = 24;  // candidates padded to a multiple of 8 lanes

// v clamped to [lo, hi] and rounded to the nearest integer, ties to even: what
// clamp(nearbyint(v)) gives for integer bounds in the default rounding mode. Adding
// 1.5 * 2^23 leaves no fraction bits for |v| <= 2^22, so the add does the rounding. A NaN
// becomes lo and an infinity its bound (where the plain sweep's int conversion was
// undefined).
inline float ClampRound(float v, float lo, float hi) {
  constexpr float kMagic = 12582912.0f;
  v = v > lo ? v : lo;
  v = v < hi ? v : hi;
  return (v + kMagic) - kMagic;
}

// One candidate's weighted sums: of w, w x, w L, w L^2 and w x L.
struct LaneSums {
  float w, x, l, l2, xl;
};

// The candidate's weighted least-squares x ~= scale * L + offset (offset kept <= 0);
// false when it has no fit (singular, or scale <= 0).
bool SolveLane(const LaneSums& m, float* scale, float* offset) {
  const float det = m.w * m.l2 - m.l * m.l;
  if (det <= 0.0f) return false;
  *scale = (m.w * m.xl - m.x * m.l) / det;
  *offset = (m.l2 * m.x - m.l * m.xl) / det;
  if (*offset > 0.0f) {
    *offset = 0.0f;
    *scale = m.l2 > 0.0f ? m.xl / m.l2 : 0.0f;
  }
  return *scale > 0.0f;
}

}  // namespace

float FitAsymmetric(const float* x, const float* w, int n, int nmax, float* min_out) {
  float lo = x[0], hi = x[0];
  for (int i = 1; i < n; ++i) {
    lo = std::fmin(lo, x[i]);
    hi = std::fmax(hi, x[i]);
  }
  if (lo > 0.0f) lo = 0.0f;
  if (hi == lo) {
    *min_out = -lo;
    return 0.0f;
  }
  constexpr int kSteps = 21;  // step = lane - 10
  const float top = static_cast<float>(nmax);
  float iscale[kLanes], sl[kLanes] = {}, sl2[kLanes] = {}, sxl[kLanes] = {}, err[kLanes] = {};
  for (int s = 0; s < kLanes; ++s) {
    iscale[s] = s < kSteps ? (top + 0.1f * static_cast<float>(s - 10)) / (hi - lo) : 0.0f;
  }
  float sw = 0, sx = 0;  // the same for every candidate
  for (int i = 0; i < n; ++i) {
    sw += w[i];
    sx += w[i] * x[i];
  }
  for (int i = 0; i < n; ++i) {
    const float xl = x[i] - lo, wi = w[i], wx = w[i] * x[i];
    for (int s = 0; s < kLanes; ++s) {
      const float l = ClampRound(xl * iscale[s], 0.0f, top);
      sl[s] += wi * l;
      sl2[s] += wi * l * l;
      sxl[s] += wx * l;
    }
  }
  float scale[kLanes] = {}, offset[kLanes] = {};
  bool valid[kLanes] = {};
  for (int s = 0; s < kSteps; ++s) valid[s] = SolveLane({sw, sx, sl[s], sl2[s], sxl[s]}, &scale[s], &offset[s]);
  for (int i = 0; i < n; ++i) {
    const float xl = x[i] - lo, xi = x[i], wi = w[i];
    for (int s = 0; s < kLanes; ++s) {
      const float l = ClampRound(xl * iscale[s], 0.0f, top);
      const float diff = scale[s] * l + offset[s] - xi;
      err[s] += wi * diff * diff;
    }
  }
  float best_scale = (hi - lo) / top, best_min = -lo, best_err = INFINITY;
  for (int s = 0; s < kSteps; ++s) {
    if (valid[s] && err[s] < best_err) {
      best_err = err[s];
      best_scale = scale[s];
      best_min = -offset[s];
    }
  }
  *min_out = best_min;
  return best_scale;
}

float FitSymmetric(const float* x, const float* w, int n, int nmax) {
  float amax = 0.0f, max = 0.0f;
  for (int i = 0; i < n; ++i) {
    if (std::fabs(x[i]) > amax) {
      amax = std::fabs(x[i]);
      max = x[i];
    }
  }
  if (amax == 0.0f) return 0.0f;
  constexpr int kSteps = 19;  // step = lane - 9
  const float top = static_cast<float>(nmax);
  float iscale[kLanes], sxl[kLanes] = {}, sl2[kLanes] = {};
  for (int s = 0; s < kLanes; ++s) iscale[s] = s < kSteps ? -(top + 0.1f * static_cast<float>(s - 9)) / max : 0.0f;
  for (int i = 0; i < n; ++i) {
    const float xi = x[i], wi = w[i], wx = w[i] * x[i];
    for (int s = 0; s < kLanes; ++s) {
      const float l = ClampRound(xi * iscale[s], -top, top - 1.0f);
      sxl[s] += wx * l;
      sl2[s] += wi * l * l;
    }
  }
  float best_scale = max / -top, best_score = -1.0f;
  for (int s = 0; s < kSteps; ++s) {
    if (sl2[s] <= 0.0f) continue;
    const float score = sxl[s] * sxl[s] / sl2[s];  // error reduction of the least-squares scale
    if (score > best_score) {
      best_score = score;
      best_scale = sxl[s] / sl2[s];
    }
  }
  return best_scale;
}

}  // namespace omnicoder
