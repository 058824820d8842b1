// MoE block implementation.
#include "model/blocks/moe.h"

#include <cmath>
#include <cstring>

#include "base/check.h"
#include "model/blocks/ffn.h"

namespace omnicoder {

RouteSpec MakeRouteSpec(const ModelConfig& c, const LayerSpec& l, const MoeWeights& w) {
  RouteSpec r;
  r.params = c.router;
  r.n_experts = l.n_experts;
  r.k = l.n_experts_active;
  r.router_bias = w.router_bias;
  r.selection_bias = w.selection_bias;
  return r;
}

namespace {

void Probabilities(const RouteSpec& r, const float* logits, float* probs) {
  const int E = r.n_experts;
  if (r.params.gating == Gating::kSigmoid) {
    for (int e = 0; e < E; ++e) probs[e] = 1.0f / (1.0f + std::exp(-logits[e]));
    return;
  }
  if (r.params.gating == Gating::kSoftmaxSelected) {
    for (int e = 0; e < E; ++e) probs[e] = logits[e];
    return;
  }
  float max = -INFINITY;
  for (int e = 0; e < E; ++e) max = std::fmax(max, logits[e]);
  double sum = 0.0;
  for (int e = 0; e < E; ++e) {
    probs[e] = std::exp(logits[e] - max);
    sum += probs[e];
  }
  const float inv = static_cast<float>(1.0 / sum);
  for (int e = 0; e < E; ++e) probs[e] *= inv;
}

// DeepSeek-V3 group-limited routing: keep the n_group_used groups whose two best scores
// sum highest; the other groups' experts cannot be chosen.
void MaskGroups(const RouteSpec& r, float* score) {
  const int G = r.params.n_groups, per = r.n_experts / G;
  float group_score[256];
  bool keep[256] = {};
  for (int g = 0; g < G; ++g) {
    float a = -INFINITY, b = -INFINITY;
    for (int e = g * per; e < (g + 1) * per; ++e) {
      if (score[e] > a)
        b = a, a = score[e];
      else if (score[e] > b)
        b = score[e];
    }
    group_score[g] = a + b;
  }
  for (int j = 0; j < r.params.n_group_used; ++j) {
    int best = -1;
    for (int g = 0; g < G; ++g) {
      if (!keep[g] && (best < 0 || group_score[g] > group_score[best])) best = g;
    }
    keep[best] = true;
  }
  for (int e = 0; e < r.n_experts; ++e) {
    if (!keep[e / per]) score[e] = -INFINITY;
  }
}

}  // namespace

void RouteToken(const RouteSpec& r, float* logits, float* scratch, int32_t* selected, float* weights) {
  const int E = r.n_experts, k = r.k;
  float* probs = scratch;
  float* score = scratch + E;
  if (r.router_bias) {
    for (int e = 0; e < E; ++e) logits[e] += r.router_bias[e];
  }
  Probabilities(r, logits, probs);
  for (int e = 0; e < E; ++e) score[e] = r.selection_bias ? probs[e] + r.selection_bias[e] : probs[e];
  if (r.params.n_groups > 1) MaskGroups(r, score);
  // Partial selection sort: k is small (<= 16 in practice).
  for (int j = 0; j < k; ++j) {
    int best = -1;
    for (int e = 0; e < E; ++e) {
      bool taken = false;
      for (int i = 0; i < j && !taken; ++i) taken = selected[i] == e;
      if (!taken && (best < 0 || score[e] > score[best])) best = e;
    }
    selected[j] = best;
    weights[j] = probs[best];
  }
  if (r.params.gating == Gating::kSoftmaxSelected) {
    float max = -INFINITY;
    for (int j = 0; j < k; ++j) max = std::fmax(max, weights[j]);
    double sum = 0.0;
    for (int j = 0; j < k; ++j) sum += (weights[j] = std::exp(weights[j] - max));
    const float inv = static_cast<float>(1.0 / sum);
    for (int j = 0; j < k; ++j) weights[j] *= inv;
  }
  if (r.params.norm_topk) {
    float wsum = 0.0f;
    for (int j = 0; j < k; ++j) wsum += weights[j];
    wsum = std::fmax(wsum, 6.103515625e-5f);  // as llama.cpp: clamp to the smallest f16 normal
    for (int j = 0; j < k; ++j) weights[j] /= wsum;
  }
  if (r.params.weights_scale != 1.0f) {
    for (int j = 0; j < k; ++j) weights[j] *= r.params.weights_scale;
  }
}

namespace {

struct Routing {
  int n_slots = 0;  // T * k
  const int32_t* sel = nullptr;
  const float* weights = nullptr;
  const int32_t* offsets = nullptr;  // [E + 1]
  const int32_t* rows = nullptr;     // expert-ordered slots
  const int32_t* row_of_slot = nullptr;
};

Routing RouteAll(const ForwardContext& ctx, const BlockArgs& b, const MoeWeights& w, const float* xn) {
  const ModelConfig& c = *b.config;
  const LayerSpec& l = c.layers[b.layer_idx];
  MoeScratch& m = b.scratch->moe;
  const int T = b.n_tokens, E = l.n_experts, k = l.n_experts_active;
  float* logits = m.router_logits.as<float>();
  Linear(ctx, b, xn, {{w.router, logits}});

  int32_t* sel = m.sel_experts.as<int32_t>();
  float* weights = m.sel_weights.as<float>();
  const RouteSpec spec = MakeRouteSpec(c, l, w);
  for (int t = 0; t < T; ++t) {
    RouteToken(spec, logits + static_cast<size_t>(t) * E, m.probs.as<float>(), sel + t * k, weights + t * k);
  }
  int32_t* offsets = m.expert_offsets.as<int32_t>();
  int32_t* fill = m.expert_fill.as<int32_t>();
  std::memset(offsets, 0, sizeof(int32_t) * (E + 1));
  for (int i = 0; i < T * k; ++i) ++offsets[sel[i] + 1];
  for (int e = 0; e < E; ++e) offsets[e + 1] += offsets[e];
  std::memset(fill, 0, sizeof(int32_t) * E);
  int32_t* rows = m.rows.as<int32_t>();
  int32_t* row_of_slot = m.row_of_slot.as<int32_t>();
  for (int i = 0; i < T * k; ++i) {
    const int e = sel[i];
    const int r = offsets[e] + fill[e]++;
    rows[r] = i;
    row_of_slot[i] = r;
  }
  return {T * k, sel, weights, offsets, rows, row_of_slot};
}

// Copies the act rows of each slot's token into expert order (T == 1: no copy needed).
const uint8_t* GatherAct(const BlockArgs& b, const Routing& r, int k, const uint8_t* act, size_t row_bytes,
                         uint8_t* dst) {
  if (b.n_tokens == 1) return act;
  for (int i = 0; i < r.n_slots; ++i) {
    std::memcpy(dst + static_cast<size_t>(i) * row_bytes, act + static_cast<size_t>(r.rows[i] / k) * row_bytes,
                row_bytes);
  }
  return dst;
}

void ReleaseRange(ExpertSource& experts, int layer, const Routing& r, int begin, int end) {
  for (int e = begin; e < end; ++e) {
    if (r.offsets[e + 1] > r.offsets[e]) experts.Release(layer, e);
  }
}

struct ExpertRange {
  int begin, end;  // experts [begin, end) of this wave
};

// rows[r] += bias[e] (n values) for every expert-ordered row r of the wave's experts.
void AddExpertBias(const ForwardContext& ctx, const Routing& r, ExpertRange wave, const float* bias, int n,
                   float* rows) {
  if (!bias) return;
  for (int e = wave.begin; e < wave.end; ++e) {
    const float* be = bias + static_cast<size_t>(e) * n;
    // y + 1 * b: the same bits as y + b, in the kernels' vector code (the plain loop, which
    // GCC's -O2 did not vectorize, took 1.2 % of gpt-oss decode's calling-thread samples).
    for (int row = r.offsets[e]; row < r.offsets[e + 1]; ++row)
      ctx.kernels->axpy(rows + static_cast<size_t>(row) * n, be, 1.0f, n);
  }
}

// The input rows in the gate's and the up's act formats (expert-ordered, see GatherAct).
struct ExpertInputs {
  const uint8_t* gate = nullptr;
  size_t gate_bytes = 0;
  const uint8_t* up = nullptr;
  size_t up_bytes = 0;
};

void RunExperts(const ForwardContext& ctx, const BlockArgs& b, const MoeWeights& mw, const Routing& r,
                const ExpertInputs& in, ExpertRange wave) {
  const uint8_t* act_gate = in.gate;
  const uint8_t* act_up = in.up;
  const size_t gate_bytes = in.gate_bytes, up_bytes = in.up_bytes;
  const LayerSpec& l = b.config->layers[b.layer_idx];
  MoeScratch& m = b.scratch->moe;
  const int eff = l.expert_ffn_dim;
  // With T == 1 every expert reads the same single act row (stride 0 between experts).
  const bool shared_row = b.n_tokens == 1;
  int n_jobs = 0;
  for (int e = wave.begin; e < wave.end; ++e) {
    const int first = r.offsets[e], count = r.offsets[e + 1] - first;
    if (count == 0) continue;
    const FfnWeights& ew = m.acquired[e];
    LinearJob& g = m.jobs[n_jobs++];
    LinearJob& u = m.jobs[n_jobs++];
    g.w = &ew.gate;
    g.act = act_gate + (shared_row ? 0 : static_cast<size_t>(first) * gate_bytes);
    g.act_row_bytes = gate_bytes;
    g.n_tokens = count;
    g.y = m.hidden_gate.as<float>() + static_cast<size_t>(first) * eff;
    g.y_stride = eff;
    u = g;
    u.w = &ew.up;
    u.act = act_up + (shared_row ? 0 : static_cast<size_t>(first) * up_bytes);
    u.act_row_bytes = up_bytes;
    u.y = m.hidden_up.as<float>() + static_cast<size_t>(first) * eff;
  }
  if (n_jobs == 0) return;
  RunLinear(ctx, m.jobs.data(), n_jobs);
  AddExpertBias(ctx, r, wave, mw.gate_bias, eff, m.hidden_gate.as<float>());
  AddExpertBias(ctx, r, wave, mw.up_bias, eff, m.hidden_up.as<float>());
  const int rows_begin = r.offsets[wave.begin], rows_end = r.offsets[wave.end];
  float* g = m.hidden_gate.as<float>() + static_cast<size_t>(rows_begin) * eff;
  const float* u = m.hidden_up.as<float>() + static_cast<size_t>(rows_begin) * eff;
  if (b.config->arch->activation == Activation::kSwigluOai) {
    ctx.kernels->swiglu_oai(g, u, (rows_end - rows_begin) * eff);
  } else {
    ctx.kernels->silu_mul(g, u, (rows_end - rows_begin) * eff);
  }
  n_jobs = 0;
  for (int e = wave.begin; e < wave.end; ++e) {
    const int first = r.offsets[e], count = r.offsets[e + 1] - first;
    if (count == 0) continue;
    const FfnWeights& ew = m.acquired[e];
    const float* h = m.hidden_gate.as<float>() + static_cast<size_t>(first) * eff;
    uint8_t* act = m.act_hidden.data() + static_cast<size_t>(first) * b.scratch->act_ffn_row_bytes;
    LinearJob& d = m.jobs[n_jobs++];
    d.w = &ew.down;
    d.act = act;
    d.act_row_bytes = PrepareAct(ctx, ew.down.type, {h, static_cast<size_t>(eff), count, eff}, act);
    d.n_tokens = count;
    d.y = m.expert_out.as<float>() + static_cast<size_t>(first) * b.config->dim;
    d.y_stride = b.config->dim;
  }
  RunLinear(ctx, m.jobs.data(), n_jobs);
  AddExpertBias(ctx, r, wave, mw.down_bias, b.config->dim, m.expert_out.as<float>());
}

// Acquires the routed experts of one wave (index order); all must share one tensor type.
// The tensor types of a layer's experts, known once the first is acquired.
struct ExpertTypes {
  DType gate = DType::kF32, up = DType::kF32;
  bool known = false;
};

Status AcquireWave(const BlockArgs& b, const Routing& r, ExpertSource& experts, ExpertRange wave, ExpertTypes* types) {
  MoeScratch& m = b.scratch->moe;
  for (int e = wave.begin; e < wave.end; ++e) {
    if (r.offsets[e + 1] == r.offsets[e]) continue;
    Result<FfnWeights> ew = experts.Acquire(b.layer_idx, e);
    if (!ew.ok()) {  // release the whole wave: BeginWave may hold experts not yet acquired
      ReleaseRange(experts, b.layer_idx, r, wave.begin, wave.end);
      return ew.status();
    }
    m.acquired[e] = ew.value();
    if (!types->known) {
      types->gate = m.acquired[e].gate.type, types->up = m.acquired[e].up.type;
      types->known = true;
    } else if (m.acquired[e].gate.type != types->gate || m.acquired[e].up.type != types->up) {
      ReleaseRange(experts, b.layer_idx, r, wave.begin, wave.end);
      return Unsupported("experts of one layer with different tensor types");
    }
  }
  return Status::Ok();
}

// The next wave: from `begin`, as many experts as hold at most `cap` routed ones; tells the
// source which routed experts it holds (in acquire order) so it can start their reads.
ExpertRange BeginNextWave(const BlockArgs& b, const Routing& r, ExpertSource& experts, int begin) {
  const int n_experts = b.config->layers[b.layer_idx].n_experts, cap = experts.MaxConcurrent();
  int32_t* ids = b.scratch->moe.wave_ids.as<int32_t>();
  int end = begin, used = 0;
  while (end < n_experts && (used < cap || r.offsets[end + 1] == r.offsets[end])) {
    if (r.offsets[end + 1] > r.offsets[end]) ids[used++] = end;
    ++end;
  }
  experts.BeginWave(b.layer_idx, ids, used);
  return {begin, end};
}

// out[t] = sum_j w[t,j] * expert_out[slot (t, j)] in rank order j, then the shared expert
// (times its sigmoid gate when the arch has one).
void CombineOutputs(const ForwardContext& ctx, const BlockArgs& b, const MoeWeights& w, const Routing& r,
                    const float* xn, float* out) {
  const int T = b.n_tokens, dim = b.config->dim, k = b.config->layers[b.layer_idx].n_experts_active;
  MoeScratch& m = b.scratch->moe;
  const float* yo = m.expert_out.as<float>();
  for (int t = 0; t < T; ++t) {
    float* o = out + static_cast<size_t>(t) * dim;
    std::memset(o, 0, sizeof(float) * dim);
    for (int j = 0; j < k; ++j) {
      const int slot = t * k + j;
      ctx.kernels->axpy(o, yo + static_cast<size_t>(r.row_of_slot[slot]) * dim, r.weights[slot], dim);
    }
  }
  if (!w.shared.gate.present()) return;
  float* so = m.shared_out.as<float>();
  FfnBlock(ctx, b, w.shared, xn, so);
  for (int t = 0; t < T; ++t) {
    const float* x = xn + static_cast<size_t>(t) * dim;
    float g = 1.0f;
    if (w.shared_gate.present()) {
      const float* gw = reinterpret_cast<const float*>(w.shared_gate.data);
      float dot = 0.0f;
      for (int i = 0; i < dim; ++i) dot += gw[i] * x[i];
      g = 1.0f / (1.0f + std::exp(-dot));
    }
    ctx.kernels->axpy(out + static_cast<size_t>(t) * dim, so + static_cast<size_t>(t) * dim, g, dim);
  }
}

}  // namespace

Status MoeBlock(const ForwardContext& ctx, const BlockArgs& b, const MoeWeights& w, const MoeSources& sources,
                const float* xn, float* out) {
  ExpertSource& experts = *sources.experts;
  const LayerSpec& l = b.config->layers[b.layer_idx];
  MoeScratch& m = b.scratch->moe;
  const int T = b.n_tokens, k = l.n_experts_active, dim = b.config->dim;
  const Routing r = RouteAll(ctx, b, w, xn);
  experts.OnRouted(b.layer_idx, r.sel, r.n_slots);
  // The first wave's reads start before the next layer's prefetch is issued.
  ExpertRange wave = BeginNextWave(b, r, experts, 0);
  if (sources.after_routing) (*sources.after_routing)();
  ExpertTypes types;
  ExpertInputs in;
  // Experts in waves of what the source can hold at once; results combine per token at the
  // end, so the wave size never changes the numbers.
  while (wave.begin < l.n_experts) {
    OC_RETURN_IF_ERROR(AcquireWave(b, r, experts, wave, &types));
    if (!in.gate && types.known) {
      const DType gate_type = types.gate, up_type = types.up;
      uint8_t* xa = b.scratch->act_a.data();
      in.gate_bytes = PrepareAct(ctx, gate_type, {xn, static_cast<size_t>(dim), T, dim}, xa);
      in.gate = in.up = GatherAct(b, r, k, xa, in.gate_bytes, m.act_gate.data());
      in.up_bytes = in.gate_bytes;
      if (KernelFor(ctx, up_type).act != KernelFor(ctx, gate_type).act) {
        uint8_t* xb = b.scratch->act_b.data();
        in.up_bytes = PrepareAct(ctx, up_type, {xn, static_cast<size_t>(dim), T, dim}, xb);
        in.up = GatherAct(b, r, k, xb, in.up_bytes, m.act_up.data());
      }
    }
    if (in.gate) RunExperts(ctx, b, w, r, in, wave);
    ReleaseRange(experts, b.layer_idx, r, wave.begin, wave.end);
    if (wave.end < l.n_experts)
      wave = BeginNextWave(b, r, experts, wave.end);
    else
      wave.begin = wave.end;
  }
  CombineOutputs(ctx, b, w, r, xn, out);
  return Status::Ok();
}

}  // namespace omnicoder
