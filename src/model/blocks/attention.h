// Attention block: out[T, dim] = Wo . Attention(RoPE(Wq xn), RoPE(Wk xn), Wv xn) over the
// KV cache (this step's K/V are written first), with optional biases, q/k norms, sinks
// and a sliding window. Input: scratch.xn [T, dim] (normed). Output: out [T, dim].
#pragma once

#include "model/blocks/block_args.h"

namespace omnicoder {

void AttentionBlock(const ForwardContext& ctx, const BlockArgs& b, const AttentionWeights& w, const KvView& kv,
                    float* out);

// One head's K or V of one position into the cache: n values, dim_bytes apart (the element
// size, or kv_cache.h's dim-major stride). Shared with the MLA block.
void StoreKvRow(const ForwardContext& ctx, DType kv_type, const float* src, int n, uint8_t* dst, size_t dim_bytes);

// Queries that share one K/V head and one position range: one token's heads of a GQA
// group (or of MLA, all over the latent). Each K/V row is read once for all of them.
constexpr int kAttendMaxQueries = 8;
struct AttendQuery {
  const float* q = nullptr;  // query 0 [k_dim]; query g at q + g * q_stride
  size_t q_stride = 0;
  int n_q = 1;      // at most kAttendMaxQueries
  int kv_head = 0;  // the K/V head (MLA: 0, V being the first v_dim values of each K row)
  int k_dim = 0, v_dim = 0;
  int seq = 0;  // the queries' sequence
  int pos = 0;  // the queries' position: they see positions <= pos (in the window)
  float scale = 1.0f;
  const float* sinks = nullptr;  // optional sink logit per query (softmax denominator only)
  float* out = nullptr;          // query g's output [v_dim] at out + g * out_stride
  size_t out_stride = 0;
};
struct AttendScratch {
  float* scores;  // kAttendMaxQueries rows of capacity + 1 floats
  size_t stride;  // capacity + 1
};
// Scores scratch floats per thread.
size_t AttendScratchFloats(int capacity);
// Splits a GQA group of `group` heads into runs of queries so that n_items work items
// (tokens x KV heads) times the runs per group keep `threads` threads busy.
int AttendQueriesPerItem(int group, int64_t n_items, int threads);
// out_g = softmax(scale * q_g . K) . V over the positions the queries see. A query's
// result does not depend on n_q.
void AttendGroup(const ForwardContext& ctx, const KvView& kv, const KvLayerView& layer, const AttendQuery& q,
                 const AttendScratch& scratch);
// RoPE table rows for tokens at arbitrary positions (row t for pos[t]).
void FillRopeRows(const RopeParams& r, float base, const int32_t* pos, int n_tokens, float* table);

}  // namespace omnicoder
