// Naive forward oracle (see naive_forward.h). Everything in double, nothing shared with
// src/model except the GGUF reader and the reference dequantizers. MLA is evaluated in
// its expanded form (per-head K and V rebuilt from the latent), the opposite of the
// engine's absorbed form, so the two check each other.
#include "tests/reference/naive_forward.h"

#include <algorithm>
#include <cmath>

#include "tests/reference/naive_parts.h"

namespace omnicoder::reference {

namespace {

std::string Blk(int il, const char* s) {
  return "blk." + std::to_string(il) + "." + s;
}

struct Qkv {
  std::vector<Vec> q, k, v;  // per token: [n_heads * hd], [n_kv * hd], [n_kv * v_dim]
  int n_kv, hd, vd;
};

void AddBias(Weights& w, const std::string& name, Vec* x) {
  if (const std::vector<float>* b = w.Get(name)) {
    for (size_t i = 0; i < x->size(); ++i) (*x)[i] += (*b)[i];
  }
}

// q/k RMSNorm: per head when the weight has head_dim values, else over the whole row.
void QkNorm(Weights& w, const Hyper& h, const std::string& name, int heads, Vec* x) {
  const std::vector<float>* nw = w.Get(name);
  if (!nw) return;
  if (static_cast<int>(nw->size()) == h.head_dim) {
    for (int hh = 0; hh < heads; ++hh) {
      Vec y = RmsNorm(*x, nw->data(), h.eps, static_cast<size_t>(hh) * h.head_dim, h.head_dim);
      std::copy(y.begin(), y.end(), x->begin() + static_cast<size_t>(hh) * h.head_dim);
    }
  } else {
    *x = RmsNorm(*x, nw->data(), h.eps);
  }
}

Qkv GqaProject(Weights& w, const Hyper& h, int il, const std::vector<Vec>& xn, double base) {
  Qkv r{{}, {}, {}, h.n_kv, h.head_dim, h.v_dim};
  for (size_t t = 0; t < xn.size(); ++t) {
    Vec q = MatVec(w.Need(Blk(il, "attn_q.weight")), xn[t], h.n_heads * h.head_dim);
    Vec k = MatVec(w.Need(Blk(il, "attn_k.weight")), xn[t], h.n_kv * h.head_dim);
    Vec v = MatVec(w.Need(Blk(il, "attn_v.weight")), xn[t], h.n_kv * h.v_dim);
    AddBias(w, Blk(il, "attn_q.bias"), &q);
    AddBias(w, Blk(il, "attn_k.bias"), &k);
    AddBias(w, Blk(il, "attn_v.bias"), &v);
    QkNorm(w, h, Blk(il, "attn_q_norm.weight"), h.n_heads, &q);
    QkNorm(w, h, Blk(il, "attn_k_norm.weight"), h.n_kv, &k);
    Rope(h, q, h.n_heads, h.head_dim, 0, static_cast<int>(t), base);
    Rope(h, k, h.n_kv, h.head_dim, 0, static_cast<int>(t), base);
    r.q.push_back(q), r.k.push_back(k), r.v.push_back(v);
  }
  return r;
}

// MLA expanded: k_h = [W_kb[h]^T c | k_pe], v_h = W_vb[h] c, q_h = [q_nope | q_pe].
Qkv MlaProject(Weights& w, const Hyper& h, int il, const std::vector<Vec>& xn) {
  const int H = h.n_heads, rank = h.kv_rank, hd = h.head_dim;
  Qkv r{{}, {}, {}, H, hd, h.v_dim};
  const std::vector<float>& kb = w.Need(Blk(il, "attn_k_b.weight"));  // [H][rank][nope]
  const std::vector<float>& vb = w.Need(Blk(il, "attn_v_b.weight"));  // [H][v_dim][rank]
  for (size_t t = 0; t < xn.size(); ++t) {
    Vec q;
    if (h.q_rank > 0) {
      Vec qa = MatVec(w.Need(Blk(il, "attn_q_a.weight")), xn[t], h.q_rank);
      qa = RmsNorm(qa, w.Need(Blk(il, "attn_q_a_norm.weight")).data(), h.eps);
      q = MatVec(w.Need(Blk(il, "attn_q_b.weight")), qa, H * hd);
    } else {
      q = MatVec(w.Need(Blk(il, "attn_q.weight")), xn[t], H * hd);
    }
    Rope(h, q, H, hd, h.nope, static_cast<int>(t), h.base);
    Vec kva = MatVec(w.Need(Blk(il, "attn_kv_a_mqa.weight")), xn[t], rank + h.n_rot);
    const Vec c = RmsNorm(kva, w.Need(Blk(il, "attn_kv_a_norm.weight")).data(), h.eps, 0, rank);
    Vec pe(kva.begin() + rank, kva.end());
    Rope(h, pe, 1, h.n_rot, 0, static_cast<int>(t), h.base);
    Vec k(static_cast<size_t>(H) * hd), v(static_cast<size_t>(H) * h.v_dim);
    for (int hh = 0; hh < H; ++hh) {
      for (int d = 0; d < h.nope; ++d) {
        double s = 0;
        for (int j = 0; j < rank; ++j) s += kb[(static_cast<size_t>(hh) * rank + j) * h.nope + d] * c[j];
        k[static_cast<size_t>(hh) * hd + d] = s;
      }
      for (int d = 0; d < h.n_rot; ++d) k[static_cast<size_t>(hh) * hd + h.nope + d] = pe[d];
      for (int d = 0; d < h.v_dim; ++d) {
        double s = 0;
        for (int j = 0; j < rank; ++j) s += vb[(static_cast<size_t>(hh) * h.v_dim + d) * rank + j] * c[j];
        v[static_cast<size_t>(hh) * h.v_dim + d] = s;
      }
    }
    r.q.push_back(q), r.k.push_back(k), r.v.push_back(v);
  }
  return r;
}

// Causal attention of every token (window > 0: only the last `window` positions), with
// optional per-head sink logits in the softmax denominator.
std::vector<Vec> Attend(const Hyper& h, const Qkv& p, int window, const std::vector<float>* sinks) {
  const int T = static_cast<int>(p.q.size()), group = h.n_heads / p.n_kv;
  std::vector<Vec> out(T, Vec(static_cast<size_t>(h.n_heads) * p.vd, 0.0));
  for (int t = 0; t < T; ++t) {
    const int lo = window > 0 ? std::max(0, t - window + 1) : 0;
    for (int hh = 0; hh < h.n_heads; ++hh) {
      const int kh = hh / group;
      Vec s(t + 1 - lo);
      double mx = -1e300;
      for (int j = lo; j <= t; ++j) {
        double d = 0;
        for (int i = 0; i < p.hd; ++i) d += p.q[t][hh * p.hd + i] * p.k[j][kh * p.hd + i];
        s[j - lo] = d * h.kq_scale;
        mx = std::max(mx, s[j - lo]);
      }
      if (sinks) mx = std::max(mx, static_cast<double>((*sinks)[hh]));
      double sum = sinks ? std::exp((*sinks)[hh] - mx) : 0.0;
      for (double& e : s) sum += (e = std::exp(e - mx));
      for (int j = lo; j <= t; ++j) {
        for (int i = 0; i < p.vd; ++i) out[t][hh * p.vd + i] += s[j - lo] / sum * p.v[j][kh * p.vd + i];
      }
    }
  }
  return out;
}

}  // namespace

Result<std::vector<std::vector<float>>> NaiveLogitsAt(const std::string& path, const std::vector<int32_t>& tokens,
                                                      const std::vector<int>& ends) {
  for (int e : ends) {
    if (e < 1 || static_cast<size_t>(e) > tokens.size()) return InvalidArgument("prefix end out of range");
  }
  OC_ASSIGN_OR_RETURN(std::unique_ptr<GgufFile> file, GgufFile::Open(path));
  const GgufFile& f = *file;
  const Hyper h = ReadHyper(f);
  Weights w{&f, {}};
  const GgufTensorInfo* emb = f.FindTensor("token_embd.weight");
  if (!emb) return NotFound("token_embd.weight");
  const int vocab = static_cast<int>(emb->dims[1]);
  const int T = static_cast<int>(tokens.size());
  std::vector<Vec> x(T, Vec(h.dim));
  for (int t = 0; t < T; ++t) {
    const std::vector<float>& e = w.Need("token_embd.weight");
    for (int i = 0; i < h.dim; ++i) x[t][i] = e[static_cast<size_t>(tokens[t]) * h.dim + i];
  }
  const char* ffn_norm = h.arch == "gpt-oss" ? "post_attention_norm.weight" : "ffn_norm.weight";
  for (int il = 0; il < h.n_layers; ++il) {
    std::vector<Vec> xn(T);
    for (int t = 0; t < T; ++t) xn[t] = RmsNorm(x[t], w.Need(Blk(il, "attn_norm.weight")).data(), h.eps);
    const bool swa = h.window > 0 && il % h.window_period < h.window_period - 1;
    const Qkv p =
        h.arch == "deepseek2" ? MlaProject(w, h, il, xn) : GqaProject(w, h, il, xn, swa ? h.base_swa : h.base);
    const std::vector<Vec> att = Attend(h, p, swa ? h.window : 0, w.Get(Blk(il, "attn_sinks.weight")));
    for (int t = 0; t < T; ++t) {
      Vec o = MatVec(w.Need(Blk(il, "attn_output.weight")), att[t], h.dim);
      AddBias(w, Blk(il, "attn_output.bias"), &o);
      for (int i = 0; i < h.dim; ++i) x[t][i] += o[i];
      const Vec hn = RmsNorm(x[t], w.Need(Blk(il, ffn_norm)).data(), h.eps);
      const Vec y = FfnForward(w, h, il, hn);
      for (int i = 0; i < h.dim; ++i) x[t][i] += y[i];
    }
  }
  const std::vector<float>* out = w.Get("output.weight");
  if (!out) out = &w.Need("token_embd.weight");
  const float* norm = w.Need("output_norm.weight").data();
  std::vector<std::vector<float>> result;
  for (int e : ends) {
    const Vec hf = RmsNorm(x[static_cast<size_t>(e) - 1], norm, h.eps);
    const Vec logits = MatVec(*out, hf, vocab);
    result.emplace_back(logits.begin(), logits.end());
  }
  return result;
}

Result<std::vector<float>> NaiveLogits(const std::string& path, const std::vector<int32_t>& tokens) {
  OC_ASSIGN_OR_RETURN(std::vector<std::vector<float>> l,
                      NaiveLogitsAt(path, tokens, {static_cast<int>(tokens.size())}));
  return std::move(l[0]);
}

}  // namespace omnicoder::reference
