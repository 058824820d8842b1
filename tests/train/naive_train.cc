// Double-precision forward/backward oracle (see naive_train.h).
#include "tests/train/naive_train.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <string>

namespace omnicoder::reference {

namespace {

using Vec = std::vector<double>;

struct Net {
  const TrainModelConfig& c;
  std::map<std::string, size_t> off;
  const double* w;
  double* g;  // nullptr: no gradients
  const double* W(const std::string& n) const { return w + off.at(n); }
  double* G(const std::string& n) const { return g + off.at(n); }
};

std::string Blk(int l, const char* s) {
  return "blk." + std::to_string(l) + "." + s;
}

// y = M x, M [rows, cols] row-major.
Vec MatVec(const double* m, const Vec& x, int rows, int cols) {
  Vec y(rows, 0.0);
  for (int r = 0; r < rows; ++r) {
    double s = 0;
    for (int i = 0; i < cols; ++i) s += m[static_cast<size_t>(r) * cols + i] * x[i];
    y[r] = s;
  }
  return y;
}
// x += M^T y; dM += y x_in^T
void MatVecBack(const double* m, double* dm, const Vec& x_in, const Vec& dy, int rows, int cols, Vec* dx) {
  for (int r = 0; r < rows; ++r) {
    for (int i = 0; i < cols; ++i) {
      (*dx)[i] += m[static_cast<size_t>(r) * cols + i] * dy[r];
      if (dm) dm[static_cast<size_t>(r) * cols + i] += dy[r] * x_in[i];
    }
  }
}

double RmsNorm(const Vec& x, const double* g, double eps, Vec* y) {
  double ss = 0;
  for (double v : x) ss += v * v;
  const double r = 1.0 / std::sqrt(ss / x.size() + eps);
  y->resize(x.size());
  for (size_t i = 0; i < x.size(); ++i) (*y)[i] = x[i] * r * g[i];
  return r;
}
void RmsNormBack(const Vec& x, const double* g, double r, const Vec& dy, double* dg, Vec* dx) {
  const size_t n = x.size();
  double dot = 0;
  for (size_t i = 0; i < n; ++i) dot += dy[i] * g[i] * x[i];
  for (size_t i = 0; i < n; ++i) {
    (*dx)[i] += dy[i] * g[i] * r - r * r * r * x[i] * dot / n;
    if (dg) dg[i] += dy[i] * x[i] * r;
  }
}

void Rope(Vec* v, int heads, int hd, int pos, double base, double sign) {
  for (int h = 0; h < heads; ++h) {
    for (int i = 0; i < hd / 2; ++i) {
      const double th = pos * std::pow(base, -2.0 * i / hd), c = std::cos(th), s = sign * std::sin(th);
      double& a = (*v)[h * hd + 2 * i];
      double& b = (*v)[h * hd + 2 * i + 1];
      const double a0 = a, b0 = b;
      a = a0 * c - b0 * s;
      b = a0 * s + b0 * c;
    }
  }
}

double Sig(double x) {
  return 1.0 / (1.0 + std::exp(-x));
}

struct Slot {
  int expert;
  double weight;
  Vec a1, a3, act, y;
};

struct LayerCache {
  std::vector<Vec> x, h1, qr, kr, v, o, xm, h2, rl, rp;
  Vec r1, r2, lse;
  std::vector<std::vector<Slot>> slots;  // per token
  std::vector<Vec> probs;                // [b*H + h][i*S + j]
};

void ExpertForward(const Net& n, int l, const Vec& h2, Slot* s) {
  const TrainModelConfig& c = n.c;
  const int D = c.dim, F = c.ffn_dim;
  const bool moe = c.n_experts > 0;
  const size_t eo = static_cast<size_t>(s->expert) * F * D;
  const double* wg = n.W(Blk(l, moe ? "ffn_gate_exps.weight" : "ffn_gate.weight")) + eo;
  const double* wu = n.W(Blk(l, moe ? "ffn_up_exps.weight" : "ffn_up.weight")) + eo;
  const double* wd = n.W(Blk(l, moe ? "ffn_down_exps.weight" : "ffn_down.weight")) + eo;
  s->a1 = MatVec(wg, h2, F, D);
  s->a3 = MatVec(wu, h2, F, D);
  s->act.resize(F);
  for (int i = 0; i < F; ++i) s->act[i] = s->a1[i] * Sig(s->a1[i]) * s->a3[i];
  s->y = MatVec(wd, s->act, D, F);
}

void ExpertBackward(const Net& n, int l, const Vec& h2, const Slot& s, const Vec& dy, Vec* dh2) {
  const TrainModelConfig& c = n.c;
  const int D = c.dim, F = c.ffn_dim;
  const bool moe = c.n_experts > 0;
  const size_t eo = static_cast<size_t>(s.expert) * F * D;
  auto name = [&](const char* a, const char* b) { return Blk(l, moe ? a : b); };
  double* g_g = n.g ? n.G(name("ffn_gate_exps.weight", "ffn_gate.weight")) + eo : nullptr;
  double* g_u = n.g ? n.G(name("ffn_up_exps.weight", "ffn_up.weight")) + eo : nullptr;
  double* g_d = n.g ? n.G(name("ffn_down_exps.weight", "ffn_down.weight")) + eo : nullptr;
  Vec dact(F, 0.0), da1(F), da3(F);
  MatVecBack(n.W(name("ffn_down_exps.weight", "ffn_down.weight")) + eo, g_d, s.act, dy, D, F, &dact);
  for (int i = 0; i < F; ++i) {
    const double sg = Sig(s.a1[i]);
    da3[i] = dact[i] * s.a1[i] * sg;
    da1[i] = dact[i] * s.a3[i] * sg * (1 + s.a1[i] * (1 - sg));
  }
  MatVecBack(n.W(name("ffn_gate_exps.weight", "ffn_gate.weight")) + eo, g_g, h2, da1, F, D, dh2);
  MatVecBack(n.W(name("ffn_up_exps.weight", "ffn_up.weight")) + eo, g_u, h2, da3, F, D, dh2);
}

// Router of one token: probs, lse, top-k (ties: lower index), renormalized weights.
void Route(const TrainModelConfig& c, const Vec& logits, Vec* probs, double* lse, std::vector<Slot>* slots) {
  const int E = c.n_experts;
  const double mx = *std::max_element(logits.begin(), logits.end());
  double sum = 0;
  for (double l : logits) sum += std::exp(l - mx);
  *lse = mx + std::log(sum);
  probs->resize(E);
  for (int e = 0; e < E; ++e) (*probs)[e] = std::exp(logits[e] - *lse);
  std::vector<int> order(E);
  for (int e = 0; e < E; ++e) order[e] = e;
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return (*probs)[a] > (*probs)[b]; });
  double s = 0;
  for (int j = 0; j < c.n_experts_active; ++j) s += (*probs)[order[j]];
  for (int j = 0; j < c.n_experts_active; ++j) slots->push_back({order[j], (*probs)[order[j]] / s, {}, {}, {}, {}});
}

struct Dims {
  int S, N, D, H, KV, hd, qd, kvd, E;
  double scale;
};

// Attention of one layer on h1 (normed), into the cache; returns nothing.
void AttentionForward(const Net& n, int l, const Dims& d, LayerCache* L) {
  const double eps = n.c.rms_eps;
  for (int t = 0; t < d.N; ++t) {
    L->r1[t] = RmsNorm(L->x[t], n.W(Blk(l, "attn_norm.weight")), eps, &L->h1[t]);
    L->qr[t] = MatVec(n.W(Blk(l, "attn_q.weight")), L->h1[t], d.qd, d.D);
    L->kr[t] = MatVec(n.W(Blk(l, "attn_k.weight")), L->h1[t], d.kvd, d.D);
    L->v[t] = MatVec(n.W(Blk(l, "attn_v.weight")), L->h1[t], d.kvd, d.D);
    Rope(&L->qr[t], d.H, d.hd, t % d.S, n.c.rope_base, 1.0);
    Rope(&L->kr[t], d.KV, d.hd, t % d.S, n.c.rope_base, 1.0);
  }
  const int n_seqs = d.N / d.S;
  L->probs.assign(static_cast<size_t>(n_seqs) * d.H, Vec(static_cast<size_t>(d.S) * d.S, 0.0));
  for (int t = 0; t < d.N; ++t) L->o[t].assign(d.qd, 0.0);
  for (int b = 0; b < n_seqs; ++b) {
    for (int h = 0; h < d.H; ++h) {
      const int kh = h / (d.H / d.KV);
      Vec& P = L->probs[static_cast<size_t>(b) * d.H + h];
      for (int i = 0; i < d.S; ++i) {
        const int ti = b * d.S + i;
        double mx = -1e300;
        for (int j = 0; j <= i; ++j) {
          double s = 0;
          for (int e = 0; e < d.hd; ++e) s += L->qr[ti][h * d.hd + e] * L->kr[b * d.S + j][kh * d.hd + e];
          P[static_cast<size_t>(i) * d.S + j] = s * d.scale;
          mx = std::max(mx, s * d.scale);
        }
        double sum = 0;
        for (int j = 0; j <= i; ++j)
          sum += (P[static_cast<size_t>(i) * d.S + j] = std::exp(P[static_cast<size_t>(i) * d.S + j] - mx));
        for (int j = 0; j <= i; ++j) {
          const double p = P[static_cast<size_t>(i) * d.S + j] /= sum;
          for (int e = 0; e < d.hd; ++e) L->o[ti][h * d.hd + e] += p * L->v[b * d.S + j][kh * d.hd + e];
        }
      }
    }
  }
  for (int t = 0; t < d.N; ++t) {
    Vec a = MatVec(n.W(Blk(l, "attn_output.weight")), L->o[t], d.D, d.qd);
    L->xm[t] = L->x[t];
    for (int i = 0; i < d.D; ++i) L->xm[t][i] += a[i];
  }
}

void FfnForward(const Net& n, int l, const Dims& d, LayerCache* L, std::vector<Vec>* x_out, NaiveTrainResult* res,
                double balance_coef, double z_coef) {
  const TrainModelConfig& c = n.c;
  std::vector<double> f(std::max(1, d.E), 0.0), P(std::max(1, d.E), 0.0);
  double zsum = 0;
  for (int t = 0; t < d.N; ++t) {
    L->r2[t] = RmsNorm(L->xm[t], n.W(Blk(l, "ffn_norm.weight")), c.rms_eps, &L->h2[t]);
    std::vector<Slot>& slots = L->slots[t];
    slots.clear();
    if (d.E == 0) {
      slots.push_back({0, 1.0, {}, {}, {}, {}});
    } else {
      L->rl[t] = MatVec(n.W(Blk(l, "ffn_gate_inp.weight")), L->h2[t], d.E, d.D);
      Route(c, L->rl[t], &L->rp[t], &L->lse[t], &slots);
      for (const Slot& s : slots) ++f[s.expert], res->selections.push_back(s.expert);
      for (int e = 0; e < d.E; ++e) P[e] += L->rp[t][e];
      zsum += L->lse[t] * L->lse[t];
    }
    (*x_out)[t] = L->xm[t];
    for (Slot& s : slots) {
      ExpertForward(n, l, L->h2[t], &s);
      for (int i = 0; i < d.D; ++i) (*x_out)[t][i] += s.weight * s.y[i];
    }
  }
  if (d.E == 0) return;
  double bal = 0;
  for (int e = 0; e < d.E; ++e) bal += f[e] / (static_cast<double>(d.N) * c.n_experts_active) * P[e] / d.N;
  res->loss += balance_coef * d.E * bal + z_coef * zsum / d.N;
}

void FfnBackward(const Net& n, int l, const Dims& d, const LayerCache& L, std::vector<Vec>* dx, double balance_coef,
                 double z_coef) {
  const TrainModelConfig& c = n.c;
  std::vector<double> f(std::max(1, d.E), 0.0);
  for (int t = 0; t < d.N && d.E > 0; ++t) {
    for (const Slot& s : L.slots[t]) f[s.expert] += 1.0 / (static_cast<double>(d.N) * c.n_experts_active);
  }
  for (int t = 0; t < d.N; ++t) {
    const Vec dout = (*dx)[t];  // residual: dx stays, plus the FFN's input gradient below
    Vec dh2(d.D, 0.0);
    Vec dw(L.slots[t].size());
    for (size_t j = 0; j < L.slots[t].size(); ++j) {
      const Slot& s = L.slots[t][j];
      Vec dy(d.D);
      double dot = 0;
      for (int i = 0; i < d.D; ++i) dy[i] = s.weight * dout[i], dot += dout[i] * s.y[i];
      dw[j] = dot;
      ExpertBackward(n, l, L.h2[t], s, dy, &dh2);
    }
    if (d.E > 0) {
      Vec dp(d.E, 0.0);
      double wsum = 0, dotw = 0;
      for (size_t j = 0; j < dw.size(); ++j)
        wsum += L.rp[t][L.slots[t][j].expert], dotw += dw[j] * L.slots[t][j].weight;
      for (size_t j = 0; j < dw.size(); ++j) dp[L.slots[t][j].expert] += (dw[j] - dotw) / wsum;
      for (int e = 0; e < d.E; ++e) dp[e] += balance_coef * d.E * f[e] / d.N;
      double pdp = 0;
      for (int e = 0; e < d.E; ++e) pdp += L.rp[t][e] * dp[e];
      Vec dr(d.E);
      for (int e = 0; e < d.E; ++e) dr[e] = L.rp[t][e] * (dp[e] - pdp) + z_coef * 2 * L.lse[t] * L.rp[t][e] / d.N;
      MatVecBack(n.W(Blk(l, "ffn_gate_inp.weight")), n.g ? n.G(Blk(l, "ffn_gate_inp.weight")) : nullptr, L.h2[t], dr,
                 d.E, d.D, &dh2);
    }
    RmsNormBack(L.xm[t], n.W(Blk(l, "ffn_norm.weight")), L.r2[t], dh2, n.g ? n.G(Blk(l, "ffn_norm.weight")) : nullptr,
                &(*dx)[t]);
  }
}

void AttentionBackward(const Net& n, int l, const Dims& d, const LayerCache& L, std::vector<Vec>* dx) {
  const int n_seqs = d.N / d.S;
  std::vector<Vec> dO(d.N, Vec(d.qd, 0.0)), dq(d.N, Vec(d.qd, 0.0)), dk(d.N, Vec(d.kvd, 0.0)), dv(d.N, Vec(d.kvd, 0.0));
  for (int t = 0; t < d.N; ++t) {
    MatVecBack(n.W(Blk(l, "attn_output.weight")), n.g ? n.G(Blk(l, "attn_output.weight")) : nullptr, L.o[t], (*dx)[t],
               d.D, d.qd, &dO[t]);
  }
  for (int b = 0; b < n_seqs; ++b) {
    for (int h = 0; h < d.H; ++h) {
      const int kh = h / (d.H / d.KV);
      const Vec& P = L.probs[static_cast<size_t>(b) * d.H + h];
      for (int i = 0; i < d.S; ++i) {
        const int ti = b * d.S + i;
        Vec dP(i + 1);
        double rowdot = 0;
        for (int j = 0; j <= i; ++j) {
          double s = 0;
          for (int e = 0; e < d.hd; ++e) s += dO[ti][h * d.hd + e] * L.v[b * d.S + j][kh * d.hd + e];
          dP[j] = s;
          rowdot += P[static_cast<size_t>(i) * d.S + j] * s;
        }
        for (int j = 0; j <= i; ++j) {
          const double p = P[static_cast<size_t>(i) * d.S + j], ds = p * (dP[j] - rowdot) * d.scale;
          const int tj = b * d.S + j;
          for (int e = 0; e < d.hd; ++e) {
            dv[tj][kh * d.hd + e] += p * dO[ti][h * d.hd + e];
            dq[ti][h * d.hd + e] += ds * L.kr[tj][kh * d.hd + e];
            dk[tj][kh * d.hd + e] += ds * L.qr[ti][h * d.hd + e];
          }
        }
      }
    }
  }
  for (int t = 0; t < d.N; ++t) {
    Rope(&dq[t], d.H, d.hd, t % d.S, n.c.rope_base, -1.0);
    Rope(&dk[t], d.KV, d.hd, t % d.S, n.c.rope_base, -1.0);
    Vec dh1(d.D, 0.0);
    auto G = [&](const char* s) { return n.g ? n.G(Blk(l, s)) : nullptr; };
    MatVecBack(n.W(Blk(l, "attn_q.weight")), G("attn_q.weight"), L.h1[t], dq[t], d.qd, d.D, &dh1);
    MatVecBack(n.W(Blk(l, "attn_k.weight")), G("attn_k.weight"), L.h1[t], dk[t], d.kvd, d.D, &dh1);
    MatVecBack(n.W(Blk(l, "attn_v.weight")), G("attn_v.weight"), L.h1[t], dv[t], d.kvd, d.D, &dh1);
    RmsNormBack(L.x[t], n.W(Blk(l, "attn_norm.weight")), L.r1[t], dh1, G("attn_norm.weight"), &(*dx)[t]);
  }
}

}  // namespace

NaiveTrainResult NaiveTrainStep(const TrainModelConfig& c, const std::vector<ParamTensor>& layout,
                                const std::vector<double>& params, const std::vector<int32_t>& tokens, int n_seqs,
                                double balance_coef, double z_coef, bool want_grad) {
  NaiveTrainResult res;
  if (want_grad) res.grad.assign(params.size(), 0.0);
  Net net{c, {}, params.data(), want_grad ? res.grad.data() : nullptr};
  for (const ParamTensor& t : layout) net.off[t.name] = t.offset;
  Dims d;
  d.S = c.ctx_len, d.N = n_seqs * c.ctx_len, d.D = c.dim, d.H = c.n_heads, d.KV = c.n_kv_heads, d.hd = c.head_dim;
  d.qd = d.H * d.hd, d.kvd = d.KV * d.hd, d.E = c.n_experts;
  d.scale = 1.0 / std::sqrt(static_cast<double>(d.hd));
  auto at = [&](int t, int off) { return tokens[static_cast<size_t>(t / d.S) * (d.S + 1) + t % d.S + off]; };
  std::vector<LayerCache> lc(c.n_layers);
  std::vector<Vec> x(d.N, Vec(d.D));
  for (int t = 0; t < d.N; ++t) {
    for (int i = 0; i < d.D; ++i) x[t][i] = net.W("token_embd.weight")[static_cast<size_t>(at(t, 0)) * d.D + i];
  }
  for (int l = 0; l < c.n_layers; ++l) {
    LayerCache& L = lc[l];
    L.x = x;
    for (auto* v : {&L.h1, &L.qr, &L.kr, &L.v, &L.o, &L.xm, &L.h2, &L.rl, &L.rp}) v->resize(d.N);
    L.r1.resize(d.N), L.r2.resize(d.N), L.lse.resize(d.N), L.slots.resize(d.N);
    AttentionForward(net, l, d, &L);
    FfnForward(net, l, d, &L, &x, &res, balance_coef, z_coef);
  }
  const double* out = net.off.count("output.weight") ? net.W("output.weight") : net.W("token_embd.weight");
  double* gout = !want_grad                       ? nullptr
                 : net.off.count("output.weight") ? net.G("output.weight")
                                                  : net.G("token_embd.weight");
  std::vector<Vec> dx(d.N, Vec(d.D, 0.0));
  double ce = 0;
  for (int t = 0; t < d.N; ++t) {
    Vec hf;
    const double r = RmsNorm(x[t], net.W("output_norm.weight"), c.rms_eps, &hf);
    Vec logits = MatVec(out, hf, c.vocab_size, d.D);
    const double mx = *std::max_element(logits.begin(), logits.end());
    double sum = 0;
    for (double v : logits) sum += std::exp(v - mx);
    ce += mx + std::log(sum) - logits[at(t, 1)];
    if (!want_grad) continue;
    Vec dl(c.vocab_size), dhf(d.D, 0.0);
    for (int v = 0; v < c.vocab_size; ++v) dl[v] = std::exp(logits[v] - mx) / sum / d.N;
    dl[at(t, 1)] -= 1.0 / d.N;
    MatVecBack(out, gout, hf, dl, c.vocab_size, d.D, &dhf);
    RmsNormBack(x[t], net.W("output_norm.weight"), r, dhf, net.G("output_norm.weight"), &dx[t]);
  }
  res.loss += ce / d.N;
  if (!want_grad) return res;
  for (int l = c.n_layers - 1; l >= 0; --l) {
    FfnBackward(net, l, d, lc[l], &dx, balance_coef, z_coef);
    AttentionBackward(net, l, d, lc[l], &dx);
  }
  for (int t = 0; t < d.N; ++t) {
    for (int i = 0; i < d.D; ++i) net.G("token_embd.weight")[static_cast<size_t>(at(t, 0)) * d.D + i] += dx[t][i];
  }
  return res;
}

}  // namespace omnicoder::reference
