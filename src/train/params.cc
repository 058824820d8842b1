// Parameter layout, binding and initialization.
#include "train/params.h"

#include <cmath>

#include "base/hash.h"
#include "base/strings.h"

namespace omnicoder {

std::vector<ParamTensor> ParamLayout(const TrainModelConfig& m, float init_std) {
  std::vector<ParamTensor> t;
  size_t offset = 0;
  auto add = [&](std::string name, std::vector<int64_t> shape, bool decay, float std_dev) {
    ParamTensor p;
    p.name = std::move(name);
    p.shape = std::move(shape);
    p.size = 1;
    for (int64_t d : p.shape) p.size *= static_cast<size_t>(d);
    p.offset = offset;
    p.decay = decay;
    p.init_std = std_dev;
    offset += (p.size + 15) / 16 * 16;
    t.push_back(std::move(p));
  };
  const int q = m.n_heads * m.head_dim, kv = m.n_kv_heads * m.head_dim;
  // Residual-branch outputs start smaller so the residual stream's variance stays ~1.
  const float out_std = init_std / std::sqrt(2.0f * static_cast<float>(m.n_layers));
  add("token_embd.weight", {m.vocab_size, m.dim}, true, init_std);
  add("output_norm.weight", {m.dim}, false, 0.0f);
  if (!m.tied_embeddings) add("output.weight", {m.vocab_size, m.dim}, true, init_std);
  const int n_exp = m.n_experts > 0 ? m.n_experts : 1;
  for (int l = 0; l < m.n_layers; ++l) {
    auto n = [l](const char* s) { return StrFormat("blk.%d.%s", l, s); };
    add(n("attn_norm.weight"), {m.dim}, false, 0.0f);
    add(n("attn_q.weight"), {q, m.dim}, true, init_std);
    add(n("attn_k.weight"), {kv, m.dim}, true, init_std);
    add(n("attn_v.weight"), {kv, m.dim}, true, init_std);
    add(n("attn_output.weight"), {m.dim, q}, true, out_std);
    add(n("ffn_norm.weight"), {m.dim}, false, 0.0f);
    if (m.n_experts > 0) {
      add(n("ffn_gate_inp.weight"), {m.n_experts, m.dim}, true, init_std);
      add(n("ffn_gate_exps.weight"), {n_exp, m.ffn_dim, m.dim}, true, init_std);
      add(n("ffn_up_exps.weight"), {n_exp, m.ffn_dim, m.dim}, true, init_std);
      add(n("ffn_down_exps.weight"), {n_exp, m.dim, m.ffn_dim}, true, out_std);
    } else {
      add(n("ffn_gate.weight"), {m.ffn_dim, m.dim}, true, init_std);
      add(n("ffn_up.weight"), {m.ffn_dim, m.dim}, true, init_std);
      add(n("ffn_down.weight"), {m.dim, m.ffn_dim}, true, out_std);
    }
  }
  return t;
}

size_t ParamCount(const std::vector<ParamTensor>& layout) {
  if (layout.empty()) return 0;
  const ParamTensor& last = layout.back();
  return last.offset + (last.size + 15) / 16 * 16;
}

ModelParams BindParams(const TrainModelConfig& m, const std::vector<ParamTensor>& layout, float* base) {
  ModelParams p;
  size_t i = 0;
  auto next = [&]() { return base + layout[i++].offset; };
  p.embd = next();
  p.out_norm = next();
  p.output = m.tied_embeddings ? p.embd : next();
  p.layers.resize(m.n_layers);
  for (LayerParams& l : p.layers) {
    l.attn_norm = next();
    l.wq = next();
    l.wk = next();
    l.wv = next();
    l.wo = next();
    l.ffn_norm = next();
    l.router = m.n_experts > 0 ? next() : nullptr;
    l.gate = next();
    l.up = next();
    l.down = next();
  }
  return p;
}

void InitParams(const std::vector<ParamTensor>& layout, uint64_t seed, float* base) {
  for (const ParamTensor& t : layout) {
    float* p = base + t.offset;
    if (t.init_std == 0.0f) {
      for (size_t i = 0; i < t.size; ++i) p[i] = 1.0f;
      continue;
    }
    uint64_t state = SplitMix64(seed ^ NameHash64(t.name));
    for (size_t i = 0; i < t.size; i += 2) {  // Box-Muller: two normals per pair of uniforms
      state = SplitMix64(state);
      const double u1 = (static_cast<double>(state >> 11) + 1.0) * (1.0 / 9007199254740993.0);
      state = SplitMix64(state);
      const double u2 = static_cast<double>(state >> 11) * (1.0 / 9007199254740992.0);
      const double r = std::sqrt(-2.0 * std::log(u1)), a = 6.283185307179586 * u2;
      p[i] = static_cast<float>(t.init_std * r * std::cos(a));
      if (i + 1 < t.size) p[i + 1] = static_cast<float>(t.init_std * r * std::sin(a));
    }
  }
}

}  // namespace omnicoder
