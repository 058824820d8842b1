// Causal multi-head attention (GQA) for training: forward keeps the probabilities,
// backward computes dq, dk, dv from them.
//
// Shapes: q [n_seqs*seq_len, n_heads*head_dim], k/v [n_seqs*seq_len, n_kv_heads*head_dim]
// (RoPE already applied), probs [n_seqs, n_heads, seq_len, seq_len] (zero above the
// diagonal), out [n_seqs*seq_len, n_heads*head_dim]. Work items are (sequence, KV head),
// so heads sharing a KV head accumulate dk/dv on one thread in head order.
#pragma once

#include "train/ops.h"

namespace omnicoder {

struct AttnShape {
  int n_seqs, seq_len, n_heads, n_kv_heads, head_dim;
};

struct AttnQkv {
  const float* q;
  const float* k;
  const float* v;
};

void AttentionForward(TrainContext& ctx, const AttnShape& s, const AttnQkv& in, float* probs, float* out);

// What the backward pass reads (probs, dout) and writes (dq, dk, dv); scratch: per
// thread seq_len * seq_len floats (thread t at scratch + t * seq_len^2).
struct AttnBackwardIo {
  const float* probs;
  const float* dout;
  float* dq;
  float* dk;
  float* dv;
  float* scratch;
};
void AttentionBackward(TrainContext& ctx, const AttnShape& s, const AttnQkv& in, const AttnBackwardIo& io);

}  // namespace omnicoder
