// Rotary position embedding (normal and NeoX pairings, partial rotary dims).
#pragma once

#include "model/model_config.h"

namespace omnicoder {

// table[t * rope_dims + 2*i] = cos, [+1] = sin of the i-th frequency at position pos + t.
void FillRopeTable(const ModelConfig& config, int pos, int n_tokens, float* table);

// Rotates each of n_heads heads (head_dim apart) of `vec` in place.
void ApplyRope(RopeStyle style, int rope_dims, int head_dim, int n_heads, const float* cos_sin, float* vec);

}  // namespace omnicoder
