// SwiGLU feed-forward for training: dense (one expert, every token) or Mixtral-style MoE
// (softmax router over all experts, top-k, weights renormalized over the k chosen), with
// the Switch load-balancing loss and the router z-loss.
//
// Rows are processed in expert order (expert, token, rank); outputs combine per token in
// rank order, so results do not depend on threads.
#pragma once

#include <cstdint>
#include <vector>

#include "train/ops.h"

namespace omnicoder {

struct FfnShape {
  int n_tokens = 0;
  int dim = 0;
  int ffn_dim = 0;
  int n_experts = 0;  // 0: dense
  int k = 1;          // experts per token (1 when dense)
  int Experts() const { return n_experts > 0 ? n_experts : 1; }
  int Slots() const { return n_tokens * (n_experts > 0 ? k : 1); }
};

// Saved activations of one layer's FFN (buffers sized for FfnShape).
struct FfnActivations {
  float* router_logits;  // [T, E]
  float* probs;          // [T, E]
  float* lse;            // [T] logsumexp of the router logits
  int32_t* sel;          // [T, k]
  float* weight;         // [T, k] combine weights
  int32_t* offsets;      // [E + 1] first expert-ordered row of each expert
  int32_t* row_token;    // [slots] token of each expert-ordered row
  int32_t* row_of_slot;  // [slots] expert-ordered row of slot t*k + j
  float* xe;             // [slots, dim] gathered inputs
  float* h1;             // [slots, ffn] gate pre-activation
  float* h3;             // [slots, ffn] up
  float* act;            // [slots, ffn] silu(h1) * h3
  float* ye;             // [slots, dim] expert outputs
};
// Floats FfnActivations needs (ints counted as floats).
size_t FfnActivationFloats(const FfnShape& s);
FfnActivations BindFfnActivations(const FfnShape& s, float* base);

struct FfnWeightsRef {
  const float* router;  // [E, dim] or nullptr
  const float* gate;    // [E][ffn, dim]
  const float* up;
  const float* down;  // [E][dim, ffn]
};
struct FfnGrads {
  float* router;
  float* gate;
  float* up;
  float* down;
};

struct AuxLoss {
  double balance = 0;  // alpha * E * sum f_i P_i
  double z = 0;        // beta * mean lse^2
  // per expert: fraction of slots routed (for statistics)
  double max_load = 0, router_entropy = 0;
};

// Routing over a whole evaluation, one per layer: slots routed to each expert and the
// router's softmax entropy summed over tokens.
struct LayerRouting {
  std::vector<int64_t> slots;  // per expert
  double entropy_sum = 0;      // nats, summed over tokens
  int64_t n_tokens = 0;
};

struct AuxCoef {
  float balance = 0.01f, z = 1e-3f;
  float grad_scale = 1.0f;  // scale on the aux gradients (1 / micro-batches)
};

// out = FFN(xn) (overwritten); the auxiliary losses are added to *aux (may be null).
struct FfnForwardIo {
  const float* xn;
  float* out;
  AuxCoef coef;
  AuxLoss* aux;
  LayerRouting* routing = nullptr;  // MoE only; accumulated when set
};
void FfnForward(TrainContext& ctx, const FfnShape& s, const FfnWeightsRef& w, FfnActivations& a,
                const FfnForwardIo& io);

// dxn = d out / d xn (overwritten); grads accumulate. scratch: FfnBackwardScratchFloats.
struct FfnBackwardIo {
  const float* xn;
  const float* dout;
  AuxCoef coef;
  float* dxn;
  FfnGrads grads;
  float* scratch;
};
size_t FfnBackwardScratchFloats(const FfnShape& s);
void FfnBackward(TrainContext& ctx, const FfnShape& s, const FfnWeightsRef& w, const FfnActivations& a,
                 const FfnBackwardIo& io);

}  // namespace omnicoder
