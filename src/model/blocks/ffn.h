// Dense SwiGLU FFN: out[T, dim] = Wdown (silu(Wgate xn) * (Wup xn)).
// Input: T rows of xn (stride dim). Output: out [T, dim].
#pragma once

#include "model/blocks/block_args.h"

namespace omnicoder {

void FfnBlock(const ForwardContext& ctx, const BlockArgs& b, const FfnWeights& w, const float* xn, float* out);

}  // namespace omnicoder
