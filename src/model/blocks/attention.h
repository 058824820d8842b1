// Attention block: out[T, dim] = Wo . Attention(RoPE(Wq xn), RoPE(Wk xn), Wv xn) over the
// KV cache (this step's K/V are written to rows pos..pos+T-1 first).
// Input: scratch.xn [T, dim] (normed). Output: out [T, dim] (not yet added to x).
#pragma once

#include "model/blocks/block_args.h"

namespace omnicoder {

void AttentionBlock(const ForwardContext& ctx, const BlockArgs& b, const AttentionWeights& w, const KvLayerView& kv,
                    DType kv_type, float* out);

}  // namespace omnicoder
