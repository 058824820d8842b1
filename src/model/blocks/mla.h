// MLA block (DeepSeek-V2/V3 latent attention): out[T, dim] from scratch.xn [T, dim]; this
// step's latent rows [c | k_pe] are written to the KV cache first (see mla.cc).
#pragma once

#include "model/blocks/block_args.h"

namespace omnicoder {

void MlaBlock(const ForwardContext& ctx, const BlockArgs& b, const AttentionWeights& w, const KvView& kv, float* out);

}  // namespace omnicoder
