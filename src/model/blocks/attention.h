// Attention block: out[T, dim] = Wo . Attention(RoPE(Wq xn), RoPE(Wk xn), Wv xn) over the
// KV cache (this step's K/V are written first), with optional biases, q/k norms, sinks
// and a sliding window. Input: scratch.xn [T, dim] (normed). Output: out [T, dim].
#pragma once

#include "model/blocks/block_args.h"

namespace omnicoder {

void AttentionBlock(const ForwardContext& ctx, const BlockArgs& b, const AttentionWeights& w, const KvView& kv,
                    float* out);

// Shared with the MLA block.
void StoreKvRow(const ForwardContext& ctx, DType kv_type, const float* src, int n, uint8_t* dst);

struct AttendQuery {
  const float* q = nullptr;    // [k_dim]
  const uint8_t* k = nullptr;  // this head's slice of the pool's row 0
  const uint8_t* v = nullptr;  // this head's slice of V row 0 (of the K rows for MLA)
  int k_dim = 0, v_dim = 0;
  int seq = 0;  // the query's sequence
  int pos = 0;  // the query's position: it sees positions <= pos (in its window)
  float scale = 1.0f;
  const float* sink = nullptr;  // optional sink logit (in the softmax denominator only)
};
struct AttendScratch {
  float* scores;  // capacity + 1 floats
};
// out[v_dim] = softmax(scale * q . K) . V over the positions the query sees.
void AttendOne(const ForwardContext& ctx, const KvView& kv, const KvLayerView& layer, const AttendQuery& q,
               const AttendScratch& scratch, float* out);
// RoPE table rows for tokens at arbitrary positions (row t for pos[t]).
void FillRopeRows(const RopeParams& r, float base, const int32_t* pos, int n_tokens, float* table);

}  // namespace omnicoder
