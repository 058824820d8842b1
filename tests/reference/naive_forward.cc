// Naive forward oracle (see naive_forward.h). Everything in double, nothing shared with
// src/model except the GGUF reader and the reference dequantizers.
#include "tests/reference/naive_forward.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "format/gguf.h"
#include "tensor/dtype.h"

namespace omnicoder::reference {

namespace {

using Vec = std::vector<double>;

struct Weights {
  const GgufFile* f;
  std::map<std::string, std::vector<float>> cache;
  const std::vector<float>* Get(const std::string& name) {
    auto it = cache.find(name);
    if (it != cache.end()) return &it->second;
    const GgufTensorInfo* t = f->FindTensor(name);
    if (!t) return nullptr;
    std::vector<float> v(t->n_elements());
    GetDTypeTraits(static_cast<DType>(t->type_id)).dequantize(t->data, v.data(), static_cast<int64_t>(v.size()));
    return &cache.emplace(name, std::move(v)).first->second;
  }
};

// y = W x for W stored [rows][cols] (GGUF dims {cols, rows}), optionally expert e of a 3-D tensor.
Vec MatVec(const std::vector<float>& w, const Vec& x, int rows, int e = 0) {
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

Vec RmsNorm(const Vec& x, const float* w, double eps, size_t off = 0, size_t n = 0) {
  if (n == 0) n = x.size();
  double ss = 0;
  for (size_t i = 0; i < n; ++i) ss += x[off + i] * x[off + i];
  const double scale = 1.0 / std::sqrt(ss / n + eps);
  Vec y(n);
  for (size_t i = 0; i < n; ++i) y[i] = x[off + i] * scale * w[i];
  return y;
}

void Rope(Vec& v, int n_heads, int hd, int n_rot, int pos, double base, bool neox) {
  for (int h = 0; h < n_heads; ++h) {
    for (int i = 0; i < n_rot / 2; ++i) {
      const double theta = pos * std::pow(base, -2.0 * i / n_rot);
      const int a = h * hd + (neox ? i : 2 * i), b = h * hd + (neox ? i + n_rot / 2 : 2 * i + 1);
      const double x0 = v[a], x1 = v[b];
      v[a] = x0 * std::cos(theta) - x1 * std::sin(theta);
      v[b] = x0 * std::sin(theta) + x1 * std::cos(theta);
    }
  }
}

double Silu(double x) { return x / (1.0 + std::exp(-x)); }

Vec Swiglu(Weights& w, const std::string& gate, const std::string& up, const std::string& down, const Vec& x, int ffn,
           int dim, int e = 0) {
  Vec g = MatVec(*w.Get(gate), x, ffn, e), u = MatVec(*w.Get(up), x, ffn, e);
  for (int i = 0; i < ffn; ++i) g[i] = Silu(g[i]) * u[i];
  return MatVec(*w.Get(down), g, dim, e);
}

uint64_t U(const GgufFile& f, const std::string& k, uint64_t def) {
  Result<uint64_t> r = f.GetUintOr(k, def);
  return r.ok() ? r.value() : def;
}

}  // namespace

Result<std::vector<float>> NaiveLogits(const std::string& path, const std::vector<int32_t>& tokens) {
  OC_ASSIGN_OR_RETURN(std::unique_ptr<GgufFile> file, GgufFile::Open(path));
  const GgufFile& f = *file;
  OC_ASSIGN_OR_RETURN(std::string_view arch_sv, f.GetString("general.architecture"));
  const std::string a(arch_sv);
  const int dim = static_cast<int>(U(f, a + ".embedding_length", 0));
  const int n_layers = static_cast<int>(U(f, a + ".block_count", 0));
  const int n_heads = static_cast<int>(U(f, a + ".attention.head_count", 0));
  const int n_kv = static_cast<int>(U(f, a + ".attention.head_count_kv", n_heads));
  const int hd = static_cast<int>(U(f, a + ".attention.key_length", dim / n_heads));
  const int n_rot = static_cast<int>(U(f, a + ".rope.dimension_count", hd));
  const int n_exp = static_cast<int>(U(f, a + ".expert_count", 0));
  const int k_exp = static_cast<int>(U(f, a + ".expert_used_count", 0));
  const double eps = f.GetFloatOr(a + ".attention.layer_norm_rms_epsilon", 1e-5).value();
  const double base = f.GetFloatOr(a + ".rope.freq_base", 10000.0).value();
  const bool neox = a != "llama";
  const bool norm_topk = a == "llama" || a == "qwen3moe";
  Weights w{&f, {}};
  const GgufTensorInfo* emb = f.FindTensor("token_embd.weight");
  if (!emb) return NotFound("token_embd.weight");
  const int vocab = static_cast<int>(emb->dims[1]);
  const int T = static_cast<int>(tokens.size());
  std::vector<Vec> x(T, Vec(dim));
  for (int t = 0; t < T; ++t) {
    const std::vector<float>& e = *w.Get("token_embd.weight");
    for (int i = 0; i < dim; ++i) x[t][i] = e[static_cast<size_t>(tokens[t]) * dim + i];
  }
  const int q_dim = n_heads * hd, kv_dim = n_kv * hd;
  for (int il = 0; il < n_layers; ++il) {
    auto n = [il](const char* s) { return "blk." + std::to_string(il) + "." + s; };
    std::vector<Vec> q(T), k(T), v(T);
    for (int t = 0; t < T; ++t) {
      Vec h = RmsNorm(x[t], w.Get(n("attn_norm.weight"))->data(), eps);
      q[t] = MatVec(*w.Get(n("attn_q.weight")), h, q_dim);
      k[t] = MatVec(*w.Get(n("attn_k.weight")), h, kv_dim);
      v[t] = MatVec(*w.Get(n("attn_v.weight")), h, kv_dim);
      for (auto [vec, bias] : {std::pair{&q[t], "attn_q.bias"}, {&k[t], "attn_k.bias"}, {&v[t], "attn_v.bias"}}) {
        if (const std::vector<float>* b = w.Get(n(bias))) {
          for (size_t i = 0; i < vec->size(); ++i) (*vec)[i] += (*b)[i];
        }
      }
      for (auto [vec, heads, name] : {std::tuple{&q[t], n_heads, "attn_q_norm.weight"},
                                      std::tuple{&k[t], n_kv, "attn_k_norm.weight"}}) {
        const std::vector<float>* nw = w.Get(n(name));
        if (!nw) continue;
        if (static_cast<int>(nw->size()) == hd) {
          for (int hh = 0; hh < heads; ++hh) {
            Vec y = RmsNorm(*vec, nw->data(), eps, static_cast<size_t>(hh) * hd, hd);
            std::copy(y.begin(), y.end(), vec->begin() + static_cast<size_t>(hh) * hd);
          }
        } else {
          *vec = RmsNorm(*vec, nw->data(), eps);
        }
      }
      Rope(q[t], n_heads, hd, n_rot, t, base, neox);
      Rope(k[t], n_kv, hd, n_rot, t, base, neox);
    }
    for (int t = 0; t < T; ++t) {
      Vec att(q_dim, 0.0);
      for (int h = 0; h < n_heads; ++h) {
        const int kh = h / (n_heads / n_kv);
        Vec s(t + 1);
        double mx = -1e300;
        for (int p = 0; p <= t; ++p) {
          double d = 0;
          for (int i = 0; i < hd; ++i) d += q[t][h * hd + i] * k[p][kh * hd + i];
          s[p] = d / std::sqrt(static_cast<double>(hd));
          mx = std::max(mx, s[p]);
        }
        double sum = 0;
        for (double& e : s) sum += (e = std::exp(e - mx));
        for (int p = 0; p <= t; ++p) {
          for (int i = 0; i < hd; ++i) att[h * hd + i] += s[p] / sum * v[p][kh * hd + i];
        }
      }
      Vec o = MatVec(*w.Get(n("attn_output.weight")), att, dim);
      for (int i = 0; i < dim; ++i) x[t][i] += o[i];
    }
    for (int t = 0; t < T; ++t) {
      Vec h = RmsNorm(x[t], w.Get(n("ffn_norm.weight"))->data(), eps);
      Vec out(dim, 0.0);
      if (!w.Get(n("ffn_gate_inp.weight"))) {
        const int ffn = static_cast<int>(U(f, a + ".feed_forward_length", 0));
        out = Swiglu(w, n("ffn_gate.weight"), n("ffn_up.weight"), n("ffn_down.weight"), h, ffn, dim);
      } else {
        const int eff = static_cast<int>(U(f, a + ".expert_feed_forward_length", U(f, a + ".feed_forward_length", 0)));
        Vec logits = MatVec(*w.Get(n("ffn_gate_inp.weight")), h, n_exp);
        const double mx = *std::max_element(logits.begin(), logits.end());
        double sum = 0;
        for (double& l : logits) sum += (l = std::exp(l - mx));
        for (double& l : logits) l /= sum;
        std::vector<int> order(n_exp);
        for (int e = 0; e < n_exp; ++e) order[e] = e;
        std::stable_sort(order.begin(), order.end(), [&](int p, int r) { return logits[p] > logits[r]; });
        double wsum = 0;
        for (int j = 0; j < k_exp; ++j) wsum += logits[order[j]];
        for (int j = 0; j < k_exp; ++j) {
          const int e = order[j];
          const double we = norm_topk ? logits[e] / wsum : logits[e];
          Vec y = Swiglu(w, n("ffn_gate_exps.weight"), n("ffn_up_exps.weight"), n("ffn_down_exps.weight"), h, eff,
                         dim, e);
          for (int i = 0; i < dim; ++i) out[i] += we * y[i];
        }
        if (w.Get(n("ffn_up_shexp.weight"))) {
          const int sff = static_cast<int>(U(f, a + ".expert_shared_feed_forward_length", 0));
          Vec y = Swiglu(w, n("ffn_gate_shexp.weight"), n("ffn_up_shexp.weight"), n("ffn_down_shexp.weight"), h, sff,
                         dim);
          double g = 1.0;
          if (const std::vector<float>* gw = w.Get(n("ffn_gate_inp_shexp.weight"))) {
            double d = 0;
            for (int i = 0; i < dim; ++i) d += (*gw)[i] * h[i];
            g = 1.0 / (1.0 + std::exp(-d));
          }
          for (int i = 0; i < dim; ++i) out[i] += g * y[i];
        }
      }
      for (int i = 0; i < dim; ++i) x[t][i] += out[i];
    }
  }
  Vec h = RmsNorm(x[T - 1], w.Get("output_norm.weight")->data(), eps);
  const std::vector<float>* out = w.Get("output.weight");
  if (!out) out = w.Get("token_embd.weight");
  Vec logits = MatVec(*out, h, vocab);
  return std::vector<float>(logits.begin(), logits.end());
}

}  // namespace omnicoder::reference
