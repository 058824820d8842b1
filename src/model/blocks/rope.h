// Rotary position embedding (normal and NeoX pairings, partial rotary dims), with linear
// scaling and YaRN computed exactly as ggml does.
#pragma once

#include "model/model_config.h"

namespace omnicoder {

// table[t * r.dims + 2*i] = cos, [+1] = sin of the i-th frequency at position pos + t
// (YaRN's magnitude scale r.attn_factor included), for frequency base `base`.
void FillRopeTable(const RopeParams& r, float base, int pos, int n_tokens, float* table);

// Rotates each of n_heads heads (head_dim apart) of `vec` in place: the first rope_dims
// values of each head (pass vec + offset to rotate a later slice, as MLA does).
void ApplyRope(RopeStyle style, int rope_dims, int head_dim, int n_heads, const float* cos_sin, float* vec);

}  // namespace omnicoder
