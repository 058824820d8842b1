// Mixture-of-experts FFN block: router (softmax / sigmoid / softmax over the chosen, with
// biases and group limits), top-k, SwiGLU (or gpt-oss clamped SwiGLU) experts with
// optional biases, fetched through ExpertSource, and an optional (gated) shared expert.
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

// Where a MoE layer's experts come from, and after_routing (may be null), which runs once
// the layer's routing is known and its reads started: the forward loop predicts and
// prefetches the next layer's experts there.
struct MoeSources {
  ExpertSource* experts;
  FunctionRef<void()>* after_routing = nullptr;
};
Status MoeBlock(const ForwardContext& ctx, const BlockArgs& b, const MoeWeights& w, const MoeSources& sources,
                const float* xn, float* out);

// One layer's router as the MoE block runs it (see RouteToken).
struct RouteSpec {
  RouterParams params;
  int n_experts = 0;
  int k = 0;
  const float* router_bias = nullptr;     // added to the logits
  const float* selection_bias = nullptr;  // added to the probabilities for the choice only
};
RouteSpec MakeRouteSpec(const ModelConfig& c, const LayerSpec& l, const MoeWeights& w);

// Router math for one token (exposed for tests), as llama.cpp's MoE: logits (+ bias) ->
// probabilities (softmax, sigmoid, or the raw logits for kSoftmaxSelected) -> selection
// scores (+ selection bias, groups outside the best n_group_used masked) -> top-k (ties:
// lower index) -> weights = unbiased probabilities of the chosen (softmax over them for
// kSoftmaxSelected), renormalized if asked, then scaled. `logits` gets the bias added;
// scratch holds 2 * n_experts floats.
void RouteToken(const RouteSpec& r, float* logits, float* scratch, int32_t* selected, float* weights);

}  // namespace omnicoder
