// Grouped-query attention (GQA/MQA) with RoPE, optional biases, q/k RMSNorm, attention
// sinks and sliding windows (a ring of rows in the KV cache).
#include "model/blocks/attention.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "model/blocks/rope.h"
#include "threading/thread_pool.h"

namespace omnicoder {

namespace {

size_t KvElemBytes(DType t) {
  return t == DType::kF16 ? 2 : 4;
}

void AddBias(const float* bias, int n_tokens, int n, float* y) {
  if (!bias) return;
  for (int t = 0; t < n_tokens; ++t) {
    float* row = y + static_cast<size_t>(t) * n;
    for (int i = 0; i < n; ++i) row[i] += bias[i];
  }
}

// q/k RMSNorm: per head (weight [head_dim]) or over the whole projection.
void QkNormRows(const ForwardContext& ctx, const BlockArgs& b, const float* w, int n_heads, float* y) {
  const QkNorm kind = b.config->arch->qk_norm;
  const float eps = b.config->rms_eps;
  const int n_tokens = b.n_tokens, head_dim = b.config->layers[b.layer_idx].head_dim;
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
void ProjectQkv(const ForwardContext& ctx, const BlockArgs& b, const AttentionWeights& w, const KvView& kv,
                const KvLayerView& layer) {
  const ModelConfig& c = *b.config;
  const LayerSpec& l = c.layers[b.layer_idx];
  ForwardScratch& s = *b.scratch;
  const int T = b.n_tokens, hd = l.head_dim;
  const int q_dim = l.QDim(), kv_dim = l.KvKDim(), v_dim = l.KvVDim();
  float* q = s.q.as<float>();
  float* k = s.k.as<float>();
  float* v = s.v.as<float>();
  Linear(ctx, b, s.xn.as<float>(), {{w.wq, q}, {w.wk, k}, {w.wv, v}});
  AddBias(w.bq, T, q_dim, q);
  AddBias(w.bk, T, kv_dim, k);
  AddBias(w.bv, T, v_dim, v);
  QkNormRows(ctx, b, w.q_norm, l.n_heads, q);
  QkNormRows(ctx, b, w.k_norm, l.n_kv_heads, k);
  float* table = s.rope.as<float>();
  FillRopeRows(c.rope, l.sliding_window > 0 ? c.rope.base_swa : c.rope.base, b.pos, T, table);
  for (int t = 0; t < T; ++t) {
    const float* cs = table + static_cast<size_t>(t) * c.rope.dims;
    ApplyRope(c.arch->rope, c.rope.dims, hd, l.n_heads, cs, q + static_cast<size_t>(t) * q_dim);
    ApplyRope(c.arch->rope, c.rope.dims, hd, l.n_kv_heads, cs, k + static_cast<size_t>(t) * kv_dim);
  }
  for (int t = 0; t < T; ++t) {
    const size_t row = kv.Row(layer, b.seq[t], b.pos[t]);
    for (int h = 0; h < l.n_kv_heads; ++h) {
      StoreKvRow(ctx, kv.type, k + static_cast<size_t>(t) * kv_dim + h * hd, hd, layer.KAt(row, h), layer.k_dim_bytes);
      StoreKvRow(ctx, kv.type, v + static_cast<size_t>(t) * v_dim + h * l.v_head_dim, l.v_head_dim, layer.VAt(row, h),
                 KvElemBytes(kv.type));
    }
  }
}

// One work item per (token, KV head, run of the group's query heads), over the positions
// the token's window sees.
void Attend(const ForwardContext& ctx, const BlockArgs& b, const AttentionWeights& w, const KvView& kv,
            const KvLayerView& layer, float* att) {
  const LayerSpec& l = b.config->layers[b.layer_idx];
  ForwardScratch& s = *b.scratch;
  const int hd = l.head_dim, vd = l.v_head_dim, q_dim = l.QDim(), out_dim = l.AttnOutDim();
  const int group = l.n_heads / l.n_kv_heads;
  const float* q = s.q.as<float>();
  const int per = AttendQueriesPerItem(group, int64_t{b.n_tokens} * l.n_kv_heads, ctx.pool->size());
  const int runs = (group + per - 1) / per;
  // Items go to whichever thread is free, latest tokens first: a prompt's token t sees t + 1
  // positions, so equal shares of items would be unequal shares of work.
  const int64_t n_items = int64_t{b.n_tokens} * l.n_kv_heads * runs;
  ctx.pool->ForEachDynamic(n_items, [&](int64_t item, int thread) {
    const AttendScratch scratch{s.scores.as<float>() + static_cast<size_t>(thread) * AttendScratchFloats(s.capacity),
                                static_cast<size_t>(s.capacity) + 1};
    const int64_t i = n_items - 1 - item;
    const int t = static_cast<int>(i / (int64_t{l.n_kv_heads} * runs));
    const int rest = static_cast<int>(i % (int64_t{l.n_kv_heads} * runs));
    const int kvh = rest / runs, h = kvh * group + rest % runs * per;
    AttendQuery a;
    a.q = q + static_cast<size_t>(t) * q_dim + static_cast<size_t>(h) * hd;
    a.q_stride = hd;
    a.n_q = std::min(per, (kvh + 1) * group - h);
    a.kv_head = kvh;
    a.k_dim = hd;
    a.v_dim = vd;
    a.seq = b.seq[t];
    a.pos = b.pos[t];
    a.scale = b.config->KqScale(l);
    a.sinks = w.sinks ? w.sinks + h : nullptr;
    a.out = att + static_cast<size_t>(t) * out_dim + static_cast<size_t>(h) * vd;
    a.out_stride = vd;
    AttendGroup(ctx, kv, layer, a, scratch);
  });
}

}  // namespace

void StoreKvRow(const ForwardContext& ctx, DType kv_type, const float* src, int n, uint8_t* dst, size_t dim_bytes) {
  if (n == 0) return;
  const size_t elem = KvElemBytes(kv_type);
  if (dim_bytes == elem) {
    if (kv_type == DType::kF16) {
      ctx.kernels->f32_to_f16(src, reinterpret_cast<uint16_t*>(dst), n);
    } else {
      std::memcpy(dst, src, sizeof(float) * n);
    }
    return;
  }
  constexpr int kChunk = 64;  // converted together, then scattered one dim at a time
  for (int d0 = 0; d0 < n; d0 += kChunk) {
    const int m = std::min(kChunk, n - d0);
    alignas(64) uint8_t buf[kChunk * sizeof(float)];
    if (kv_type == DType::kF16) {
      ctx.kernels->f32_to_f16(src + d0, reinterpret_cast<uint16_t*>(buf), m);
    } else {
      std::memcpy(buf, src + d0, sizeof(float) * m);
    }
    for (int i = 0; i < m; ++i) std::memcpy(dst + (d0 + i) * dim_bytes, buf + i * elem, elem);
  }
}

namespace {

// Runs of rows holding positions [lo, pos] of a sequence in a layer's pool, one block
// at a time (blocks store their rows head by head): fn(first_row, first_position_index, n).
template <typename Fn>
void ForEachRun(const KvView& kv, const KvLayerView& layer, int seq, int lo, int pos, Fn fn) {
  const int32_t* table = kv.seqs[seq].table[layer.pool];
  for (int p = lo; p <= pos;) {
    const int blk = p / kKvBlock;
    const int end = std::min(pos, (blk + 1) * kKvBlock - 1);
    fn(static_cast<size_t>(table[blk]) * kKvBlock + p % kKvBlock, p - lo, end - p + 1);
    p = end + 1;
  }
}

}  // namespace

void FillRopeRows(const RopeParams& r, float base, const int32_t* pos, int n_tokens, float* table) {
  for (int t = 0; t < n_tokens; ++t) FillRopeTable(r, base, pos[t], 1, table + static_cast<size_t>(t) * r.dims);
}

size_t AttendScratchFloats(int capacity) {
  return size_t{kAttendMaxQueries} * (static_cast<size_t>(capacity) + 1);
}

int AttendQueriesPerItem(int group, int64_t n_items, int threads) {
  int per = std::min(group, kAttendMaxQueries);
  while (per > 1 && n_items * ((group + per - 1) / per) < 2 * int64_t{threads}) per = (per + 1) / 2;
  return per;
}

void AttendGroup(const ForwardContext& ctx, const KvView& kv, const KvLayerView& layer, const AttendQuery& q,
                 const AttendScratch& scratch) {
  const int lo = layer.window > 0 && q.pos - layer.window + 1 > 0 ? q.pos - layer.window + 1 : 0;
  const int n = q.pos - lo + 1;
  AttnArgs a;
  a.q = q.q;
  a.q_stride = q.q_stride;
  a.n_q = q.n_q;
  a.scores_stride = scratch.stride;
  a.out_stride = q.out_stride;
  a.kv_row_bytes = layer.k_pos_bytes;
  a.k_dim_bytes = layer.k_dim_bytes;
  a.kv_type = kv.type;
  a.head_dim = q.k_dim;
  a.scale = q.scale;
  const auto scores_fn = layer.k_dim_major ? ctx.kernels->attn_scores_kt : ctx.kernels->attn_scores;
  ForEachRun(kv, layer, q.seq, lo, q.pos, [&](size_t row, int at, int count) {
    a.k = layer.KAt(row, q.kv_head);
    a.n_pos = count;
    scores_fn(a, scratch.scores + at);
  });
  for (int g = 0; g < q.n_q; ++g) {
    float* scores = scratch.scores + g * scratch.stride;
    int n_soft = n;
    if (q.sinks) scores[n_soft++] = q.sinks[g];  // an extra logit in the denominator only
    ctx.kernels->softmax(scores, n_soft);
  }
  AttnArgs v = a;
  v.head_dim = q.v_dim;
  v.kv_row_bytes = layer.v ? layer.v_head_bytes : layer.k_pos_bytes;  // MLA's K rows are row-major
  // Runs after the first continue the same sum (accumulate): any block layout gives the
  // bits of one pass over the positions in order.
  v.accumulate = false;
  ForEachRun(kv, layer, q.seq, lo, q.pos, [&](size_t row, int at, int count) {
    v.v = layer.v ? layer.VAt(row, q.kv_head) : layer.KAt(row, q.kv_head);
    v.n_pos = count;
    ctx.kernels->attn_values(v, scratch.scores + at, q.out);
    v.accumulate = true;
  });
}

void AttentionBlock(const ForwardContext& ctx, const BlockArgs& b, const AttentionWeights& w, const KvView& kv,
                    float* out) {
  const KvLayerView& layer = kv.layers[b.layer_idx];
  ForwardScratch& s = *b.scratch;
  ProjectQkv(ctx, b, w, kv, layer);
  float* att = s.attn_out.as<float>();
  Attend(ctx, b, w, kv, layer, att);
  Linear(ctx, b, att, {{w.wo, out}});
  AddBias(w.bo, b.n_tokens, b.config->dim, out);
}

}  // namespace omnicoder
