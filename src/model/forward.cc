// The forward loop and its scratch allocation.
#include "model/forward.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "base/strings.h"
#include "model/blocks/attention.h"
#include "model/blocks/ffn.h"
#include "model/blocks/mla.h"
#include "model/blocks/moe.h"
#include "threading/thread_pool.h"

namespace omnicoder {

namespace {

#if !defined(NDEBUG) || defined(OC_ENABLE_DCHECK)
constexpr bool kPoisonScratch = true;  // builds with OC_DCHECK: see CreateForwardScratch
#else
constexpr bool kPoisonScratch = false;
#endif

// Largest act row over every format for an input of n values.
size_t MaxActRowBytes(int n) {
  size_t m = 0;
  for (ActFormat f : {ActFormat::kF32, ActFormat::kF16, ActFormat::kBF16, ActFormat::kQ8, ActFormat::kQ8K}) {
    m = std::max(m, ActRowBytes(f, n));
  }
  return m;
}

struct ScratchPlan {
  struct Item {
    AlignedBuffer* buf;
    size_t bytes;
  };
  std::vector<Item> items;
  uint64_t total = 0;
  void Add(AlignedBuffer* b, size_t bytes) {
    items.push_back({b, bytes});
    total += (bytes + 63) / 64 * 64;
  }
};

void PlanMla(const ModelConfig& c, int T, ForwardScratch* s, ScratchPlan* p) {
  const size_t f = sizeof(float);
  int qa = 0, lat = 0, q_lora = 1;
  size_t act = 0;
  for (const LayerSpec& l : c.layers) {
    if (l.attention != AttentionKind::kMla) continue;
    qa = std::max(qa, l.n_heads * (l.kv_lora_rank + l.qk_rope_dim));
    lat = std::max(lat, l.n_heads * l.kv_lora_rank);
    q_lora = std::max(q_lora, l.q_lora_rank);
    act = std::max(
        act, static_cast<size_t>(l.n_heads) * std::max(MaxActRowBytes(l.qk_nope_dim), MaxActRowBytes(l.kv_lora_rank)));
  }
  p->Add(&s->mla_q, f * T * qa);
  p->Add(&s->mla_lat, f * T * lat);
  p->Add(&s->mla_act, act * T);
  p->Add(&s->mla_tmp, f * T * q_lora);
}

void PlanScratch(const ModelConfig& c, int T, int capacity, int n_threads, ForwardScratch* s, ScratchPlan* p) {
  const size_t f = sizeof(float);
  int width = std::max({c.dim, c.MaxQDim(), c.MaxFfnDim(), c.MaxAttnOutDim()});
  for (const LayerSpec& l : c.layers) width = std::max({width, l.q_lora_rank, l.kv_lora_rank});
  s->act_row_bytes = MaxActRowBytes(width);
  s->act_ffn_row_bytes = MaxActRowBytes(c.MaxFfnDim());
  p->Add(&s->x, f * T * c.dim);
  p->Add(&s->xn, f * T * c.dim);
  p->Add(&s->q, f * T * c.MaxQDim());
  p->Add(&s->k, f * T * c.MaxKvDim());
  p->Add(&s->v, f * T * c.MaxKvDim());
  p->Add(&s->attn_out, f * T * c.MaxAttnOutDim());
  p->Add(&s->proj, f * T * c.dim);
  p->Add(&s->h1, f * T * c.MaxFfnDim());
  p->Add(&s->h3, f * T * c.MaxFfnDim());
  p->Add(&s->act_a, s->act_row_bytes * T);
  p->Add(&s->act_b, s->act_row_bytes * T);
  p->Add(&s->act_h, s->act_row_bytes * T);
  p->Add(&s->scores, f * n_threads * AttendScratchFloats(capacity));
  p->Add(&s->rope, f * T * c.rope.dims);
  p->Add(&s->seq_ids, 4 * T);
  if (c.HasMla()) PlanMla(c, T, s, p);
  if (!c.HasMoe()) return;
  MoeScratch& m = s->moe;
  const int E = c.MaxExperts(), k = c.MaxExpertsActive(), slots = T * k;
  int eff = 0;
  for (const LayerSpec& l : c.layers) eff = std::max(eff, l.expert_ffn_dim);
  const size_t act_dim = MaxActRowBytes(c.dim), act_eff = MaxActRowBytes(eff);
  s->act_ffn_row_bytes = std::max(s->act_ffn_row_bytes, act_eff);
  p->Add(&m.router_logits, f * T * E);
  p->Add(&m.probs, f * 2 * E);
  p->Add(&m.sel_experts, 4 * slots);
  p->Add(&m.sel_weights, f * slots);
  p->Add(&m.expert_offsets, 4 * (E + 1));
  p->Add(&m.expert_fill, 4 * E);
  p->Add(&m.wave_ids, 4 * E);
  p->Add(&m.rows, 4 * slots);
  p->Add(&m.row_of_slot, 4 * slots);
  p->Add(&m.act_gate, act_dim * slots);
  p->Add(&m.act_up, act_dim * slots);
  p->Add(&m.hidden_gate, f * slots * eff);
  p->Add(&m.hidden_up, f * slots * eff);
  p->Add(&m.act_hidden, s->act_ffn_row_bytes * slots);
  p->Add(&m.expert_out, f * slots * c.dim);
  p->Add(&m.shared_out, f * T * c.dim);
  p->Add(&m.pred_x, f * c.dim);
  p->Add(&m.pred_act, act_dim);
  p->Add(&m.pred_logits, f * E);
  p->Add(&m.pred_ids, 4 * k);
  p->Add(&m.pred_weights, f * k);
}

}  // namespace

uint64_t ForwardScratchBytes(const ModelConfig& config, int max_tokens, int capacity, int n_threads) {
  ForwardScratch s;
  ScratchPlan p;
  PlanScratch(config, max_tokens, capacity, n_threads, &s, &p);
  return p.total;
}

Result<std::unique_ptr<ForwardScratch>> CreateForwardScratch(const ModelConfig& c, int max_tokens, int capacity,
                                                             int n_threads) {
  auto s = std::make_unique<ForwardScratch>();
  s->max_tokens = max_tokens;
  s->capacity = capacity;
  s->n_threads = n_threads;
  ScratchPlan p;
  PlanScratch(c, max_tokens, capacity, n_threads, s.get(), &p);
  for (const ScratchPlan::Item& it : p.items) {
    // Not zeroed: a page is committed when a step first writes it (a decode-only session
    // never touches most of a prompt batch's scratch). Checked builds fill it with 0xFF
    // bytes instead (NaN floats, -1 indices): a read before a write shows as a non-finite
    // logit or an out-of-range index in the sanitized tests.
    if (!it.buf->Allocate(it.bytes, /*zero=*/false)) {
      return OutOfMemory("cannot allocate " + HumanBytes(p.total) + " of forward scratch");
    }
    if constexpr (kPoisonScratch) std::memset(it.buf->data(), 0xFF, it.bytes);
  }
  if (c.HasMoe()) {
    s->moe.acquired.resize(c.MaxExperts());
    s->moe.jobs.resize(2 * c.MaxExperts());
  }
  s->head_jobs.resize(c.MaxHeads());
  // Calls per layer: q/k/v, o, gate/up, down; MoE adds its router, the next layer's
  // router (expert prediction), experts' gate/up and down, a shared expert; MLA a few.
  const size_t trace_calls = static_cast<size_t>(c.n_layers) * 12 + 4;
  s->trace.calls.resize(trace_calls);
  s->trace.shares.resize(trace_calls * static_cast<size_t>(std::max(n_threads, 1)));
  return s;
}

namespace {

void Embed(const ModelRef& m, const ForwardRequest& r, float* x) {
  const WeightMatrix& e = m.weights->token_embd;
  const DTypeTraits& traits = GetDTypeTraits(e.type);
  for (int t = 0; t < r.n_tokens; ++t) {
    traits.dequantize(e.data + static_cast<size_t>(r.tokens[t]) * e.row_bytes, x + static_cast<size_t>(t) * e.cols,
                      e.cols);
  }
}

Status CheckRequest(const ModelRef& m, const KvView& kv, const ForwardScratch& s, const ForwardRequest& r) {
  if (r.n_tokens <= 0 || r.n_tokens > s.max_tokens) {
    return InvalidArgument(StrFormat("batch of %d tokens (limit %d)", r.n_tokens, s.max_tokens));
  }
  for (int t = 0; t < r.n_tokens; ++t) {
    if (r.tokens[t] < 0 || r.tokens[t] >= m.config->vocab_size) {
      return InvalidArgument(
          StrFormat("token id %d is outside the vocabulary [0, %d)", r.tokens[t], m.config->vocab_size));
    }
    const int seq = r.seq ? r.seq[t] : 0;
    if (seq < 0 || seq >= static_cast<int>(kv.seqs.size())) {
      return InvalidArgument(StrFormat("sequence id %d is outside [0, %zu)", seq, kv.seqs.size()));
    }
    if (r.pos[t] < 0 || r.pos[t] >= kv.seq_ctx) {
      return InvalidArgument(
          StrFormat("context is full: position %d exceeds the context size %d", r.pos[t], kv.seq_ctx));
    }
  }
  for (int i = 0; i < r.n_out; ++i) {
    if (r.out_rows[i] < 0 || r.out_rows[i] >= r.n_tokens || (i > 0 && r.out_rows[i] <= r.out_rows[i - 1])) {
      return InvalidArgument("output rows must be ascending token indices of the batch");
    }
  }
  return Status::Ok();
}

// Predicts layer `next`'s experts for the last token from the current residual stream
// (after this layer's attention) with next's own norm and router, and asks the expert
// source to prefetch them: the reads overlap this layer's expert compute.
void PrefetchNextLayer(const ForwardContext& ctx, const ModelRef& m, ForwardScratch& s, int next, int T) {
  const ModelConfig& c = *m.config;
  if (next >= c.n_layers || !c.layers[next].moe) return;
  MoeScratch& ms = s.moe;
  const LayerWeights& lw = m.weights->layers[next];
  float* px = ms.pred_x.as<float>();
  ctx.kernels->rms_norm(s.x.as<float>() + static_cast<size_t>(T - 1) * c.dim, lw.ffn_norm, c.rms_eps, px, c.dim);
  LinearJob job;
  job.w = &lw.moe.router;
  job.act = ms.pred_act.data();
  job.act_row_bytes =
      PrepareAct(ctx, lw.moe.router.type, {px, static_cast<size_t>(c.dim), 1, c.dim}, ms.pred_act.data());
  job.y = ms.pred_logits.as<float>();
  job.y_stride = lw.moe.router.rows;
  RunLinear(ctx, &job, 1);
  const LayerSpec& l = c.layers[next];
  RouteToken(MakeRouteSpec(c, l, lw.moe), ms.pred_logits.as<float>(), ms.probs.as<float>(), ms.pred_ids.as<int32_t>(),
             ms.pred_weights.as<float>());
  m.experts->Prefetch(next, ms.pred_ids.as<int32_t>(), l.n_experts_active);
}

}  // namespace

namespace {

// Final norm and output projection for the requested rows.
Status OutputLogits(const ForwardContext& ctx, const ModelRef& m, ForwardScratch& s, const ForwardRequest& r) {
  const ModelConfig& c = *m.config;
  const int dim = c.dim;
  float* x = s.x.as<float>();
  float* xn = s.xn.as<float>();
  for (int i = 0; i < r.n_out; ++i) {
    ctx.kernels->rms_norm(x + static_cast<size_t>(r.out_rows[i]) * dim, m.weights->output_norm, c.rms_eps,
                          xn + static_cast<size_t>(i) * dim, dim);
  }
  ActSlots in(xn, dim, r.n_out, dim, s.act_a.data(), s.act_b.data(), s.act_h.data());
  LinearJob job;
  in.Bind(ctx, m.weights->output, &job);
  job.y = r.logits;
  job.y_stride = c.vocab_size;
  RunLinear(ctx, &job, 1);
  const size_t n_logits = static_cast<size_t>(r.n_out) * c.vocab_size;
  for (size_t i = 0; i < n_logits; ++i) {
    if (!std::isfinite(r.logits[i])) {
      return CorruptFile("the model produced a non-finite logit (NaN/Inf); its weights are probably corrupt");
    }
  }
  return Status::Ok();
}

}  // namespace

Status Forward(const ForwardContext& base_ctx, const ModelRef& m, KvView& kv, ForwardScratch& s,
               const ForwardRequest& r) {
  OC_RETURN_IF_ERROR(CheckRequest(m, kv, s, r));
  ForwardContext ctx = base_ctx;
  if (r.n_tokens <= LinearTrace::kMaxTokens) {
    ctx.trace = &s.trace;
    s.trace.prev_n = s.trace.n;
    s.trace.n = 0;
  }
  const ModelConfig& c = *m.config;
  const int T = r.n_tokens, dim = c.dim;
  float* x = s.x.as<float>();
  float* xn = s.xn.as<float>();
  float* proj = s.proj.as<float>();
  Embed(m, r, x);
  int32_t* seq = s.seq_ids.as<int32_t>();
  for (int t = 0; t < T; ++t) seq[t] = r.seq ? r.seq[t] : 0;
  BlockArgs b{&c, 0, T, r.pos, seq, &s};
  for (int il = 0; il < c.n_layers; ++il) {
    b.layer_idx = il;
    const LayerWeights& lw = m.weights->layers[il];
    RmsNormRows(ctx, {lw.attn_norm, c.rms_eps}, x, T, dim, xn);
    if (c.layers[il].attention == AttentionKind::kMla) {
      MlaBlock(ctx, b, lw.attn, kv, proj);
    } else {
      AttentionBlock(ctx, b, lw.attn, kv, proj);
    }
    AddRows(ctx, x, proj, static_cast<size_t>(T) * dim);
    RmsNormRows(ctx, {lw.ffn_norm, c.rms_eps}, x, T, dim, xn);
    if (c.layers[il].moe) {
      auto prefetch = [&] { PrefetchNextLayer(ctx, m, s, il + 1, T); };
      FunctionRef<void()> hook(prefetch);
      const bool predict = T == 1 && m.experts->WantsPrefetch();
      OC_RETURN_IF_ERROR(MoeBlock(ctx, b, lw.moe, {m.experts, predict ? &hook : nullptr}, xn, proj));
    } else {
      FfnBlock(ctx, b, lw.ffn, xn, proj);
    }
    AddRows(ctx, x, proj, static_cast<size_t>(T) * dim);
  }
  if (r.logits == nullptr || r.n_out == 0) return Status::Ok();  // a prompt batch whose logits nobody reads
  return OutputLogits(ctx, m, s, r);
}

}  // namespace omnicoder
