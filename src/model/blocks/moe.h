// Mixture-of-experts FFN block: softmax router, top-k, optional renormalization and
// scale, SwiGLU experts fetched through ExpertSource, optional (gated) shared expert.
//
// Tokens are grouped by expert so each expert's matrices are read once per batch; all
// experts' gate/up (then down) matmuls run in one parallel region. Expert outputs are
// combined per token in top-k rank order, so the result does not depend on the order in
// which experts were fetched or computed (a pager may reorder them freely).
// Input: xn [T, dim]. Output: out [T, dim] (not yet added to the residual).
#pragma once

#include "base/function_ref.h"
#include "model/blocks/block_args.h"

namespace omnicoder {

// after_routing (may be null) runs once the layer's routing is known and its reads started:
// the forward loop predicts and prefetches the next layer's experts there.
Status MoeBlock(const ForwardContext& ctx, const BlockArgs& b, const MoeWeights& w, ExpertSource& experts,
                const float* xn, float* out, FunctionRef<void()>* after_routing = nullptr);

// Router math for one token (exposed for tests): softmax over logits, top-k by
// probability (ties: lower index), weights normalized if requested, then scaled.
void RouteToken(const float* logits, int n_experts, int k, bool normalize, float scale, float* probs_scratch,
                int32_t* selected, float* weights);

}  // namespace omnicoder
