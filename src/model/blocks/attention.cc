// Grouped-query attention (GQA/MQA) with RoPE, optional biases, q/k RMSNorm, attention
// sinks and sliding windows (a ring of rows in the KV cache).
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

// q, k, v projections in one parallel region, sharing the prepared input; biases, q/k
// norms and RoPE; then this step's K/V rows into the cache.
void ProjectQkv(const ForwardContext& ctx, const BlockArgs& b, const AttentionWeights& w, const KvLayerView& kv,
                DType kv_type) {
  const ModelConfig& c = *b.config;
  const LayerSpec& l = c.layers[b.layer_idx];
  ForwardScratch& s = *b.scratch;
  const int T = b.n_tokens, hd = l.head_dim;
  const int q_dim = l.QDim(), kv_dim = l.KvKDim(), v_dim = l.KvVDim();
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
  jobs[2].y = v, jobs[2].y_stride = v_dim;
  RunLinear(ctx, jobs, 3);
  AddBias(w.bq, T, q_dim, q);
  AddBias(w.bk, T, kv_dim, k);
  AddBias(w.bv, T, v_dim, v);
  QkNormRows(ctx, c.arch->qk_norm, w.q_norm, c.rms_eps, T, l.n_heads, hd, q);
  QkNormRows(ctx, c.arch->qk_norm, w.k_norm, c.rms_eps, T, l.n_kv_heads, hd, k);
  float* table = s.rope.as<float>();
  FillRopeTable(c.rope, l.sliding_window > 0 ? c.rope.base_swa : c.rope.base, b.pos, T, table);
  for (int t = 0; t < T; ++t) {
    const float* cs = table + static_cast<size_t>(t) * c.rope.dims;
    ApplyRope(c.arch->rope, c.rope.dims, hd, l.n_heads, cs, q + static_cast<size_t>(t) * q_dim);
    ApplyRope(c.arch->rope, c.rope.dims, hd, l.n_kv_heads, cs, k + static_cast<size_t>(t) * kv_dim);
  }
  for (int t = 0; t < T; ++t) {
    const size_t row = static_cast<size_t>((b.pos + t) % kv.rows);
    StoreKvRow(ctx, kv_type, k + static_cast<size_t>(t) * kv_dim, kv_dim, kv.k + row * kv.k_row_bytes);
    StoreKvRow(ctx, kv_type, v + static_cast<size_t>(t) * v_dim, v_dim, kv.v + row * kv.v_row_bytes);
  }
}

// One (token, head) pair per work item over the positions its window sees.
void Attend(const ForwardContext& ctx, const BlockArgs& b, const AttentionWeights& w, const KvLayerView& kv,
            DType kv_type, float* att) {
  const LayerSpec& l = b.config->layers[b.layer_idx];
  ForwardScratch& s = *b.scratch;
  const int hd = l.head_dim, vd = l.v_head_dim, q_dim = l.QDim(), out_dim = l.AttnOutDim();
  const int group = l.n_heads / l.n_kv_heads;
  const size_t elem = kv_type == DType::kF16 ? 2 : 4;
  const float* q = s.q.as<float>();
  ctx.pool->ParallelFor(int64_t{b.n_tokens} * l.n_heads, 1, [&](int64_t i0, int64_t i1, int thread) {
    AttendScratch scratch{s.scores.as<float>() + static_cast<size_t>(thread) * (s.capacity + 1),
                          s.head_out.as<float>() + static_cast<size_t>(thread) * s.head_out_floats};
    for (int64_t i = i0; i < i1; ++i) {
      const int t = static_cast<int>(i / l.n_heads), h = static_cast<int>(i % l.n_heads);
      const int kvh = h / group;
      AttendQuery a;
      a.q = q + static_cast<size_t>(t) * q_dim + static_cast<size_t>(h) * hd;
      a.k = kv.k + static_cast<size_t>(kvh) * hd * elem;
      a.v = kv.v + static_cast<size_t>(kvh) * vd * elem;
      a.k_dim = hd;
      a.v_dim = vd;
      a.pos = b.pos + t;
      a.scale = b.config->KqScale(l);
      a.sink = w.sinks ? w.sinks + h : nullptr;
      AttendOne(ctx, kv, kv_type, a, scratch, att + static_cast<size_t>(t) * out_dim + static_cast<size_t>(h) * vd);
    }
  });
}

}  // namespace

void StoreKvRow(const ForwardContext& ctx, DType kv_type, const float* src, int n, uint8_t* dst) {
  if (n == 0) return;
  if (kv_type == DType::kF16) {
    ctx.kernels->f32_to_f16(src, reinterpret_cast<uint16_t*>(dst), n);
  } else {
    std::memcpy(dst, src, sizeof(float) * n);
  }
}

void AttendOne(const ForwardContext& ctx, const KvLayerView& kv, DType kv_type, const AttendQuery& q,
               const AttendScratch& scratch, float* out) {
  // Positions [lo, pos] map to rows lo % rows .. pos % rows, in at most two spans.
  const int lo = kv.window > 0 && q.pos - kv.window + 1 > 0 ? q.pos - kv.window + 1 : 0;
  const int n = q.pos - lo + 1;
  const int first_row = lo % kv.rows;
  const int span0 = first_row + n <= kv.rows ? n : kv.rows - first_row;
  AttnArgs a;
  a.q = q.q;
  a.kv_row_bytes = kv.k_row_bytes;
  a.kv_type = kv_type;
  a.head_dim = q.k_dim;
  a.scale = q.scale;
  a.k = q.k + static_cast<size_t>(first_row) * kv.k_row_bytes;
  a.n_pos = span0;
  ctx.kernels->attn_scores(a, scratch.scores);
  if (span0 < n) {
    a.k = q.k;
    a.n_pos = n - span0;
    ctx.kernels->attn_scores(a, scratch.scores + span0);
  }
  int n_soft = n;
  if (q.sink) scratch.scores[n_soft++] = *q.sink;  // an extra logit in the denominator only
  ctx.kernels->softmax(scratch.scores, n_soft);
  AttnArgs v = a;
  v.head_dim = q.v_dim;
  v.kv_row_bytes = kv.v ? kv.v_row_bytes : kv.k_row_bytes;
  v.v = q.v + static_cast<size_t>(first_row) * v.kv_row_bytes;
  v.n_pos = span0;
  ctx.kernels->attn_values(v, scratch.scores, out);
  if (span0 < n) {
    v.v = q.v;
    v.n_pos = n - span0;
    ctx.kernels->attn_values(v, scratch.scores + span0, scratch.head_out);
    for (int d = 0; d < q.v_dim; ++d) out[d] += scratch.head_out[d];
  }
}

void AttentionBlock(const ForwardContext& ctx, const BlockArgs& b, const AttentionWeights& w, const KvLayerView& kv,
                    DType kv_type, float* out) {
  const LayerSpec& l = b.config->layers[b.layer_idx];
  ForwardScratch& s = *b.scratch;
  const int out_dim = l.AttnOutDim();
  ProjectQkv(ctx, b, w, kv, kv_type);
  float* att = s.attn_out.as<float>();
  Attend(ctx, b, w, kv, kv_type, att);
  ActSlots o(att, out_dim, b.n_tokens, out_dim, s.act_a.data(), s.act_b.data(), s.act_h.data());
  LinearJob job;
  o.Bind(ctx, w.wo, &job);
  job.y = out;
  job.y_stride = b.config->dim;
  RunLinear(ctx, &job, 1);
  AddBias(w.bo, b.n_tokens, b.config->dim, out);
}

}  // namespace omnicoder
