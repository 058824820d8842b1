// Grouped-query attention (GQA/MQA) with RoPE, optional biases and q/k RMSNorm.
#include "model/blocks/attention.h"

#include <cmath>
#include <cstring>

#include "model/blocks/rope.h"
#include "threading/thread_pool.h"

namespace omnicoder {

namespace {

void AddBias(const float* bias, int n_tokens, int n, float* y) {
  if (!bias) return;
  for (int t = 0; t < n_tokens; ++t) {
    float* row = y + static_cast<size_t>(t) * n;
    for (int i = 0; i < n; ++i) row[i] += bias[i];
  }
}

// q/k RMSNorm: per head (weight [head_dim]) or over the whole projection.
void QkNormRows(const ForwardContext& ctx, QkNorm kind, const float* w, float eps, int n_tokens, int n_heads,
                int head_dim, float* y) {
  if (kind == QkNorm::kNone || !w) return;
  const int width = n_heads * head_dim;
  for (int t = 0; t < n_tokens; ++t) {
    float* row = y + static_cast<size_t>(t) * width;
    if (kind == QkNorm::kFull) {
      ctx.kernels->rms_norm(row, w, eps, row, width);
    } else {
      for (int h = 0; h < n_heads; ++h) ctx.kernels->rms_norm(row + h * head_dim, w, eps, row + h * head_dim, head_dim);
    }
  }
}

void StoreKv(const ForwardContext& ctx, DType kv_type, const float* src, int n_tokens, int kv_dim, uint8_t* dst,
             size_t row_bytes) {
  for (int t = 0; t < n_tokens; ++t) {
    const float* s = src + static_cast<size_t>(t) * kv_dim;
    uint8_t* d = dst + static_cast<size_t>(t) * row_bytes;
    if (kv_type == DType::kF16) {
      ctx.kernels->f32_to_f16(s, reinterpret_cast<uint16_t*>(d), kv_dim);
    } else {
      std::memcpy(d, s, sizeof(float) * kv_dim);
    }
  }
}

// q, k, v projections in one parallel region, sharing the prepared input; biases, q/k
// norms and RoPE; then this step's K/V rows into the cache.
void ProjectQkv(const ForwardContext& ctx, const BlockArgs& b, const AttentionWeights& w, const KvLayerView& kv,
                DType kv_type) {
  const ModelConfig& c = *b.config;
  const LayerSpec& l = c.layers[b.layer_idx];
  ForwardScratch& s = *b.scratch;
  const int T = b.n_tokens, hd = l.head_dim;
  const int q_dim = l.n_heads * hd, kv_dim = l.n_kv_heads * hd;
  float* q = s.q.as<float>();
  float* k = s.k.as<float>();
  float* v = s.v.as<float>();
  ActSlots in(s.xn.as<float>(), c.dim, T, c.dim, s.act_a.data(), s.act_b.data(), s.act_h.data());
  LinearJob jobs[3];
  in.Bind(ctx, w.wq, &jobs[0]);
  in.Bind(ctx, w.wk, &jobs[1]);
  in.Bind(ctx, w.wv, &jobs[2]);
  jobs[0].y = q, jobs[0].y_stride = q_dim;
  jobs[1].y = k, jobs[1].y_stride = kv_dim;
  jobs[2].y = v, jobs[2].y_stride = kv_dim;
  RunLinear(ctx, jobs, 3);
  AddBias(w.bq, T, q_dim, q);
  AddBias(w.bk, T, kv_dim, k);
  AddBias(w.bv, T, kv_dim, v);
  QkNormRows(ctx, c.arch->qk_norm, w.q_norm, c.rms_eps, T, l.n_heads, hd, q);
  QkNormRows(ctx, c.arch->qk_norm, w.k_norm, c.rms_eps, T, l.n_kv_heads, hd, k);
  float* table = s.rope.as<float>();
  FillRopeTable(c, b.pos, T, table);
  for (int t = 0; t < T; ++t) {
    const float* cs = table + static_cast<size_t>(t) * c.rope_dims;
    ApplyRope(c.arch->rope, c.rope_dims, hd, l.n_heads, cs, q + static_cast<size_t>(t) * q_dim);
    ApplyRope(c.arch->rope, c.rope_dims, hd, l.n_kv_heads, cs, k + static_cast<size_t>(t) * kv_dim);
  }
  StoreKv(ctx, kv_type, k, T, kv_dim, kv.k + static_cast<size_t>(b.pos) * kv.row_bytes, kv.row_bytes);
  StoreKv(ctx, kv_type, v, T, kv_dim, kv.v + static_cast<size_t>(b.pos) * kv.row_bytes, kv.row_bytes);
}

// One (token, head) pair per work item; each reads positions 0..pos+t of the cache.
void Attend(const ForwardContext& ctx, const BlockArgs& b, const KvLayerView& kv, DType kv_type, float* att) {
  const LayerSpec& l = b.config->layers[b.layer_idx];
  ForwardScratch& s = *b.scratch;
  const int hd = l.head_dim, q_dim = l.n_heads * hd, group = l.n_heads / l.n_kv_heads;
  const size_t elem = kv_type == DType::kF16 ? 2 : 4;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const float* q = s.q.as<float>();
  ctx.pool->ParallelFor(int64_t{b.n_tokens} * l.n_heads, 1, [&](int64_t i0, int64_t i1, int thread) {
    float* scores = s.scores.as<float>() + static_cast<size_t>(thread) * s.capacity;
    for (int64_t i = i0; i < i1; ++i) {
      const int t = static_cast<int>(i / l.n_heads), h = static_cast<int>(i % l.n_heads);
      const int kvh = h / group;
      AttnArgs a;
      a.q = q + static_cast<size_t>(t) * q_dim + static_cast<size_t>(h) * hd;
      a.k = kv.k + kvh * hd * elem;
      a.v = kv.v + kvh * hd * elem;
      a.kv_row_bytes = kv.row_bytes;
      a.kv_type = kv_type;
      a.head_dim = hd;
      a.n_pos = b.pos + t + 1;
      a.scale = scale;
      ctx.kernels->attn_scores(a, scores);
      ctx.kernels->softmax(scores, a.n_pos);
      ctx.kernels->attn_values(a, scores, att + static_cast<size_t>(t) * q_dim + static_cast<size_t>(h) * hd);
    }
  });
}

}  // namespace

void AttentionBlock(const ForwardContext& ctx, const BlockArgs& b, const AttentionWeights& w, const KvLayerView& kv,
                    DType kv_type, float* out) {
  const LayerSpec& l = b.config->layers[b.layer_idx];
  ForwardScratch& s = *b.scratch;
  const int q_dim = l.n_heads * l.head_dim;
  ProjectQkv(ctx, b, w, kv, kv_type);
  float* att = s.attn_out.as<float>();
  Attend(ctx, b, kv, kv_type, att);
  ActSlots o(att, q_dim, b.n_tokens, q_dim, s.act_a.data(), s.act_b.data(), s.act_h.data());
  LinearJob job;
  o.Bind(ctx, w.wo, &job);
  job.y = out;
  job.y_stride = b.config->dim;
  RunLinear(ctx, &job, 1);
}

}  // namespace omnicoder
