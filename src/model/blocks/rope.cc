// RoPE. Frequencies follow ggml's recurrence (theta *= base^(-2/n)) so angles match
// llama.cpp's to the last bit at every position, not just approximately.
#include "model/blocks/rope.h"

#include <cmath>

namespace omnicoder {

void FillRopeTable(const ModelConfig& c, int pos, int n_tokens, float* table) {
  const int half = c.rope_dims / 2;
  const float theta_scale = std::pow(c.rope_base, -2.0f / static_cast<float>(c.rope_dims));
  for (int t = 0; t < n_tokens; ++t) {
    float theta = static_cast<float>(pos + t);
    float* row = table + static_cast<size_t>(t) * c.rope_dims;
    for (int i = 0; i < half; ++i) {
      const float angle = c.rope_freq_scale * theta;
      row[2 * i] = std::cos(angle);
      row[2 * i + 1] = std::sin(angle);
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
