// Multi-head latent attention (DeepSeek-V2/V3), absorbed form as llama.cpp runs it.
//
// Design: the cache holds one row per position, [c (kv_lora_rank) | k_pe (qk_rope_dim)],
// shared by every head (MQA over the latent). Each head's query is absorbed into latent
// space: q_abs = W_kb[h] . q_nope (kv_lora_rank values) next to its RoPE part, so
// scores = [q_abs | q_pe] . [c | k_pe]; the head's output in latent space is
// sum_p p * c_p, and W_vb[h] maps it to v_head_dim. Decode never expands K or V.
#include "model/blocks/mla.h"

#include <cstring>

#include "model/blocks/attention.h"
#include "model/blocks/rope.h"
#include "threading/thread_pool.h"

namespace omnicoder {

namespace {

// q (through the q LoRA when there is one) and the compressed kv row, from xn.
void ProjectMla(const ForwardContext& ctx, const BlockArgs& b, const AttentionWeights& w) {
  const ModelConfig& c = *b.config;
  const LayerSpec& l = c.layers[b.layer_idx];
  ForwardScratch& s = *b.scratch;
  const int T = b.n_tokens;
  const bool lora = w.wq_a.present();
  float* q_first = lora ? s.mla_tmp.as<float>() : s.q.as<float>();
  // q = W_q xn (or its LoRA's first half), kv = W_kv_a xn: [latent | rope part]
  Linear(ctx, b, s.xn.as<float>(), {{lora ? w.wq_a : w.wq, q_first}, {w.wkv_a, s.k.as<float>()}});
  if (!lora) return;
  RmsNormRows(ctx, {w.q_a_norm, c.rms_eps}, q_first, T, l.q_lora_rank, q_first);
  Linear(ctx, b, q_first, {{w.wq_b, s.q.as<float>()}});  // q = W_q_b norm(W_q_a xn)
}

// Head h's slice of row t starts at data + t * stride + h * head_stride.
struct HeadSlices {
  const float* data;
  size_t stride;
  int head_stride;
};
struct HeadOutputs {
  float* data;
  size_t stride;
  int head_stride;
};

// Per-head matrices applied to per-head slices of rows: y[t][h] = W[h] . x[t][h]
// (x slices of W[h].cols floats, y slices of W[h].rows).
void PerHeadLinear(const ForwardContext& ctx, const BlockArgs& b, const std::vector<WeightMatrix>& w,
                   const HeadSlices& x, const HeadOutputs& y) {
  ForwardScratch& s = *b.scratch;
  const int T = b.n_tokens, H = static_cast<int>(w.size());
  LinearJob* jobs = s.head_jobs.data();
  uint8_t* act = s.mla_act.data();
  for (int h = 0; h < H; ++h) {
    const size_t rb =
        PrepareAct(ctx, w[h].type, {x.data + static_cast<size_t>(h) * x.head_stride, x.stride, T, w[h].cols}, act);
    jobs[h].w = &w[h];
    jobs[h].act = act;
    jobs[h].act_row_bytes = rb;
    jobs[h].n_tokens = T;
    jobs[h].y = y.data + static_cast<size_t>(h) * y.head_stride;
    jobs[h].y_stride = y.stride;
    act += rb * T;
  }
  RunLinear(ctx, jobs, H);
}

// Every head attends over the same latent rows (q_abs | q_pe from scratch.mla_q): one
// work item per (token, run of heads); head outputs in latent space into `lat`.
void AttendLatent(const ForwardContext& ctx, const BlockArgs& b, const KvLayerView& layer, const KvView& kv,
                  float* lat) {
  const ModelConfig& c = *b.config;
  const LayerSpec& l = c.layers[b.layer_idx];
  ForwardScratch& s = *b.scratch;
  const int T = b.n_tokens, H = l.n_heads, rank = l.kv_lora_rank, qa_width = rank + l.qk_rope_dim;
  const float* qa = s.mla_q.as<float>();
  const float scale = c.KqScale(l);
  const int per = AttendQueriesPerItem(H, T, ctx.pool->size());
  const int runs = (H + per - 1) / per;
  // Latest tokens (the most positions) first, to whichever thread is free.
  const int64_t n_items = int64_t{T} * runs;
  ctx.pool->ForEachDynamic(n_items, [&](int64_t item, int thread) {
    const AttendScratch scratch{s.scores.as<float>() + static_cast<size_t>(thread) * AttendScratchFloats(s.capacity),
                                static_cast<size_t>(s.capacity) + 1};
    const int64_t i = n_items - 1 - item;
    const int t = static_cast<int>(i / runs), h = static_cast<int>(i % runs) * per;
    const size_t first = static_cast<size_t>(t) * H + h;
    AttendQuery a;
    a.q = qa + first * qa_width;
    a.q_stride = qa_width;
    a.n_q = std::min(per, H - h);
    a.kv_head = 0;
    a.k_dim = qa_width;
    a.v_dim = rank;
    a.seq = b.seq[t];
    a.pos = b.pos[t];
    a.scale = scale;
    a.out = lat + first * rank;
    a.out_stride = rank;
    AttendGroup(ctx, kv, layer, a, scratch);
  });
}

}  // namespace

void MlaBlock(const ForwardContext& ctx, const BlockArgs& b, const AttentionWeights& w, const KvView& kv, float* out) {
  const KvLayerView& layer = kv.layers[b.layer_idx];
  const ModelConfig& c = *b.config;
  const LayerSpec& l = c.layers[b.layer_idx];
  ForwardScratch& s = *b.scratch;
  const int T = b.n_tokens, H = l.n_heads, rank = l.kv_lora_rank, rope = l.qk_rope_dim, nope = l.qk_nope_dim;
  const int hd = l.head_dim, q_dim = l.QDim(), kv_width = l.KvKDim(), qa_width = rank + rope;
  ProjectMla(ctx, b, w);
  float* q = s.q.as<float>();
  float* kva = s.k.as<float>();
  float* table = s.rope.as<float>();
  FillRopeRows(c.rope, c.rope.base, b.pos, T, table);
  for (int t = 0; t < T; ++t) {
    float* row = kva + static_cast<size_t>(t) * kv_width;
    const float* cs = table + static_cast<size_t>(t) * c.rope.dims;
    RmsNormRows(ctx, {w.kv_a_norm, c.rms_eps}, row, 1, rank, row);
    ApplyRope(c.arch->rope, rope, rope, 1, cs, row + rank);
    ApplyRope(c.arch->rope, rope, hd, H, cs, q + static_cast<size_t>(t) * q_dim + nope);
    StoreKvRow(ctx, kv.type, row, kv_width, layer.KAt(kv.Row(layer, b.seq[t], b.pos[t]), 0), layer.k_dim_bytes);
  }
  // Absorb: q_abs[t][h] = W_kb[h] . q_nope[t][h], next to q_pe[t][h].
  float* qa = s.mla_q.as<float>();
  PerHeadLinear(ctx, b, w.wk_b, {q, static_cast<size_t>(q_dim), hd}, {qa, static_cast<size_t>(H) * qa_width, qa_width});
  for (int t = 0; t < T; ++t) {
    for (int h = 0; h < H; ++h) {
      std::memcpy(qa + (static_cast<size_t>(t) * H + h) * qa_width + rank,
                  q + static_cast<size_t>(t) * q_dim + static_cast<size_t>(h) * hd + nope, sizeof(float) * rope);
    }
  }
  float* lat = s.mla_lat.as<float>();
  AttendLatent(ctx, b, layer, kv, lat);
  // Each head's latent output through its W_vb, then the output projection.
  float* att = s.attn_out.as<float>();
  const int out_dim = l.AttnOutDim();
  PerHeadLinear(ctx, b, w.wv_b, {lat, static_cast<size_t>(H) * rank, rank},
                {att, static_cast<size_t>(out_dim), l.v_head_dim});
  Linear(ctx, b, att, {{w.wo, out}});
}

}  // namespace omnicoder
