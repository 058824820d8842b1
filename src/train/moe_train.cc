// Dense and MoE SwiGLU FFN: forward with saved activations, backward.
#include "train/moe_train.h"

#include <cmath>
#include <cstring>

#include "threading/thread_pool.h"

namespace omnicoder {

namespace {

size_t Align16(size_t n) {
  return (n + 15) / 16 * 16;
}

// Where one token's routing goes: probs [E], lse, sel [k], weight [k].
struct RouteOut {
  float* probs;
  float* lse;
  int32_t* sel;
  float* weight;
};

// Router for one token: softmax over all experts (double sums), top-k, renormalized.
void RouteOne(const float* logits, int E, int k, const RouteOut& out) {
  float *probs = out.probs, *lse = out.lse, *weight = out.weight;
  int32_t* sel = out.sel;
  float mx = -INFINITY;
  for (int e = 0; e < E; ++e) mx = std::fmax(mx, logits[e]);
  double sum = 0;
  for (int e = 0; e < E; ++e) sum += std::exp(static_cast<double>(logits[e]) - mx);
  *lse = static_cast<float>(mx + std::log(sum));
  for (int e = 0; e < E; ++e) probs[e] = static_cast<float>(std::exp(static_cast<double>(logits[e]) - mx) / sum);
  double wsum = 0;
  for (int j = 0; j < k; ++j) {  // ties: the lower expert index wins
    int best = -1;
    for (int e = 0; e < E; ++e) {
      bool taken = false;
      for (int i = 0; i < j; ++i) taken = taken || sel[i] == e;
      if (!taken && (best < 0 || probs[e] > probs[best])) best = e;
    }
    sel[j] = best;
    wsum += probs[best];
  }
  for (int j = 0; j < k; ++j) weight[j] = static_cast<float>(probs[sel[j]] / wsum);
}

void Route(TrainContext& ctx, const FfnShape& s, const FfnWeightsRef& w, const float* xn, FfnActivations& a) {
  const int T = s.n_tokens, E = s.Experts(), k = s.n_experts > 0 ? s.k : 1;
  if (s.n_experts == 0) {
    for (int t = 0; t < T; ++t) a.sel[t] = 0, a.weight[t] = 1.0f;
  } else {
    Gemm(ctx, {T, E, s.dim}, Rows(xn, s.dim), Transposed(w.router, s.dim), {a.router_logits, E}, false);
    ctx.pool->ParallelFor(T, 16, [&](int64_t b, int64_t e, int) {
      for (int64_t t = b; t < e; ++t) {
        RouteOne(a.router_logits + t * E, E, k, {a.probs + t * E, a.lse + t, a.sel + t * k, a.weight + t * k});
      }
    });
  }
  // Expert-ordered rows: (expert, token, rank).
  std::memset(a.offsets, 0, sizeof(int32_t) * (E + 1));
  for (int i = 0; i < T * k; ++i) ++a.offsets[a.sel[i] + 1];
  for (int e = 0; e < E; ++e) a.offsets[e + 1] += a.offsets[e];
  std::vector<int32_t> fill(a.offsets, a.offsets + E);
  for (int i = 0; i < T * k; ++i) {
    const int r = fill[a.sel[i]]++;
    a.row_token[r] = i / k;
    a.row_of_slot[i] = r;
  }
}

void Aux(const FfnShape& s, const FfnActivations& a, const AuxCoef& coef, AuxLoss* aux) {
  const int T = s.n_tokens, E = s.n_experts, k = s.k;
  double balance = 0, z = 0, max_load = 0, entropy = 0;
  for (int e = 0; e < E; ++e) {
    double p = 0;
    for (int t = 0; t < T; ++t) p += a.probs[int64_t{t} * E + e];
    const double f = static_cast<double>(a.offsets[e + 1] - a.offsets[e]) / (static_cast<double>(T) * k);
    balance += f * p / T;
    max_load = std::fmax(max_load, f * E);
  }
  for (int t = 0; t < T; ++t) {
    z += static_cast<double>(a.lse[t]) * a.lse[t];
    for (int e = 0; e < E; ++e) {
      const double p = a.probs[int64_t{t} * E + e];
      if (p > 0) entropy -= p * std::log(p);
    }
  }
  aux->balance += coef.balance * E * balance;
  aux->z += coef.z * z / T;
  aux->max_load = std::fmax(aux->max_load, max_load);
  aux->router_entropy += entropy / T;
}

void AddRouting(const FfnShape& s, const FfnActivations& a, LayerRouting* r) {
  const int T = s.n_tokens, E = s.n_experts;
  r->slots.resize(E, 0);
  for (int e = 0; e < E; ++e) r->slots[e] += a.offsets[e + 1] - a.offsets[e];
  for (int64_t i = 0; i < int64_t{T} * E; ++i) {
    const double p = a.probs[i];
    if (p > 0) r->entropy_sum -= p * std::log(p);
  }
  r->n_tokens += T;
}

}  // namespace

size_t FfnActivationFloats(const FfnShape& s) {
  const size_t T = s.n_tokens, E = s.Experts(), k = s.n_experts > 0 ? s.k : 1, S = s.Slots();
  return Align16(T * E) * 2 + Align16(T) + Align16(T * k) * 2 + Align16(E + 1) + Align16(S) * 2 +
         Align16(S * s.dim) * 2 + Align16(S * s.ffn_dim) * 3;
}

FfnActivations BindFfnActivations(const FfnShape& s, float* base) {
  const size_t T = s.n_tokens, E = s.Experts(), k = s.n_experts > 0 ? s.k : 1, S = s.Slots();
  FfnActivations a;
  auto take = [&](size_t n) {
    float* p = base;
    base += Align16(n);
    return p;
  };
  a.router_logits = take(T * E);
  a.probs = take(T * E);
  a.lse = take(T);
  a.sel = reinterpret_cast<int32_t*>(take(T * k));
  a.weight = take(T * k);
  a.offsets = reinterpret_cast<int32_t*>(take(E + 1));
  a.row_token = reinterpret_cast<int32_t*>(take(S));
  a.row_of_slot = reinterpret_cast<int32_t*>(take(S));
  a.xe = take(S * s.dim);
  a.ye = take(S * s.dim);
  a.h1 = take(S * s.ffn_dim);
  a.h3 = take(S * s.ffn_dim);
  a.act = take(S * s.ffn_dim);
  return a;
}

void FfnForward(TrainContext& ctx, const FfnShape& s, const FfnWeightsRef& w, FfnActivations& a,
                const FfnForwardIo& io) {
  const float* xn = io.xn;
  float* out = io.out;
  const int D = s.dim, F = s.ffn_dim, E = s.Experts(), k = s.n_experts > 0 ? s.k : 1, S = s.Slots();
  Route(ctx, s, w, xn, a);
  ctx.pool->ParallelFor(S, 16, [&](int64_t b, int64_t e, int) {
    for (int64_t r = b; r < e; ++r) std::memcpy(a.xe + r * D, xn + int64_t{a.row_token[r]} * D, sizeof(float) * D);
  });
  for (int e = 0; e < E; ++e) {
    const int r0 = a.offsets[e], n = a.offsets[e + 1] - r0;
    if (n == 0) continue;
    const int64_t wo = int64_t{e} * F * D;
    Gemm(ctx, {n, F, D}, Rows(a.xe + int64_t{r0} * D, D), Transposed(w.gate + wo, D), {a.h1 + int64_t{r0} * F, F},
         false);
    Gemm(ctx, {n, F, D}, Rows(a.xe + int64_t{r0} * D, D), Transposed(w.up + wo, D), {a.h3 + int64_t{r0} * F, F}, false);
  }
  SiluMulForward(ctx, a.h1, a.h3, int64_t{S} * F, a.act);
  for (int e = 0; e < E; ++e) {
    const int r0 = a.offsets[e], n = a.offsets[e + 1] - r0;
    if (n == 0) continue;
    Gemm(ctx, {n, D, F}, Rows(a.act + int64_t{r0} * F, F), Transposed(w.down + int64_t{e} * D * F, F),
         {a.ye + int64_t{r0} * D, D}, false);
  }
  ctx.pool->ParallelFor(s.n_tokens, 16, [&](int64_t b, int64_t e, int) {
    for (int64_t t = b; t < e; ++t) {
      float* o = out + t * D;
      std::memset(o, 0, sizeof(float) * D);
      for (int j = 0; j < k; ++j) {
        const float wt = a.weight[t * k + j];
        const float* y = a.ye + int64_t{a.row_of_slot[t * k + j]} * D;
        for (int d = 0; d < D; ++d) o[d] += wt * y[d];
      }
    }
  });
  if (s.n_experts > 0 && io.aux) Aux(s, a, io.coef, io.aux);
  if (s.n_experts > 0 && io.routing) AddRouting(s, a, io.routing);
}

size_t FfnBackwardScratchFloats(const FfnShape& s) {
  const size_t S = s.Slots();
  return Align16(S * s.dim) * 2 + Align16(S * s.ffn_dim) * 3 + Align16(S) +
         Align16(static_cast<size_t>(s.n_tokens) * s.Experts());
}

namespace {

// The router backward's input dweight [T, k] (d loss / d combine weight) and its scratch
// dr [T, E] (d loss / d router logit).
struct RouterTemps {
  const float* dweight;
  float* dr;
};

// Router backward: combine weights -> probs (renormalization), + balance loss, softmax,
// + z-loss; then dW_router and dxn += dr W_router.
void RouterBackward(TrainContext& ctx, const FfnShape& s, const FfnWeightsRef& w, const FfnActivations& a,
                    const FfnBackwardIo& io, const RouterTemps& tmp) {
  const float* xn = io.xn;
  const float* dweight = tmp.dweight;
  const AuxCoef& coef = io.coef;
  float *dxn = io.dxn, *grad_router = io.grads.router, *dr = tmp.dr;
  const int T = s.n_tokens, E = s.n_experts, k = s.k;
  std::vector<double> f(E);
  for (int e = 0; e < E; ++e)
    f[e] = static_cast<double>(a.offsets[e + 1] - a.offsets[e]) / (static_cast<double>(T) * k);
  ctx.pool->ParallelFor(T, 16, [&](int64_t b, int64_t end, int) {
    std::vector<double> dp(E);
    for (int64_t t = b; t < end; ++t) {
      const float* p = a.probs + t * E;
      double wsum = 0, dot = 0;
      for (int j = 0; j < k; ++j) wsum += p[a.sel[t * k + j]];
      for (int j = 0; j < k; ++j) dot += static_cast<double>(dweight[t * k + j]) * a.weight[t * k + j];
      for (int e = 0; e < E; ++e) dp[e] = coef.grad_scale * coef.balance * E * f[e] / T;
      for (int j = 0; j < k; ++j) dp[a.sel[t * k + j]] += (dweight[t * k + j] - dot) / wsum;
      double pdp = 0;
      for (int e = 0; e < E; ++e) pdp += p[e] * dp[e];
      const double zg = coef.grad_scale * coef.z * 2.0 * a.lse[t] / T;
      for (int e = 0; e < E; ++e) dr[t * E + e] = static_cast<float>(p[e] * (dp[e] - pdp) + zg * p[e]);
    }
  });
  Gemm(ctx, {E, s.dim, T}, Transposed(dr, E), Rows(xn, s.dim), {grad_router, s.dim}, true);
  Gemm(ctx, {T, s.dim, E}, Rows(dr, E), Rows(w.router, s.dim), {dxn, s.dim}, true);
}

}  // namespace

void FfnBackward(TrainContext& ctx, const FfnShape& s, const FfnWeightsRef& w, const FfnActivations& a,
                 const FfnBackwardIo& io) {
  const float* dout = io.dout;
  float* dxn = io.dxn;
  const FfnGrads& g = io.grads;
  float* scratch = io.scratch;
  const int D = s.dim, F = s.ffn_dim, E = s.Experts(), k = s.n_experts > 0 ? s.k : 1, S = s.Slots();
  float* dye = scratch;
  float* dxe = dye + Align16(static_cast<size_t>(S) * D);
  float* dact = dxe + Align16(static_cast<size_t>(S) * D);
  float* dh1 = dact + Align16(static_cast<size_t>(S) * F);
  float* dh3 = dh1 + Align16(static_cast<size_t>(S) * F);
  float* dweight = dh3 + Align16(static_cast<size_t>(S) * F);
  float* dr = dweight + Align16(S);
  ctx.pool->ParallelFor(s.n_tokens, 16, [&](int64_t b, int64_t e, int) {
    for (int64_t t = b; t < e; ++t) {
      const float* go = dout + t * D;
      for (int j = 0; j < k; ++j) {
        const int64_t r = a.row_of_slot[t * k + j];
        const float wt = a.weight[t * k + j];
        double dot = 0;
        for (int d = 0; d < D; ++d) {
          dye[r * D + d] = wt * go[d];
          dot += static_cast<double>(go[d]) * a.ye[r * D + d];
        }
        dweight[t * k + j] = static_cast<float>(dot);
      }
    }
  });
  for (int e = 0; e < E; ++e) {
    const int r0 = a.offsets[e], n = a.offsets[e + 1] - r0;
    if (n == 0) continue;
    const float* wd = w.down + int64_t{e} * D * F;
    Gemm(ctx, {n, F, D}, Rows(dye + int64_t{r0} * D, D), Rows(wd, F), {dact + int64_t{r0} * F, F}, false);
    Gemm(ctx, {D, F, n}, Transposed(dye + int64_t{r0} * D, D), Rows(a.act + int64_t{r0} * F, F),
         {g.down + int64_t{e} * D * F, F}, true);
  }
  SiluMulBackward(ctx, a.h1, a.h3, dact, int64_t{S} * F, {dh1, dh3});
  for (int e = 0; e < E; ++e) {
    const int r0 = a.offsets[e], n = a.offsets[e + 1] - r0;
    if (n == 0) continue;
    const int64_t wo = int64_t{e} * F * D;
    const Mat xe = Rows(a.xe + int64_t{r0} * D, D);
    Gemm(ctx, {F, D, n}, Transposed(dh1 + int64_t{r0} * F, F), xe, {g.gate + wo, D}, true);
    Gemm(ctx, {F, D, n}, Transposed(dh3 + int64_t{r0} * F, F), xe, {g.up + wo, D}, true);
    Gemm(ctx, {n, D, F}, Rows(dh1 + int64_t{r0} * F, F), Rows(w.gate + wo, D), {dxe + int64_t{r0} * D, D}, false);
    Gemm(ctx, {n, D, F}, Rows(dh3 + int64_t{r0} * F, F), Rows(w.up + wo, D), {dxe + int64_t{r0} * D, D}, true);
  }
  ctx.pool->ParallelFor(s.n_tokens, 16, [&](int64_t b, int64_t e, int) {
    for (int64_t t = b; t < e; ++t) {
      float* o = dxn + t * D;
      std::memset(o, 0, sizeof(float) * D);
      for (int j = 0; j < k; ++j) {
        const float* x = dxe + int64_t{a.row_of_slot[t * k + j]} * D;
        for (int d = 0; d < D; ++d) o[d] += x[d];
      }
    }
  });
  if (s.n_experts > 0) RouterBackward(ctx, s, w, a, io, {dweight, dr});
}

}  // namespace omnicoder
