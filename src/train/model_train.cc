// Training forward/backward over the layers, the output layer and the loss.
#include "train/model_train.h"

#include <cmath>
#include <cstring>

#include "base/strings.h"
#include "threading/thread_pool.h"
#include "train/attention_train.h"

namespace omnicoder {

namespace {

constexpr int kLossChunk = 256;  // output rows per logits chunk

size_t Align16(size_t n) {
  return (n + 15) / 16 * 16;
}

FfnShape MakeFfnShape(const TrainModelConfig& c, int n_tokens) {
  FfnShape s;
  s.n_tokens = n_tokens;
  s.dim = c.dim;
  s.ffn_dim = c.ffn_dim;
  s.n_experts = c.n_experts;
  s.k = c.n_experts > 0 ? c.n_experts_active : 1;
  return s;
}

FfnWeightsRef FfnRef(const LayerParams& l) {
  return {l.router, l.gate, l.up, l.down};
}

// -log softmax(W x)[target] in double (rows of W are the vocabulary).
double ExactCrossEntropy(const float* w, const float* x, int dim, int vocab, int target) {
  std::vector<double> logit(vocab);
  double mx = -INFINITY;
  for (int v = 0; v < vocab; ++v) {
    double d = 0;
    for (int i = 0; i < dim; ++i) d += static_cast<double>(w[static_cast<int64_t>(v) * dim + i]) * x[i];
    logit[v] = d;
    mx = std::max(mx, d);
  }
  double sum = 0;
  for (double l : logit) sum += std::exp(l - mx);
  return mx + std::log(sum) - logit[target];
}

}  // namespace

Result<std::unique_ptr<TrainModel>> TrainModel::Create(const TrainModelConfig& c, int max_seqs, int n_threads) {
  std::unique_ptr<TrainModel> m(new TrainModel());
  m->c_ = c;
  m->max_seqs_ = max_seqs;
  const size_t S = c.ctx_len, N = static_cast<size_t>(max_seqs) * S, D = c.dim, V = c.vocab_size;
  const size_t qd = static_cast<size_t>(c.n_heads) * c.head_dim, kvd = static_cast<size_t>(c.n_kv_heads) * c.head_dim;
  const FfnShape fs = MakeFfnShape(c, static_cast<int>(N));
  const size_t per_layer = Align16(N * D) * 4 + Align16(N) * 2 + Align16(N * qd) * 2 + Align16(N * kvd) * 2 +
                           Align16(static_cast<size_t>(max_seqs) * c.n_heads * S * S) + FfnActivationFloats(fs);
  const size_t shared = Align16(N * D) * 5 + Align16(N) + Align16(N * qd) * 2 + Align16(N * kvd) * 2 +
                        Align16(static_cast<size_t>(n_threads) * S * S) + FfnBackwardScratchFloats(fs) +
                        Align16(kLossChunk * V) + Align16(N) * 3 + Align16(S * c.head_dim);
  const size_t total = per_layer * c.n_layers + shared;
  if (!m->arena_.Allocate(total * sizeof(float))) {
    return OutOfMemory("cannot allocate " + HumanBytes(total * sizeof(float)) +
                       " of training activations; lower micro_seqs");
  }
  float* base = m->arena_.as<float>();
  auto take = [&](size_t n) {
    float* p = base;
    base += Align16(n);
    return p;
  };
  m->layers_.resize(c.n_layers);
  for (Layer& l : m->layers_) {
    l.x_in = take(N * D), l.xn1 = take(N * D), l.rstd1 = take(N);
    l.q = take(N * qd), l.k = take(N * kvd), l.v = take(N * kvd);
    l.probs = take(static_cast<size_t>(max_seqs) * c.n_heads * S * S);
    l.o = take(N * qd), l.x_mid = take(N * D), l.xn2 = take(N * D), l.rstd2 = take(N);
    l.ffn = BindFfnActivations(fs, base);
    base += FfnActivationFloats(fs);
  }
  m->x_final_ = take(N * D), m->xnf_ = take(N * D), m->rstdf_ = take(N);
  m->dx_ = take(N * D), m->dxn_ = take(N * D), m->do_ = take(N * qd);
  m->dq_ = take(N * qd), m->dk_ = take(N * kvd), m->dv_ = take(N * kvd);
  m->attn_scratch_ = take(static_cast<size_t>(n_threads) * S * S);
  m->ffn_scratch_ = take(FfnBackwardScratchFloats(fs));
  m->logits_ = take(static_cast<size_t>(kLossChunk) * V);
  m->inputs_ = reinterpret_cast<int32_t*>(take(N));
  m->targets_ = reinterpret_cast<int32_t*>(take(N));
  m->pos_ = reinterpret_cast<int32_t*>(take(N));
  m->rope_ = take(S * c.head_dim);
  RopeTable(c.ctx_len, c.head_dim, c.rope_base, m->rope_);
  return m;
}

uint64_t TrainModel::ActivationBytes() const {
  return arena_.size();
}

void TrainModel::ForwardLayers(TrainContext& ctx, const ModelParams& p, int n_seqs, int S, const AuxCoef& coef,
                               StepStats* stats) {
  const TrainModelConfig& c = c_;
  const int32_t* inputs = inputs_;
  const int N = n_seqs * S, D = c.dim, hd = c.head_dim;
  const int qd = c.n_heads * hd, kvd = c.n_kv_heads * hd;
  for (int t = 0; t < N; ++t) pos_[t] = t % S;
  float* x = layers_.empty() ? x_final_ : layers_[0].x_in;
  ctx.pool->ParallelFor(N, 16, [&](int64_t b, int64_t e, int) {
    for (int64_t t = b; t < e; ++t) std::memcpy(x + t * D, p.embd + int64_t{inputs[t]} * D, sizeof(float) * D);
  });
  const AttnShape as{n_seqs, S, c.n_heads, c.n_kv_heads, hd};
  const FfnShape fs = MakeFfnShape(c, N);
  for (int il = 0; il < c.n_layers; ++il) {
    Layer& L = layers_[il];
    const LayerParams& w = p.layers[il];
    RmsNormForward(ctx, {w.attn_norm, c.rms_eps, N, D}, L.x_in, L.xn1, L.rstd1);
    Gemm(ctx, {N, qd, D}, Rows(L.xn1, D), Transposed(w.wq, D), {L.q, qd}, false);
    Gemm(ctx, {N, kvd, D}, Rows(L.xn1, D), Transposed(w.wk, D), {L.k, kvd}, false);
    Gemm(ctx, {N, kvd, D}, Rows(L.xn1, D), Transposed(w.wv, D), {L.v, kvd}, false);
    Rope(ctx, L.q, {N, c.n_heads, hd, pos_, rope_}, false);
    Rope(ctx, L.k, {N, c.n_kv_heads, hd, pos_, rope_}, false);
    AttentionForward(ctx, as, {L.q, L.k, L.v}, L.probs, L.o);
    std::memcpy(L.x_mid, L.x_in, sizeof(float) * N * D);
    Gemm(ctx, {N, D, qd}, Rows(L.o, qd), Transposed(w.wo, qd), {L.x_mid, D}, true);
    RmsNormForward(ctx, {w.ffn_norm, c.rms_eps, N, D}, L.x_mid, L.xn2, L.rstd2);
    float* next = il + 1 < c.n_layers ? layers_[il + 1].x_in : x_final_;
    LayerRouting* routing = stats && stats->routing ? &(*stats->routing)[il] : nullptr;
    FfnForward(ctx, fs, FfnRef(w), L.ffn, {L.xn2, next, coef, stats ? &stats->aux : nullptr, routing});
    ctx.kernels->axpy(next, L.x_mid, 1.0f, N * D);
  }
  RmsNormForward(ctx, {p.out_norm, c.rms_eps, N, D}, x_final_, xnf_, rstdf_);
}

void TrainModel::OutputLoss(TrainContext& ctx, const ModelParams& p, const ModelParams* g, int n, float ce_scale,
                            StepStats* stats) {
  const int32_t* targets = targets_;
  const int D = c_.dim, V = c_.vocab_size;
  for (int r0 = 0; r0 < n; r0 += kLossChunk) {
    const int rows = n - r0 < kLossChunk ? n - r0 : kLossChunk;
    const float* xr = xnf_ + int64_t{r0} * D;
    Gemm(ctx, {rows, V, D}, Rows(xr, D), Transposed(p.output, D), {logits_, V}, false);
    std::vector<double> ce(rows);
    ctx.pool->ParallelFor(rows, 4, [&](int64_t b, int64_t e, int) {
      for (int64_t r = b; r < e; ++r) {
        float* l = logits_ + r * V;
        const int32_t tgt = targets[r0 + r];
        ctx.kernels->softmax(l, V);
        const float pt = l[tgt];
        if (pt > 1e-30f) {
          ce[r] = -std::log(static_cast<double>(pt));
        } else {  // underflow: recompute this row's log-softmax exactly
          ce[r] = ExactCrossEntropy(p.output, xr + r * D, D, V, tgt);
        }
        if (!g) continue;
        for (int i = 0; i < V; ++i) l[i] *= ce_scale;
        l[tgt] -= ce_scale;
      }
    });
    for (int r = 0; r < rows; ++r) stats->ce_sum += ce[r];
    stats->n_predicted += rows;
    if (!g) continue;
    Gemm(ctx, {V, D, rows}, Transposed(logits_, V), Rows(xr, D), {g->output, D}, true);
    Gemm(ctx, {rows, D, V}, Rows(logits_, V), Rows(p.output, D), {dxn_ + int64_t{r0} * D, D}, false);
  }
}

void TrainModel::BackwardLayers(TrainContext& ctx, const ModelParams& p, const ModelParams& g, int n_seqs, int S,
                                const AuxCoef& coef) {
  const TrainModelConfig& c = c_;
  const int32_t* inputs = inputs_;
  const int N = n_seqs * S, D = c.dim, hd = c.head_dim;
  const int qd = c.n_heads * hd, kvd = c.n_kv_heads * hd;
  const AttnShape as{n_seqs, S, c.n_heads, c.n_kv_heads, hd};
  const FfnShape fs = MakeFfnShape(c, N);
  std::memset(dx_, 0, sizeof(float) * N * D);
  RmsNormBackward(ctx, {p.out_norm, c.rms_eps, N, D}, x_final_, rstdf_, dxn_, {dx_, true, g.out_norm});
  for (int il = c.n_layers - 1; il >= 0; --il) {
    const Layer& L = layers_[il];
    const LayerParams& w = p.layers[il];
    const LayerParams& gw = g.layers[il];
    FfnBackward(ctx, fs, FfnRef(w), L.ffn,
                {L.xn2, dx_, coef, dxn_, {gw.router, gw.gate, gw.up, gw.down}, ffn_scratch_});
    RmsNormBackward(ctx, {w.ffn_norm, c.rms_eps, N, D}, L.x_mid, L.rstd2, dxn_, {dx_, true, gw.ffn_norm});
    Gemm(ctx, {D, qd, N}, Transposed(dx_, D), Rows(L.o, qd), {gw.wo, qd}, true);
    Gemm(ctx, {N, qd, D}, Rows(dx_, D), Rows(w.wo, qd), {do_, qd}, false);
    AttentionBackward(ctx, as, {L.q, L.k, L.v}, {L.probs, do_, dq_, dk_, dv_, attn_scratch_});
    Rope(ctx, dq_, {N, c.n_heads, hd, pos_, rope_}, true);
    Rope(ctx, dk_, {N, c.n_kv_heads, hd, pos_, rope_}, true);
    Gemm(ctx, {qd, D, N}, Transposed(dq_, qd), Rows(L.xn1, D), {gw.wq, D}, true);
    Gemm(ctx, {kvd, D, N}, Transposed(dk_, kvd), Rows(L.xn1, D), {gw.wk, D}, true);
    Gemm(ctx, {kvd, D, N}, Transposed(dv_, kvd), Rows(L.xn1, D), {gw.wv, D}, true);
    Gemm(ctx, {N, D, qd}, Rows(dq_, qd), Rows(w.wq, D), {dxn_, D}, false);
    Gemm(ctx, {N, D, kvd}, Rows(dk_, kvd), Rows(w.wk, D), {dxn_, D}, true);
    Gemm(ctx, {N, D, kvd}, Rows(dv_, kvd), Rows(w.wv, D), {dxn_, D}, true);
    RmsNormBackward(ctx, {w.attn_norm, c.rms_eps, N, D}, L.x_in, L.rstd1, dxn_, {dx_, true, gw.attn_norm});
  }
  // Embedding rows: parallel over columns, tokens in order, so repeated ids sum in order.
  ctx.pool->ParallelFor(D, 16, [&](int64_t d0, int64_t d1, int) {
    for (int t = 0; t < N; ++t) {
      float* ge = g.embd + int64_t{inputs[t]} * D;
      const float* gx = dx_ + int64_t{t} * D;
      for (int64_t d = d0; d < d1; ++d) ge[d] += gx[d];
    }
  });
}

namespace {

Status CheckTokens(const TrainModelConfig& c, const int32_t* tokens, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (tokens[i] < 0 || tokens[i] >= c.vocab_size) {
      return InvalidArgument(StrFormat("token id %d is outside the vocabulary [0, %d)", tokens[i], c.vocab_size));
    }
  }
  return Status::Ok();
}

}  // namespace

Status TrainModel::ForwardBackward(TrainContext& ctx, const ModelParams& p, const ModelParams& g,
                                   const TokenBatch& batch, const LossWeights& weights, StepStats* stats) {
  const int32_t* tokens = batch.tokens;
  const int n_seqs = batch.n_seqs;
  const float ce_scale = weights.ce_scale;
  const AuxCoef& coef = weights.coef;
  const int S = c_.ctx_len;
  if (n_seqs < 1 || n_seqs > max_seqs_)
    return InvalidArgument("micro-batch larger than the activations were sized for");
  OC_RETURN_IF_ERROR(CheckTokens(c_, tokens, static_cast<size_t>(n_seqs) * (S + 1)));
  for (int b = 0; b < n_seqs; ++b) {
    std::memcpy(inputs_ + b * S, tokens + b * (S + 1), sizeof(int32_t) * S);
    std::memcpy(targets_ + b * S, tokens + b * (S + 1) + 1, sizeof(int32_t) * S);
  }
  ForwardLayers(ctx, p, n_seqs, S, coef, stats);
  OutputLoss(ctx, p, &g, n_seqs * S, ce_scale, stats);
  BackwardLayers(ctx, p, g, n_seqs, S, coef);
  return Status::Ok();
}

Status TrainModel::Forward(TrainContext& ctx, const ModelParams& p, const int32_t* tokens, int n_seqs,
                           StepStats* stats) {
  const int S = c_.ctx_len;
  if (n_seqs < 1 || n_seqs > max_seqs_) return InvalidArgument("batch larger than the activations were sized for");
  OC_RETURN_IF_ERROR(CheckTokens(c_, tokens, static_cast<size_t>(n_seqs) * (S + 1)));
  for (int b = 0; b < n_seqs; ++b) {
    std::memcpy(inputs_ + b * S, tokens + b * (S + 1), sizeof(int32_t) * S);
    std::memcpy(targets_ + b * S, tokens + b * (S + 1) + 1, sizeof(int32_t) * S);
  }
  AuxCoef none;
  none.grad_scale = 0;
  ForwardLayers(ctx, p, n_seqs, S, none, stats);
  OutputLoss(ctx, p, nullptr, n_seqs * S, 1.0f, stats);
  return Status::Ok();
}

Status TrainModel::Logits(TrainContext& ctx, const ModelParams& p, const int32_t* tokens, int n, float* out) {
  if (n < 1 || n > c_.ctx_len) return InvalidArgument(StrFormat("1 to %d tokens per sequence", c_.ctx_len));
  OC_RETURN_IF_ERROR(CheckTokens(c_, tokens, n));
  std::memcpy(inputs_, tokens, sizeof(int32_t) * n);
  AuxCoef none;
  ForwardLayers(ctx, p, 1, n, none, nullptr);
  Gemm(ctx, {n, c_.vocab_size, c_.dim}, Rows(xnf_, c_.dim), Transposed(p.output, c_.dim), {out, c_.vocab_size}, false);
  return Status::Ok();
}

}  // namespace omnicoder
