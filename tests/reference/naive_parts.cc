// Oracle parts: weights, hyperparameters, RoPE (with YaRN), and the FFN / MoE math.
#include "tests/reference/naive_parts.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "tensor/dtype.h"

namespace omnicoder::reference {

namespace {

uint64_t U(const GgufFile& f, const std::string& k, uint64_t def) {
  Result<uint64_t> r = f.GetUintOr(k, def);
  return r.ok() ? r.value() : def;
}
double F(const GgufFile& f, const std::string& k, double def) {
  Result<double> r = f.GetFloatOr(k, def);
  return r.ok() ? r.value() : def;
}
bool B(const GgufFile& f, const std::string& k, bool def) {
  if (!f.Find(k)) return def;
  Result<bool> r = f.GetBool(k);
  return r.ok() ? r.value() : def;
}

double Silu(double x) {
  return x / (1.0 + std::exp(-x));
}

std::string Blk(int il, const std::string& s) {
  return "blk." + std::to_string(il) + "." + s;
}

void ReadRope(const GgufFile& f, const std::string& a, Hyper* h) {
  const GgufValue* st = f.Find(a + ".rope.scaling.type");
  const std::string type = st && st->type == GgufType::kString ? std::string(st->str) : "linear";
  const double factor = F(f, a + ".rope.scaling.factor", 0.0);
  if (type != "none" && factor > 0) h->freq_scale = 1.0 / factor;
  if (type != "yarn") return;
  h->ext = 1.0;
  const double orig = static_cast<double>(U(f, a + ".rope.scaling.original_context_length", 0));
  auto corr = [&](double n_rot) { return h->n_rot * std::log(orig / (n_rot * 2 * M_PI)) / (2 * std::log(h->base)); };
  h->corr_low = std::max(0.0, std::floor(corr(32.0)));
  h->corr_high = std::min(h->n_rot - 1.0, std::ceil(corr(1.0)));
  double log_mul = F(f, a + ".rope.scaling.yarn_log_multiplier", 0.0);
  const bool deepseek = h->arch == "deepseek2";
  if (deepseek) log_mul /= 0.1;
  auto mscale = [&](double m) { return factor <= 1 ? 1.0 : 0.1 * m * std::log(factor) + 1.0; };
  // llama.cpp's attention factor, then ggml multiplies cos/sin by it times (1 + 0.1 ln f).
  double attn = log_mul != 0 ? mscale(deepseek && log_mul != 1 ? log_mul : 1.0) / mscale(log_mul) : mscale(1.0);
  attn /= 1.0 + 0.1 * std::log(factor);
  h->rope_mag = attn * (1.0 + 0.1 * std::log(factor));
  if (deepseek) {
    const double m = h->rope_mag * (1.0 + 0.1 * log_mul * std::log(factor));
    h->kq_scale = m * m / std::sqrt(static_cast<double>(h->head_dim));
  }
}

}  // namespace

const std::vector<float>* Weights::Get(const std::string& name) {
  auto it = cache.find(name);
  if (it != cache.end()) return &it->second;
  const GgufTensorInfo* t = f->FindTensor(name);
  if (!t) return nullptr;
  std::vector<float> v(t->n_elements());
  GetDTypeTraits(static_cast<DType>(t->type_id)).dequantize(t->data, v.data(), static_cast<int64_t>(v.size()));
  return &cache.emplace(name, std::move(v)).first->second;
}

const std::vector<float>& Weights::Need(const std::string& name) {
  const std::vector<float>* v = Get(name);
  EXPECT_NE(v, nullptr) << "oracle: tensor " << name << " missing";
  static const std::vector<float> empty(1 << 20, 0.0f);
  return v ? *v : empty;
}

Hyper ReadHyper(const GgufFile& f) {
  Hyper h;
  h.arch = std::string(f.GetString("general.architecture").value());
  const std::string a = h.arch;
  h.dim = static_cast<int>(U(f, a + ".embedding_length", 0));
  h.n_layers = static_cast<int>(U(f, a + ".block_count", 0));
  h.n_heads = static_cast<int>(U(f, a + ".attention.head_count", 0));
  h.n_kv = static_cast<int>(U(f, a + ".attention.head_count_kv", h.n_heads));
  h.head_dim = static_cast<int>(U(f, a + ".attention.key_length", h.dim / h.n_heads));
  h.v_dim = static_cast<int>(U(f, a + ".attention.value_length", h.head_dim));
  if (a == "deepseek2") {
    h.head_dim = static_cast<int>(U(f, a + ".attention.key_length_mla", 0));
    h.v_dim = static_cast<int>(U(f, a + ".attention.value_length_mla", 0));
    h.kv_rank = static_cast<int>(U(f, a + ".attention.kv_lora_rank", 0));
    h.q_rank = static_cast<int>(U(f, a + ".attention.q_lora_rank", 0));
  }
  h.n_rot = static_cast<int>(U(f, a + ".rope.dimension_count", h.head_dim));
  h.nope = h.head_dim - h.n_rot;
  h.n_exp = static_cast<int>(U(f, a + ".expert_count", 0));
  h.k_exp = static_cast<int>(U(f, a + ".expert_used_count", 0));
  h.leading_dense = static_cast<int>(U(f, a + ".leading_dense_block_count", 0));
  h.window = static_cast<int>(U(f, a + ".attention.sliding_window", 0));
  h.window_period = static_cast<int>(U(f, a + ".attention.sliding_window_pattern", 2));
  h.eps = F(f, a + ".attention.layer_norm_rms_epsilon", 1e-5);
  h.base = F(f, a + ".rope.freq_base", 10000.0);
  h.base_swa = F(f, a + ".rope.freq_base_swa", h.base);
  h.neox = a != "llama" && a != "deepseek2";
  h.norm_topk = a == "llama" || a == "qwen3moe" || B(f, a + ".expert_weights_norm", false);
  h.gating = a == "gpt-oss" ? 3 : static_cast<int>(U(f, a + ".expert_gating_func", 1));
  const double ws = F(f, a + ".expert_weights_scale", 0.0);
  h.w_scale = ws == 0.0 ? 1.0 : ws;
  h.groups = std::max<int>(1, static_cast<int>(U(f, a + ".expert_group_count", 1)));
  h.groups_used = static_cast<int>(U(f, a + ".expert_group_used_count", h.groups));
  ReadRope(f, a, &h);
  if (h.kq_scale == 0.0) h.kq_scale = 1.0 / std::sqrt(static_cast<double>(h.head_dim));
  return h;
}

Vec MatVec(const std::vector<float>& w, const Vec& x, int rows, int e) {
  const size_t cols = x.size();
  Vec y(rows, 0.0);
  const float* base = w.data() + static_cast<size_t>(e) * rows * cols;
  for (int r = 0; r < rows; ++r) {
    double s = 0;
    for (size_t c = 0; c < cols; ++c) s += static_cast<double>(base[r * cols + c]) * x[c];
    y[r] = s;
  }
  return y;
}

Vec RmsNorm(const Vec& x, const float* w, double eps, size_t off, size_t n) {
  if (n == 0) n = x.size();
  double ss = 0;
  for (size_t i = 0; i < n; ++i) ss += x[off + i] * x[off + i];
  const double scale = 1.0 / std::sqrt(ss / n + eps);
  Vec y(n);
  for (size_t i = 0; i < n; ++i) y[i] = x[off + i] * scale * w[i];
  return y;
}

void Rope(const Hyper& h, Vec& v, int n_heads, int hd, int off, int pos, double base) {
  for (int hh = 0; hh < n_heads; ++hh) {
    for (int i = 0; i < h.n_rot / 2; ++i) {
      const double extrap = pos * std::pow(base, -2.0 * i / h.n_rot), interp = h.freq_scale * extrap;
      double theta = interp;
      if (h.ext != 0) {
        const double y = (i - h.corr_low) / std::max(0.001, h.corr_high - h.corr_low);
        const double ramp = (1 - std::min(1.0, std::max(0.0, y))) * h.ext;
        theta = interp * (1 - ramp) + extrap * ramp;
      }
      const double c = std::cos(theta) * h.rope_mag, s = std::sin(theta) * h.rope_mag;
      const int a = hh * hd + off + (h.neox ? i : 2 * i), b = hh * hd + off + (h.neox ? i + h.n_rot / 2 : 2 * i + 1);
      const double x0 = v[a], x1 = v[b];
      v[a] = x0 * c - x1 * s;
      v[b] = x0 * s + x1 * c;
    }
  }
}

namespace {

// gate/up/down (+ biases) of expert e (or the dense FFN when e < 0) on x.
Vec Expert(Weights& w, const Hyper& h, int il, const std::string& sfx, int ffn, int e, const Vec& x) {
  const int E = e < 0 ? 0 : e;
  Vec g = MatVec(w.Need(Blk(il, "ffn_gate" + sfx + ".weight")), x, ffn, E);
  Vec u = MatVec(w.Need(Blk(il, "ffn_up" + sfx + ".weight")), x, ffn, E);
  if (const std::vector<float>* gb = w.Get(Blk(il, "ffn_gate" + sfx + ".bias"))) {
    for (int i = 0; i < ffn; ++i) g[i] += (*gb)[static_cast<size_t>(E) * ffn + i];
  }
  if (const std::vector<float>* ub = w.Get(Blk(il, "ffn_up" + sfx + ".bias"))) {
    for (int i = 0; i < ffn; ++i) u[i] += (*ub)[static_cast<size_t>(E) * ffn + i];
  }
  for (int i = 0; i < ffn; ++i) {
    if (h.arch == "gpt-oss") {  // clamped SwiGLU, alpha 1.702, limit 7
      const double gx = std::min(g[i], 7.0), ux = std::clamp(u[i], -7.0, 7.0);
      g[i] = gx / (1.0 + std::exp(-1.702 * gx)) * (ux + 1.0);
    } else {
      g[i] = Silu(g[i]) * u[i];
    }
  }
  Vec y = MatVec(w.Need(Blk(il, "ffn_down" + sfx + ".weight")), g, h.dim, E);
  if (const std::vector<float>* db = w.Get(Blk(il, "ffn_down" + sfx + ".bias"))) {
    for (int i = 0; i < h.dim; ++i) y[i] += (*db)[static_cast<size_t>(E) * h.dim + i];
  }
  return y;
}

// The chosen experts and their weights for one token.
std::vector<std::pair<int, double>> Route(Weights& w, const Hyper& h, int il, const Vec& x) {
  const int E = h.n_exp;
  Vec logit = MatVec(w.Need(Blk(il, "ffn_gate_inp.weight")), x, E);
  if (const std::vector<float>* b = w.Get(Blk(il, "ffn_gate_inp.bias"))) {
    for (int e = 0; e < E; ++e) logit[e] += (*b)[e];
  }
  Vec p(E), score(E);
  const double mx = *std::max_element(logit.begin(), logit.end());
  double sum = 0;
  for (int e = 0; e < E; ++e) sum += std::exp(logit[e] - mx);
  for (int e = 0; e < E; ++e) {
    p[e] = h.gating == 1 ? std::exp(logit[e] - mx) / sum : h.gating == 2 ? 1.0 / (1.0 + std::exp(-logit[e])) : logit[e];
  }
  const std::vector<float>* bias = w.Get(Blk(il, "exp_probs_b.bias"));
  for (int e = 0; e < E; ++e) score[e] = p[e] + (bias ? (*bias)[e] : 0.0);
  if (h.groups > 1) {  // keep the groups whose two best scores sum highest
    const int per = E / h.groups;
    std::vector<std::pair<double, int>> gs;
    for (int g = 0; g < h.groups; ++g) {
      Vec s(score.begin() + g * per, score.begin() + (g + 1) * per);
      std::sort(s.rbegin(), s.rend());
      gs.push_back({s[0] + s[1], g});
    }
    std::stable_sort(gs.begin(), gs.end(), [](auto& l, auto& r) { return l.first > r.first; });
    for (int j = h.groups_used; j < h.groups; ++j) {
      for (int e = gs[j].second * per; e < (gs[j].second + 1) * per; ++e) score[e] = -1e300;
    }
  }
  std::vector<int> order(E);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int l, int r) { return score[l] > score[r]; });
  std::vector<std::pair<int, double>> chosen;
  for (int j = 0; j < h.k_exp; ++j) chosen.push_back({order[j], p[order[j]]});
  if (h.gating == 3) {
    double m = -1e300, s = 0;
    for (auto& c : chosen) m = std::max(m, c.second);
    for (auto& c : chosen) s += std::exp(c.second - m);
    for (auto& c : chosen) c.second = std::exp(c.second - m) / s;
  }
  if (h.norm_topk) {
    double s = 0;
    for (auto& c : chosen) s += c.second;
    for (auto& c : chosen) c.second /= std::max(s, 6.103515625e-5);
  }
  for (auto& c : chosen) c.second *= h.w_scale;
  return chosen;
}

}  // namespace

Vec FfnForward(Weights& w, const Hyper& h, int il, const Vec& x) {
  const GgufFile& f = *w.f;
  if (!w.Get(Blk(il, "ffn_gate_inp.weight"))) {
    return Expert(w, h, il, "", static_cast<int>(f.FindTensor(Blk(il, "ffn_gate.weight"))->dims[1]), -1, x);
  }
  const int eff = static_cast<int>(f.FindTensor(Blk(il, "ffn_gate_exps.weight"))->dims[1]);
  Vec out(h.dim, 0.0);
  for (const auto& [e, we] : Route(w, h, il, x)) {
    const Vec y = Expert(w, h, il, "_exps", eff, e, x);
    for (int i = 0; i < h.dim; ++i) out[i] += we * y[i];
  }
  if (const GgufTensorInfo* sh = f.FindTensor(Blk(il, "ffn_up_shexp.weight"))) {
    const Vec y = Expert(w, h, il, "_shexp", static_cast<int>(sh->dims[1]), -1, x);
    double g = 1.0;
    if (const std::vector<float>* gw = w.Get(Blk(il, "ffn_gate_inp_shexp.weight"))) {
      double d = 0;
      for (int i = 0; i < h.dim; ++i) d += (*gw)[i] * x[i];
      g = 1.0 / (1.0 + std::exp(-d));
    }
    for (int i = 0; i < h.dim; ++i) out[i] += g * y[i];
  }
  return out;
}

}  // namespace omnicoder::reference
