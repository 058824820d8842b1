// Binding GGUF tensors to ModelWeights, with shape/type/value checks and load-time quirks
// (fused QKV split, tied output, per-expert vs merged expert tensors).
#include "model/weights.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "base/half.h"
#include "base/strings.h"
#include "format/gguf.h"
#include "model/weight_checks.h"

namespace omnicoder {

namespace {

constexpr uint64_t kScanLimitBytes = 64ull << 20;

bool IsWeightType(DType t) {
  switch (t) {
    case DType::kF32:
    case DType::kF16:
    case DType::kBF16:
    case DType::kQ4_0:
    case DType::kQ4_1:
    case DType::kQ5_0:
    case DType::kQ5_1:
    case DType::kQ8_0:
    case DType::kQ4_K:
    case DType::kQ5_K:
    case DType::kQ6_K:
    case DType::kMXFP4:
      return true;
    default:
      return false;
  }
}

std::string Dims(const GgufTensorInfo& t) {
  std::string s = "[";
  for (uint32_t d = 0; d < t.n_dims; ++d) s += (d ? ", " : "") + std::to_string(t.dims[d]);
  return s + "]";
}

class Binder {
 public:
  Binder(const GgufFile& f, ModelWeights* w, const WeightLoadOptions& o) : f_(f), w_(w), o_(o) {}

  // A 2-D matrix [rows, cols] (GGUF dims {cols, rows}).
  Result<WeightMatrix> Matrix(const std::string& name, int rows, int cols, bool required = true) {
    const GgufTensorInfo* t = f_.FindTensor(name);
    if (!t) {
      if (required) return NotFound("tensor '" + name + "' is missing");
      return WeightMatrix{};
    }
    if (t->n_dims != 2 || t->dims[0] != cols || t->dims[1] != rows) {
      return CorruptFile(
          StrFormat("tensor '%s' has shape %s, expected [%d, %d]", name.c_str(), Dims(*t).c_str(), cols, rows));
    }
    return Slice(*t, 0, rows, cols, /*scan=*/true);
  }

  // Expert e of a merged [cols, rows, n_experts] tensor.
  Result<WeightMatrix> ExpertSlice(const GgufTensorInfo& t, int e, int rows, int cols) {
    return Slice(t, static_cast<int64_t>(e) * rows, rows, cols, /*scan=*/false);
  }

  Result<const GgufTensorInfo*> Merged(const std::string& name, int rows, int cols, int n_experts) {
    const GgufTensorInfo* t = f_.FindTensor(name);
    if (!t) return NotFound("tensor '" + name + "' is missing");
    if (t->n_dims != 3 || t->dims[0] != cols || t->dims[1] != rows || t->dims[2] != n_experts) {
      return CorruptFile(StrFormat("tensor '%s' has shape %s, expected [%d, %d, %d]", name.c_str(), Dims(*t).c_str(),
                                   cols, rows, n_experts));
    }
    OC_RETURN_IF_ERROR(CheckType(*t));
    OC_RETURN_IF_ERROR(ScanIfSmall(*t));
    return t;
  }

  // An f32 vector of n values (converted from F16/BF16 if stored so).
  // row > 0: a [n / row, row] table (per-expert biases), rows contiguous.
  Result<const float*> Vector(const std::string& name, int n, bool required = true, int row = 0) {
    const GgufTensorInfo* t = f_.FindTensor(name);
    if (!t) {
      if (required) return NotFound("tensor '" + name + "' is missing");
      return static_cast<const float*>(nullptr);
    }
    if (t->n_elements() != static_cast<uint64_t>(n) || t->dims[0] != (row > 0 ? row : n)) {
      return CorruptFile(StrFormat("tensor '%s' has shape %s, expected [%d]", name.c_str(), Dims(*t).c_str(), n));
    }
    DType type = static_cast<DType>(t->type_id);
    if (type != DType::kF32 && type != DType::kF16 && type != DType::kBF16) {
      return Unsupported(StrFormat("tensor '%s' is %s; norms and biases must be F32, F16 or BF16", name.c_str(),
                                   GetDTypeTraits(type).name));
    }
    std::unique_ptr<float[]> buf(new float[n]);
    GetDTypeTraits(type).dequantize(t->data, buf.get(), n);
    for (int i = 0; i < n; ++i) {
      if (!std::isfinite(buf[i])) {
        return CorruptFile(StrFormat("tensor '%s' holds a non-finite value (%f) at index %d", name.c_str(), buf[i], i));
      }
    }
    w_->non_expert_bytes += t->n_bytes;
    const float* p = buf.get();
    w_->owned.push_back(std::move(buf));
    return p;
  }

 private:
  Status CheckType(const GgufTensorInfo& t) {
    DType type = static_cast<DType>(t.type_id);
    if (!IsWeightType(type)) {
      return Unsupported(StrFormat("tensor '%s' has type %s, which cannot be used as a weight matrix", t.name.c_str(),
                                   GetDTypeTraits(type).name));
    }
    return Status::Ok();
  }

  Status ScanIfSmall(const GgufTensorInfo& t) {
    DType type = static_cast<DType>(t.type_id);
    bool is_float = type == DType::kF32 || type == DType::kF16 || type == DType::kBF16;
    if (o_.check_all_tensors || (is_float && t.n_bytes <= kScanLimitBytes)) {
      return ScanTensorForNonFinite(t.name, type, t.data, t.n_elements());
    }
    return Status::Ok();
  }

  Result<WeightMatrix> Slice(const GgufTensorInfo& t, int64_t first_row, int rows, int cols, bool scan) {
    OC_RETURN_IF_ERROR(CheckType(t));
    if (scan) OC_RETURN_IF_ERROR(ScanIfSmall(t));
    WeightMatrix m;
    m.type = static_cast<DType>(t.type_id);
    m.rows = rows;
    m.cols = cols;
    m.row_bytes = RowBytes(m.type, cols);
    m.data = t.data + static_cast<size_t>(first_row) * m.row_bytes;
    return m;
  }

  const GgufFile& f_;
  ModelWeights* w_;
  const WeightLoadOptions& o_;
};

std::string Blk(int il, const char* suffix) {
  return StrFormat("blk.%d.%s", il, suffix);
}

Status BindMla(Binder& b, const ModelConfig& c, int il, LayerWeights* lw, uint64_t* bytes) {
  const LayerSpec& l = c.layers[il];
  AttentionWeights& a = lw->attn;
  const int q_dim = l.QDim(), rank = l.kv_lora_rank;
  if (l.q_lora_rank > 0) {
    OC_ASSIGN_OR_RETURN(a.wq_a, b.Matrix(Blk(il, "attn_q_a.weight"), l.q_lora_rank, c.dim));
    OC_ASSIGN_OR_RETURN(a.q_a_norm, b.Vector(Blk(il, "attn_q_a_norm.weight"), l.q_lora_rank));
    OC_ASSIGN_OR_RETURN(a.wq_b, b.Matrix(Blk(il, "attn_q_b.weight"), q_dim, l.q_lora_rank));
  } else {
    OC_ASSIGN_OR_RETURN(a.wq, b.Matrix(Blk(il, "attn_q.weight"), q_dim, c.dim));
  }
  OC_ASSIGN_OR_RETURN(a.wkv_a, b.Matrix(Blk(il, "attn_kv_a_mqa.weight"), rank + l.qk_rope_dim, c.dim));
  OC_ASSIGN_OR_RETURN(a.kv_a_norm, b.Vector(Blk(il, "attn_kv_a_norm.weight"), rank));
  OC_ASSIGN_OR_RETURN(const GgufTensorInfo* kb, b.Merged(Blk(il, "attn_k_b.weight"), rank, l.qk_nope_dim, l.n_heads));
  OC_ASSIGN_OR_RETURN(const GgufTensorInfo* vb, b.Merged(Blk(il, "attn_v_b.weight"), l.v_head_dim, rank, l.n_heads));
  a.wk_b.resize(l.n_heads);
  a.wv_b.resize(l.n_heads);
  for (int h = 0; h < l.n_heads; ++h) {
    OC_ASSIGN_OR_RETURN(a.wk_b[h], b.ExpertSlice(*kb, h, rank, l.qk_nope_dim));
    OC_ASSIGN_OR_RETURN(a.wv_b[h], b.ExpertSlice(*vb, h, l.v_head_dim, rank));
  }
  OC_ASSIGN_OR_RETURN(a.wo, b.Matrix(Blk(il, "attn_output.weight"), c.dim, l.AttnOutDim()));
  *bytes += a.wq.bytes() + a.wq_a.bytes() + a.wq_b.bytes() + a.wkv_a.bytes() + kb->n_bytes + vb->n_bytes + a.wo.bytes();
  return Status::Ok();
}

Status BindAttention(Binder& b, const ModelConfig& c, int il, LayerWeights* lw, uint64_t* bytes) {
  const LayerSpec& l = c.layers[il];
  if (l.attention == AttentionKind::kMla) return BindMla(b, c, il, lw, bytes);
  const int q_dim = l.QDim(), kv_dim = l.n_kv_heads * l.head_dim, v_dim = l.n_kv_heads * l.v_head_dim;
  AttentionWeights& a = lw->attn;
  OC_ASSIGN_OR_RETURN(WeightMatrix qkv, b.Matrix(Blk(il, "attn_qkv.weight"), q_dim + kv_dim + v_dim, c.dim, false));
  if (qkv.present()) {  // quirk: fused QKV, split into row ranges once here
    a.wq = a.wk = a.wv = qkv;
    a.wq.rows = q_dim;
    a.wk.rows = kv_dim;
    a.wv.rows = v_dim;
    a.wk.data = qkv.data + qkv.row_bytes * q_dim;
    a.wv.data = qkv.data + qkv.row_bytes * (q_dim + kv_dim);
  } else {
    OC_ASSIGN_OR_RETURN(a.wq, b.Matrix(Blk(il, "attn_q.weight"), q_dim, c.dim));
    OC_ASSIGN_OR_RETURN(a.wk, b.Matrix(Blk(il, "attn_k.weight"), kv_dim, c.dim));
    OC_ASSIGN_OR_RETURN(a.wv, b.Matrix(Blk(il, "attn_v.weight"), v_dim, c.dim));
  }
  OC_ASSIGN_OR_RETURN(a.wo, b.Matrix(Blk(il, "attn_output.weight"), c.dim, l.AttnOutDim()));
  OC_ASSIGN_OR_RETURN(a.bq, b.Vector(Blk(il, "attn_q.bias"), q_dim, false));
  OC_ASSIGN_OR_RETURN(a.bk, b.Vector(Blk(il, "attn_k.bias"), kv_dim, false));
  OC_ASSIGN_OR_RETURN(a.bv, b.Vector(Blk(il, "attn_v.bias"), v_dim, false));
  OC_ASSIGN_OR_RETURN(a.bo, b.Vector(Blk(il, "attn_output.bias"), c.dim, false));
  OC_ASSIGN_OR_RETURN(a.sinks, b.Vector(Blk(il, "attn_sinks.weight"), l.n_heads, false));
  if (c.arch->qk_norm != QkNorm::kNone) {
    const bool full = c.arch->qk_norm == QkNorm::kFull;
    OC_ASSIGN_OR_RETURN(a.q_norm, b.Vector(Blk(il, "attn_q_norm.weight"), full ? q_dim : l.head_dim));
    OC_ASSIGN_OR_RETURN(a.k_norm, b.Vector(Blk(il, "attn_k_norm.weight"), full ? kv_dim : l.head_dim));
  }
  *bytes += a.wq.bytes() + a.wk.bytes() + a.wv.bytes() + a.wo.bytes();
  return Status::Ok();
}

Status BindFfn(Binder& b, const ModelConfig& c, int il, const char* suffix, int ffn, FfnWeights* f) {
  OC_ASSIGN_OR_RETURN(f->gate, b.Matrix(Blk(il, (std::string("ffn_gate") + suffix + ".weight").c_str()), ffn, c.dim));
  OC_ASSIGN_OR_RETURN(f->up, b.Matrix(Blk(il, (std::string("ffn_up") + suffix + ".weight").c_str()), ffn, c.dim));
  OC_ASSIGN_OR_RETURN(f->down, b.Matrix(Blk(il, (std::string("ffn_down") + suffix + ".weight").c_str()), c.dim, ffn));
  return Status::Ok();
}

uint64_t FfnBytes(const FfnWeights& f) {
  return f.gate.bytes() + f.up.bytes() + f.down.bytes();
}

Status BindExperts(Binder& b, const GgufFile& file, const ModelConfig& c, int il, ModelWeights* w) {
  const LayerSpec& l = c.layers[il];
  std::vector<FfnWeights>& ex = w->experts[il];
  ex.resize(l.n_experts);
  const int eff = l.expert_ffn_dim;
  if (file.FindTensor(Blk(il, "ffn_gate_exps.weight"))) {
    OC_ASSIGN_OR_RETURN(const GgufTensorInfo* g, b.Merged(Blk(il, "ffn_gate_exps.weight"), eff, c.dim, l.n_experts));
    OC_ASSIGN_OR_RETURN(const GgufTensorInfo* u, b.Merged(Blk(il, "ffn_up_exps.weight"), eff, c.dim, l.n_experts));
    OC_ASSIGN_OR_RETURN(const GgufTensorInfo* d, b.Merged(Blk(il, "ffn_down_exps.weight"), c.dim, eff, l.n_experts));
    for (int e = 0; e < l.n_experts; ++e) {
      OC_ASSIGN_OR_RETURN(ex[e].gate, b.ExpertSlice(*g, e, eff, c.dim));
      OC_ASSIGN_OR_RETURN(ex[e].up, b.ExpertSlice(*u, e, eff, c.dim));
      OC_ASSIGN_OR_RETURN(ex[e].down, b.ExpertSlice(*d, e, c.dim, eff));
    }
  } else {  // older files: one tensor per expert, blk.N.ffn_gate.E.weight
    for (int e = 0; e < l.n_experts; ++e) {
      OC_ASSIGN_OR_RETURN(ex[e].gate, b.Matrix(StrFormat("blk.%d.ffn_gate.%d.weight", il, e), eff, c.dim));
      OC_ASSIGN_OR_RETURN(ex[e].up, b.Matrix(StrFormat("blk.%d.ffn_up.%d.weight", il, e), eff, c.dim));
      OC_ASSIGN_OR_RETURN(ex[e].down, b.Matrix(StrFormat("blk.%d.ffn_down.%d.weight", il, e), c.dim, eff));
    }
  }
  for (const FfnWeights& e : ex) w->expert_bytes += FfnBytes(e);
  return Status::Ok();
}

Status BindLayer(Binder& b, const GgufFile& file, const ModelConfig& c, int il, ModelWeights* w) {
  const LayerSpec& l = c.layers[il];
  LayerWeights& lw = w->layers[il];
  uint64_t& bytes = w->non_expert_bytes;
  OC_ASSIGN_OR_RETURN(lw.attn_norm, b.Vector(Blk(il, "attn_norm.weight"), c.dim));
  OC_ASSIGN_OR_RETURN(lw.ffn_norm, b.Vector(Blk(il, (std::string(c.arch->ffn_norm) + ".weight").c_str()), c.dim));
  OC_RETURN_IF_ERROR(BindAttention(b, c, il, &lw, &bytes));
  if (!l.moe) {
    OC_RETURN_IF_ERROR(BindFfn(b, c, il, "", l.ffn_dim, &lw.ffn));
    bytes += FfnBytes(lw.ffn);
    return Status::Ok();
  }
  OC_ASSIGN_OR_RETURN(lw.moe.router, b.Matrix(Blk(il, "ffn_gate_inp.weight"), l.n_experts, c.dim));
  bytes += lw.moe.router.bytes();
  MoeWeights& mw = lw.moe;
  OC_ASSIGN_OR_RETURN(mw.router_bias, b.Vector(Blk(il, "ffn_gate_inp.bias"), l.n_experts, false));
  OC_ASSIGN_OR_RETURN(mw.selection_bias, b.Vector(Blk(il, "exp_probs_b.bias"), l.n_experts, false));
  const int ef = l.n_experts * l.expert_ffn_dim;
  OC_ASSIGN_OR_RETURN(mw.gate_bias, b.Vector(Blk(il, "ffn_gate_exps.bias"), ef, false, l.expert_ffn_dim));
  OC_ASSIGN_OR_RETURN(mw.up_bias, b.Vector(Blk(il, "ffn_up_exps.bias"), ef, false, l.expert_ffn_dim));
  OC_ASSIGN_OR_RETURN(mw.down_bias, b.Vector(Blk(il, "ffn_down_exps.bias"), l.n_experts * c.dim, false, c.dim));
  if (l.shared_ffn_dim > 0) {
    OC_RETURN_IF_ERROR(BindFfn(b, c, il, "_shexp", l.shared_ffn_dim, &lw.moe.shared));
    bytes += FfnBytes(lw.moe.shared);
    if (c.arch->shared_expert_gate) {
      OC_ASSIGN_OR_RETURN(const float* g, b.Vector(Blk(il, "ffn_gate_inp_shexp.weight"), c.dim));
      lw.moe.shared_gate.type = DType::kF32;
      lw.moe.shared_gate.data = reinterpret_cast<const uint8_t*>(g);
      lw.moe.shared_gate.rows = 1;
      lw.moe.shared_gate.cols = c.dim;
      lw.moe.shared_gate.row_bytes = sizeof(float) * c.dim;
    }
  }
  return BindExperts(b, file, c, il, w);
}

}  // namespace

void ForEachMatrix(ModelWeights* w, FunctionRef<void(WeightMatrix&)> fn) {
  fn(w->token_embd);
  fn(w->output);
  for (LayerWeights& l : w->layers) {
    for (WeightMatrix* m : {&l.attn.wq, &l.attn.wk, &l.attn.wv, &l.attn.wo, &l.attn.wq_a, &l.attn.wq_b, &l.attn.wkv_a,
                            &l.ffn.gate, &l.ffn.up, &l.ffn.down, &l.moe.router, &l.moe.shared.gate, &l.moe.shared.up,
                            &l.moe.shared.down, &l.moe.shared_gate}) {
      fn(*m);
    }
    for (WeightMatrix& m : l.attn.wk_b) fn(m);
    for (WeightMatrix& m : l.attn.wv_b) fn(m);
  }
  for (auto& layer : w->experts) {
    for (FfnWeights& e : layer) {
      fn(e.gate);
      fn(e.up);
      fn(e.down);
    }
  }
}

void RebaseWeights(ModelWeights* w, const uint8_t* old_begin, const uint8_t* old_end, const uint8_t* new_begin) {
  ForEachMatrix(w, [&](WeightMatrix& m) {
    if (m.data >= old_begin && m.data < old_end) m.data = new_begin + (m.data - old_begin);
  });
}

void InterleaveWeights(ModelWeights* w, const KernelTable& kernels, bool include_experts) {
  const uint8_t* embd = w->token_embd.data;
  std::vector<const uint8_t*> expert_data;
  if (!include_experts) {
    for (auto& layer : w->experts) {
      for (FfnWeights& e : layer) expert_data.insert(expert_data.end(), {e.gate.data, e.up.data, e.down.data});
    }
    std::sort(expert_data.begin(), expert_data.end());
  }
  ForEachMatrix(w, [&](WeightMatrix& m) {
    if (!include_experts && std::binary_search(expert_data.begin(), expert_data.end(), m.data)) return;
    // The embedding is read row by row (dequantized lookups); a tied output shares it.
    if (!m.present() || m.data == embd || m.layout != WeightLayout::kRows) return;
    if (!kernels.matmul[static_cast<uint32_t>(m.type)].prefer_x8 || !CanInterleave8(m.type, m.rows, m.cols)) return;
    Interleave8(m.type, const_cast<uint8_t*>(m.data), m.rows, m.row_bytes);
    m.layout = WeightLayout::kInterleaved8;
  });
}

Result<ModelWeights> LoadModelWeights(const GgufFile& file, const ModelConfig& c, const WeightLoadOptions& options) {
  ModelWeights w;
  Binder b(file, &w, options);
  OC_ASSIGN_OR_RETURN(w.token_embd, b.Matrix("token_embd.weight", c.vocab_size, c.dim));
  OC_ASSIGN_OR_RETURN(w.output_norm, b.Vector("output_norm.weight", c.dim));
  OC_ASSIGN_OR_RETURN(w.output, b.Matrix("output.weight", c.vocab_size, c.dim, false));
  w.non_expert_bytes += w.token_embd.bytes();
  if (!w.output.present()) {
    w.output = w.token_embd;  // quirk: tied embeddings
    w.tied_output = true;
  } else {
    w.non_expert_bytes += w.output.bytes();
  }
  w.layers.resize(c.n_layers);
  w.experts.resize(c.n_layers);
  for (int il = 0; il < c.n_layers; ++il) {
    OC_RETURN_IF_ERROR(BindLayer(b, file, c, il, &w));
  }
  return w;
}

}  // namespace omnicoder
