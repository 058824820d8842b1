// RoPE. Frequencies follow ggml's recurrence (theta *= base^(-2/n)) so angles match
// llama.cpp's to the last bit at every position, not just approximately.
#include "model/blocks/rope.h"

#include <algorithm>
#include <cmath>

namespace omnicoder {

namespace {

// ggml's rope_yarn_ramp: 1 below the low correction dim, 0 above the high one.
float YarnRamp(float low, float high, int i0) {
  const float y = (i0 / 2 - low) / std::max(0.001f, high - low);
  return 1 - std::min(1.0f, std::max(0.0f, y));
}

}  // namespace

void FillRopeTable(const RopeParams& r, float base, int pos, int n_tokens, float* table) {
  const int half = r.dims / 2;
  const float theta_scale = std::pow(base, -2.0f / static_cast<float>(r.dims));
  for (int t = 0; t < n_tokens; ++t) {
    float theta = static_cast<float>(pos + t);
    float* row = table + static_cast<size_t>(t) * r.dims;
    for (int i = 0; i < half; ++i) {
      const float theta_interp = r.freq_scale * theta;
      float angle = theta_interp, mscale = r.attn_factor;
      if (r.ext_factor != 0.0f) {
        const float ramp_mix = YarnRamp(r.corr_low, r.corr_high, 2 * i) * r.ext_factor;
        angle = theta_interp * (1 - ramp_mix) + theta * ramp_mix;
        mscale *= 1.0f + 0.1f * std::log(1.0f / r.freq_scale);
      }
      row[2 * i] = std::cos(angle) * mscale;
      row[2 * i + 1] = std::sin(angle) * mscale;
      theta *= theta_scale;
    }
  }
}

void ApplyRope(RopeStyle style, int rope_dims, int head_dim, int n_heads, const float* cs, float* vec) {
  const int half = rope_dims / 2;
  for (int h = 0; h < n_heads; ++h) {
    float* v = vec + static_cast<size_t>(h) * head_dim;
    for (int i = 0; i < half; ++i) {
      const int i0 = style == RopeStyle::kNorm ? 2 * i : i;
      const int i1 = style == RopeStyle::kNorm ? 2 * i + 1 : i + half;
      const float c = cs[2 * i], s = cs[2 * i + 1];
      const float x0 = v[i0], x1 = v[i1];
      v[i0] = x0 * c - x1 * s;
      v[i1] = x0 * s + x1 * c;
    }
  }
}

}  // namespace omnicoder
