// Attention forward/backward with causal row blocks of kBlock rows: a block of query
// rows [r0, r1) only sees key positions [0, r1).
#include "train/attention_train.h"

#include <cmath>
#include <cstring>

#include "threading/thread_pool.h"

namespace omnicoder {

namespace {

constexpr int kBlock = 64;

// Runs fn(seq, kv_head, thread) over every pair, in parallel.
template <typename Fn>
void ForEachSeqKvHead(TrainContext& ctx, const AttnShape& s, Fn fn) {
  ctx.pool->ParallelFor(int64_t{s.n_seqs} * s.n_kv_heads, 1, [&](int64_t b, int64_t e, int thread) {
    for (int64_t i = b; i < e; ++i) fn(static_cast<int>(i / s.n_kv_heads), static_cast<int>(i % s.n_kv_heads), thread);
  });
}

void SoftmaxCausal(const KernelTable& k, float* p, int S, int r0, int r1, float scale) {
  for (int i = r0; i < r1; ++i) {
    float* row = p + static_cast<int64_t>(i) * S;
    for (int j = 0; j <= i; ++j) row[j] *= scale;
    k.softmax(row, i + 1);
    for (int j = i + 1; j < S; ++j) row[j] = 0.0f;
  }
}

}  // namespace

void AttentionForward(TrainContext& ctx, const AttnShape& s, const AttnQkv& in, float* probs, float* out) {
  const float *q = in.q, *k = in.k, *v = in.v;
  const int S = s.seq_len, hd = s.head_dim, group = s.n_heads / s.n_kv_heads;
  const int64_t qd = int64_t{s.n_heads} * hd, kvd = int64_t{s.n_kv_heads} * hd;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  ForEachSeqKvHead(ctx, s, [&](int b, int kvh, int thread) {
    const float* kb = k + int64_t{b} * S * kvd + kvh * hd;
    const float* vb = v + int64_t{b} * S * kvd + kvh * hd;
    for (int h = kvh * group; h < (kvh + 1) * group; ++h) {
      const float* qb = q + int64_t{b} * S * qd + h * hd;
      float* p = probs + (int64_t{b} * s.n_heads + h) * S * S;
      float* ob = out + int64_t{b} * S * qd + h * hd;
      for (int r0 = 0; r0 < S; r0 += kBlock) {
        const int r1 = r0 + kBlock < S ? r0 + kBlock : S;
        // scores[r0:r1, 0:r1] = q k^T
        GemmTile(ctx, thread, MakeSgemm({S, S, hd}, Rows(qb, qd), Transposed(kb, kvd), {p, S}, false), {r0, r1, 0, r1});
        SoftmaxCausal(*ctx.kernels, p, S, r0, r1, scale);
        // out[r0:r1] = P[r0:r1, 0:r1] v[0:r1]
        GemmTile(ctx, thread, MakeSgemm({S, hd, r1}, Rows(p, S), Rows(vb, kvd), {ob, qd}, false), {r0, r1, 0, hd});
      }
    }
  });
}

void AttentionBackward(TrainContext& ctx, const AttnShape& s, const AttnQkv& in, const AttnBackwardIo& io) {
  const float *q = in.q, *k = in.k, *v = in.v, *probs = io.probs, *dout = io.dout;
  float *dq = io.dq, *dk = io.dk, *dv = io.dv, *scratch = io.scratch;
  const int S = s.seq_len, hd = s.head_dim, group = s.n_heads / s.n_kv_heads;
  const int64_t qd = int64_t{s.n_heads} * hd, kvd = int64_t{s.n_kv_heads} * hd;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  ForEachSeqKvHead(ctx, s, [&](int b, int kvh, int thread) {
    float* ds = scratch + int64_t{thread} * S * S;
    const float* kb = k + int64_t{b} * S * kvd + kvh * hd;
    const float* vb = v + int64_t{b} * S * kvd + kvh * hd;
    float* dkb = dk + int64_t{b} * S * kvd + kvh * hd;
    float* dvb = dv + int64_t{b} * S * kvd + kvh * hd;
    for (int h = kvh * group; h < (kvh + 1) * group; ++h) {
      const bool acc = h != kvh * group;
      const float* qb = q + int64_t{b} * S * qd + h * hd;
      const float* dob = dout + int64_t{b} * S * qd + h * hd;
      const float* p = probs + (int64_t{b} * s.n_heads + h) * S * S;
      float* dqb = dq + int64_t{b} * S * qd + h * hd;
      for (int r0 = 0; r0 < S; r0 += kBlock) {
        const int r1 = r0 + kBlock < S ? r0 + kBlock : S;
        // dP[r0:r1, 0:r1] = dO v^T; dS = P (dP - rowsum(P dP)) * scale
        GemmTile(ctx, thread, MakeSgemm({S, S, hd}, Rows(dob, qd), Transposed(vb, kvd), {ds, S}, false),
                 {r0, r1, 0, r1});
        for (int i = r0; i < r1; ++i) {
          const float* pr = p + int64_t{i} * S;
          float* dr = ds + int64_t{i} * S;
          double dot = 0;
          for (int j = 0; j <= i; ++j) dot += static_cast<double>(pr[j]) * dr[j];
          const float d = static_cast<float>(dot);
          for (int j = 0; j <= i; ++j) dr[j] = pr[j] * (dr[j] - d) * scale;
          for (int j = i + 1; j < S; ++j) dr[j] = 0.0f;
        }
        // dq[r0:r1] = dS[r0:r1, 0:r1] k[0:r1]
        GemmTile(ctx, thread, MakeSgemm({S, hd, r1}, Rows(ds, S), Rows(kb, kvd), {dqb, qd}, false), {r0, r1, 0, hd});
      }
      // dk[j] (+)= sum_{i >= j} dS[i, j] q[i]; dv[j] (+)= sum_{i >= j} P[i, j] dO[i], per block of key rows.
      for (int j0 = 0; j0 < S; j0 += kBlock) {
        const int j1 = j0 + kBlock < S ? j0 + kBlock : S;
        const int kk = S - j0;
        GemmTile(ctx, thread,
                 MakeSgemm({S, hd, kk}, {ds + int64_t{j0} * S, 1, S}, Rows(qb + int64_t{j0} * qd, qd), {dkb, kvd}, acc),
                 {j0, j1, 0, hd});
        GemmTile(ctx, thread,
                 MakeSgemm({S, hd, kk}, {p + int64_t{j0} * S, 1, S}, Rows(dob + int64_t{j0} * qd, qd), {dvb, kvd}, acc),
                 {j0, j1, 0, hd});
      }
    }
  });
}

}  // namespace omnicoder
