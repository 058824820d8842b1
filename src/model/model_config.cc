// Reading a ModelConfig from GGUF metadata: sizes per layer, attention kind, RoPE scaling
// (linear, YaRN as llama.cpp applies it), and the router.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "base/strings.h"
#include "format/gguf.h"
#include "model/model_config.h"

namespace omnicoder {

namespace {

constexpr int kMaxDim = 1 << 16;
constexpr int kMaxLayers = 1024;
constexpr int kMaxHeads = 1024;
constexpr int kMaxExperts = 4096;

// Scalar or per-layer array metadata (feed_forward_length, head_count, ...).
Result<uint64_t> LayerValue(const GgufFile& f, const std::string& key, int layer, uint64_t def, bool required) {
  const GgufValue* v = f.Find(key);
  if (!v) {
    if (required) return NotFound("metadata key '" + key + "' is missing");
    return def;
  }
  if (v->type != GgufType::kArray) return f.GetUint(key);
  if (static_cast<uint64_t>(layer) >= v->count) {
    return CorruptFile(StrFormat("metadata array '%s' has %llu entries, fewer than the layer count", key.c_str(),
                                 static_cast<unsigned long long>(v->count)));
  }
  size_t es = GgufScalarSize(v->elem_type);
  if (v->elem_type != GgufType::kUint32 && v->elem_type != GgufType::kInt32) {
    return CorruptFile("metadata array '" + key + "' must hold 32-bit integers");
  }
  int32_t x;
  std::memcpy(&x, v->raw + es * layer, 4);
  if (x < 0) return CorruptFile("metadata array '" + key + "' has a negative entry");
  return static_cast<uint64_t>(x);
}

Status CheckRange(const char* what, uint64_t v, uint64_t lo, uint64_t hi) {
  if (v < lo || v > hi) {
    return CorruptFile(StrFormat("%s = %llu is outside [%llu, %llu]", what, static_cast<unsigned long long>(v),
                                 static_cast<unsigned long long>(lo), static_cast<unsigned long long>(hi)));
  }
  return Status::Ok();
}

int Int(uint64_t v) {
  return static_cast<int>(v);
}

Status ReadGqa(const GgufFile& f, const std::string& a, const ModelConfig& c, int il, LayerSpec* l) {
  OC_ASSIGN_OR_RETURN(uint64_t head_dim, f.GetUintOr(a + ".attention.key_length", c.dim / l->n_heads));
  OC_ASSIGN_OR_RETURN(uint64_t v_dim, f.GetUintOr(a + ".attention.value_length", head_dim));
  OC_RETURN_IF_ERROR(CheckRange("attention.key_length", head_dim, 2, 1024));
  OC_RETURN_IF_ERROR(CheckRange("attention.value_length", v_dim, 1, 1024));
  if (head_dim % 2 != 0) return CorruptFile("head dimension must be even for RoPE");
  l->head_dim = Int(head_dim);
  l->v_head_dim = Int(v_dim);
  if (const GgufValue* w = f.Find(a + ".attention.sliding_window"); w) {
    OC_ASSIGN_OR_RETURN(uint64_t window, f.GetUint(a + ".attention.sliding_window"));
    OC_RETURN_IF_ERROR(CheckRange("attention.sliding_window", window, 0, 1 << 24));
    // Which layers slide: a period p means layer il slides when il % p < p - 1 (llama.cpp).
    OC_ASSIGN_OR_RETURN(uint64_t period, LayerValue(f, a + ".attention.sliding_window_pattern", il, 2, false));
    const bool slides = period == 0 || (static_cast<uint64_t>(il) % period < period - 1);
    l->sliding_window = slides ? Int(window) : 0;
  }
  return Status::Ok();
}

// DeepSeek's latent attention as llama.cpp's converter writes it today (absorbed: the
// file holds attn_k_b / attn_v_b per head, key_length_mla / value_length_mla).
Status ReadMla(const GgufFile& f, const std::string& a, int il, LayerSpec* l) {
  l->attention = AttentionKind::kMla;
  if (!f.Find(a + ".attention.key_length_mla") || !f.FindTensor(StrFormat("blk.%d.attn_k_b.weight", il))) {
    return Unsupported(
        "this deepseek2 file uses the old unabsorbed layout (attn_kv_b, no key_length_mla); convert "
        "it again with a current llama.cpp convert_hf_to_gguf.py");
  }
  OC_ASSIGN_OR_RETURN(uint64_t k_mla, f.GetUint(a + ".attention.key_length_mla"));
  OC_ASSIGN_OR_RETURN(uint64_t v_mla, f.GetUint(a + ".attention.value_length_mla"));
  OC_ASSIGN_OR_RETURN(uint64_t kv_rank, f.GetUint(a + ".attention.kv_lora_rank"));
  OC_ASSIGN_OR_RETURN(uint64_t q_rank, f.GetUintOr(a + ".attention.q_lora_rank", 0));
  OC_ASSIGN_OR_RETURN(uint64_t rope, f.GetUint(a + ".rope.dimension_count"));
  OC_RETURN_IF_ERROR(CheckRange("attention.kv_lora_rank", kv_rank, 1, 1 << 14));
  OC_RETURN_IF_ERROR(CheckRange("attention.q_lora_rank", q_rank, 0, 1 << 15));
  OC_RETURN_IF_ERROR(CheckRange("rope.dimension_count", rope, 2, 1024));
  OC_RETURN_IF_ERROR(CheckRange("attention.key_length_mla", k_mla, rope + 1, 2048));
  OC_RETURN_IF_ERROR(CheckRange("attention.value_length_mla", v_mla, 1, 2048));
  if (rope % 2 != 0) return CorruptFile("rope.dimension_count must be even");
  l->kv_lora_rank = Int(kv_rank);
  l->q_lora_rank = Int(q_rank);
  l->qk_rope_dim = Int(rope);
  l->qk_nope_dim = Int(k_mla - rope);
  l->head_dim = Int(k_mla);
  l->v_head_dim = Int(v_mla);
  l->n_kv_heads = 1;  // one latent row per position, shared by all heads
  return Status::Ok();
}

Status ReadFfn(const GgufFile& f, const std::string& a, const ModelConfig& c, int il, LayerSpec* l) {
  l->moe = f.FindTensor(StrFormat("blk.%d.ffn_gate_inp.weight", il)) != nullptr;
  if (!l->moe) {
    if (c.arch->moe_only)
      return CorruptFile(
          StrFormat("layer %d has no router (ffn_gate_inp) but %s is MoE-only", il, std::string(c.arch->name).c_str()));
    OC_ASSIGN_OR_RETURN(uint64_t ffn, LayerValue(f, a + ".feed_forward_length", il, 0, true));
    OC_RETURN_IF_ERROR(CheckRange("feed_forward_length", ffn, 1, 1 << 20));
    l->ffn_dim = Int(ffn);
    return Status::Ok();
  }
  OC_ASSIGN_OR_RETURN(uint64_t n_exp, f.GetUint(a + ".expert_count"));
  OC_ASSIGN_OR_RETURN(uint64_t n_used, f.GetUint(a + ".expert_used_count"));
  OC_RETURN_IF_ERROR(CheckRange("expert_count", n_exp, 1, kMaxExperts));
  OC_RETURN_IF_ERROR(CheckRange("expert_used_count", n_used, 1, n_exp));
  OC_ASSIGN_OR_RETURN(uint64_t ffn_default, LayerValue(f, a + ".feed_forward_length", il, 0, false));
  OC_ASSIGN_OR_RETURN(uint64_t eff, LayerValue(f, a + ".expert_feed_forward_length", il, ffn_default, false));
  OC_RETURN_IF_ERROR(CheckRange("expert_feed_forward_length", eff, 1, 1 << 20));
  l->n_experts = Int(n_exp);
  l->n_experts_active = Int(n_used);
  l->expert_ffn_dim = Int(eff);
  if (f.FindTensor(StrFormat("blk.%d.ffn_up_shexp.weight", il))) {
    uint64_t sff = ffn_default;
    if (f.Find(a + ".expert_shared_count")) {  // DeepSeek: n shared experts of the expert width
      OC_ASSIGN_OR_RETURN(uint64_t n_shared, f.GetUint(a + ".expert_shared_count"));
      OC_RETURN_IF_ERROR(CheckRange("expert_shared_count", n_shared, 1, 64));
      sff = n_shared * eff;
    }
    OC_ASSIGN_OR_RETURN(sff, f.GetUintOr(a + ".expert_shared_feed_forward_length", sff));
    OC_RETURN_IF_ERROR(CheckRange("expert_shared_feed_forward_length", sff, 1, 1 << 20));
    l->shared_ffn_dim = Int(sff);
  }
  return Status::Ok();
}

Status ReadLayer(const GgufFile& f, const std::string& a, const ModelConfig& c, int il, LayerSpec* l) {
  OC_ASSIGN_OR_RETURN(uint64_t n_heads, LayerValue(f, a + ".attention.head_count", il, 0, true));
  OC_ASSIGN_OR_RETURN(uint64_t n_kv, LayerValue(f, a + ".attention.head_count_kv", il, n_heads, false));
  OC_RETURN_IF_ERROR(CheckRange("attention.head_count", n_heads, 1, kMaxHeads));
  OC_RETURN_IF_ERROR(CheckRange("attention.head_count_kv", n_kv, 1, n_heads));
  if (n_heads % n_kv != 0) {
    return CorruptFile(StrFormat("layer %d: %llu heads are not a multiple of %llu KV heads", il,
                                 static_cast<unsigned long long>(n_heads), static_cast<unsigned long long>(n_kv)));
  }
  l->n_heads = Int(n_heads);
  l->n_kv_heads = Int(n_kv);
  if (c.arch->attention == AttentionKind::kMla) {
    OC_RETURN_IF_ERROR(ReadMla(f, a, il, l));
  } else {
    OC_RETURN_IF_ERROR(ReadGqa(f, a, c, il, l));
  }
  // deepseek2: the first leading_dense_block_count layers have a dense FFN.
  OC_ASSIGN_OR_RETURN(uint64_t n_dense, f.GetUintOr(a + ".leading_dense_block_count", 0));
  if (static_cast<uint64_t>(il) < n_dense && f.FindTensor(StrFormat("blk.%d.ffn_gate_inp.weight", il))) {
    return CorruptFile(StrFormat("layer %d is a leading dense layer but has a router", il));
  }
  return ReadFfn(f, a, c, il, l);
}

float YarnCorrDim(int n_dims, int n_ctx_orig, float n_rot, float base) {
  return n_dims * std::log(n_ctx_orig / (n_rot * 2 * 3.14159265358979323846f)) / (2 * std::log(base));
}

float Mscale(float factor, float mscale) {
  return factor <= 1.0f ? 1.0f : 0.1f * mscale * std::log(factor) + 1.0f;
}

// RoPE scaling exactly as llama.cpp derives ggml's rope parameters (llama-context.cpp),
// and DeepSeek's attention scale (its mscale^2 folded into kq_scale).
Status ReadRopeScaling(const GgufFile& f, const std::string& a, ModelConfig* c) {
  RopeParams& r = c->rope;
  std::string type = "linear";
  if (const GgufValue* st = f.Find(a + ".rope.scaling.type"); st && st->type == GgufType::kString)
    type = std::string(st->str);
  if (type != "none" && type != "linear" && type != "yarn") {
    return Unsupported("rope scaling type " + QuoteForMessage(type) + " is not supported yet (none, linear, yarn)");
  }
  OC_ASSIGN_OR_RETURN(double factor, f.GetFloatOr(a + ".rope.scaling.factor", 0.0));
  if (factor != 0.0 && !(factor >= 1.0 && factor <= 1024.0))
    return CorruptFile("rope.scaling.factor must be in [1, 1024]");
  r.freq_scale = (type == "none" || factor == 0.0) ? 1.0f : static_cast<float>(1.0 / factor);
  OC_ASSIGN_OR_RETURN(double rope_attn, f.GetFloatOr(a + ".rope.scaling.attn_factor", 1.0));
  OC_ASSIGN_OR_RETURN(double yarn_attn, f.GetFloatOr(a + ".rope.scaling.yarn_attn_factor", 1.0));
  r.attn_factor = static_cast<float>(yarn_attn);
  const bool deepseek = c->arch->name == "deepseek2";
  OC_ASSIGN_OR_RETURN(double log_mul, f.GetFloatOr(a + ".rope.scaling.yarn_log_multiplier", 0.0));
  if (deepseek) log_mul /= 0.1;  // llama.cpp cancels the converter's factor (TAG_DEEPSEEK2_YARN_LOG_MUL_FIX)
  if (type == "yarn") {
    OC_ASSIGN_OR_RETURN(double ext, f.GetFloatOr(a + ".rope.scaling.yarn_ext_factor", -1.0));
    r.ext_factor = ext >= 0 ? static_cast<float>(ext) : 1.0f;
  }
  if (r.ext_factor != 0.0f) {
    const float fac = 1.0f / r.freq_scale;
    if (log_mul != 0.0) {
      const float all = static_cast<float>(log_mul);
      const float ms = deepseek && all != 1.0f ? all : 1.0f;
      r.attn_factor = Mscale(fac, ms) / Mscale(fac, all);
    } else {
      r.attn_factor = Mscale(fac, 1.0f);
    }
    r.attn_factor *= 1.0f / (1.0f + 0.1f * std::log(fac));
    OC_ASSIGN_OR_RETURN(uint64_t orig, f.GetUintOr(a + ".rope.scaling.original_context_length", c->ctx_len));
    OC_ASSIGN_OR_RETURN(double beta_fast, f.GetFloatOr(a + ".rope.scaling.yarn_beta_fast", 32.0));
    OC_ASSIGN_OR_RETURN(double beta_slow, f.GetFloatOr(a + ".rope.scaling.yarn_beta_slow", 1.0));
    OC_RETURN_IF_ERROR(CheckRange("rope.scaling.original_context_length", orig, 1, 1 << 24));
    const int n = r.dims, o = Int(orig);
    r.corr_low = std::max(0.0f, std::floor(YarnCorrDim(n, o, static_cast<float>(beta_fast), r.base)));
    r.corr_high =
        std::min(static_cast<float>(n - 1), std::ceil(YarnCorrDim(n, o, static_cast<float>(beta_slow), r.base)));
  }
  r.attn_factor *= static_cast<float>(rope_attn);
  if (deepseek) {
    const float inv = 1.0f / r.freq_scale;
    const float org = r.attn_factor * (1.0f + 0.1f * std::log(inv));
    const float mscale = org * (1.0f + 0.1f * static_cast<float>(log_mul) * std::log(inv));
    c->kq_scale = mscale * mscale / std::sqrt(static_cast<float>(c->layers[0].head_dim));
  }
  return Status::Ok();
}

Status ReadRouter(const GgufFile& f, const std::string& a, ModelConfig* c) {
  RouterParams& r = c->router;
  r.gating = c->arch->gating;
  r.norm_topk = c->arch->moe_norm_topk;
  OC_ASSIGN_OR_RETURN(double ews, f.GetFloatOr(a + ".expert_weights_scale", 0.0));
  r.weights_scale = ews == 0.0 ? 1.0f : static_cast<float>(ews);
  if (f.Find(a + ".expert_weights_norm")) {
    OC_ASSIGN_OR_RETURN(r.norm_topk, f.GetBool(a + ".expert_weights_norm"));
  }
  OC_ASSIGN_OR_RETURN(uint64_t gating, f.GetUintOr(a + ".expert_gating_func", 0));
  if (gating == 1) r.gating = Gating::kSoftmax;
  if (gating == 2) r.gating = Gating::kSigmoid;
  if (gating > 2)
    return Unsupported(StrFormat("expert_gating_func %llu is not supported (1 softmax, 2 sigmoid)",
                                 static_cast<unsigned long long>(gating)));
  OC_ASSIGN_OR_RETURN(uint64_t groups, f.GetUintOr(a + ".expert_group_count", 1));
  OC_ASSIGN_OR_RETURN(uint64_t used, f.GetUintOr(a + ".expert_group_used_count", groups));
  if (groups == 0) groups = 1;
  const int n_exp = c->MaxExperts();
  if (groups > 1) {
    if (n_exp % groups != 0 || used < 1 || used > groups || n_exp / groups < 2) {
      return CorruptFile(StrFormat("expert groups: %llu groups (%llu used) do not divide %d experts into groups of 2+",
                                   static_cast<unsigned long long>(groups), static_cast<unsigned long long>(used),
                                   n_exp));
    }
    for (const LayerSpec& l : c->layers) {
      if (l.moe && l.n_experts_active > static_cast<int>(used) * (l.n_experts / static_cast<int>(groups))) {
        return CorruptFile("expert_used_count exceeds the experts of the groups used");
      }
    }
  }
  r.n_groups = Int(groups);
  r.n_group_used = Int(used);
  return Status::Ok();
}

Status ReadHeader(const GgufFile& f, const std::string& a, ModelConfig* c) {
  if (const GgufValue* n = f.Find("general.name"); n && n->type == GgufType::kString) c->name = std::string(n->str);
  OC_ASSIGN_OR_RETURN(uint64_t dim, f.GetUint(a + ".embedding_length"));
  OC_ASSIGN_OR_RETURN(uint64_t n_layers, f.GetUint(a + ".block_count"));
  OC_ASSIGN_OR_RETURN(uint64_t ctx, f.GetUintOr(a + ".context_length", 2048));
  OC_RETURN_IF_ERROR(CheckRange("embedding_length", dim, 1, kMaxDim));
  OC_RETURN_IF_ERROR(CheckRange("block_count", n_layers, 1, kMaxLayers));
  OC_RETURN_IF_ERROR(CheckRange("context_length", ctx, 1, 1 << 24));
  c->dim = Int(dim);
  c->n_layers = Int(n_layers);
  c->ctx_len = Int(ctx);
  OC_ASSIGN_OR_RETURN(double eps, f.GetFloatOr(a + ".attention.layer_norm_rms_epsilon", 1e-5));
  OC_ASSIGN_OR_RETURN(double base, f.GetFloatOr(a + ".rope.freq_base", 10000.0));
  OC_ASSIGN_OR_RETURN(double base_swa, f.GetFloatOr(a + ".rope.freq_base_swa", base));
  if (!(eps > 0 && eps < 1)) return CorruptFile("attention.layer_norm_rms_epsilon must be in (0, 1)");
  if (!(base > 1) || !(base_swa > 1)) return CorruptFile("rope.freq_base must be > 1");
  c->rms_eps = static_cast<float>(eps);
  c->rope.base = static_cast<float>(base);
  c->rope.base_swa = static_cast<float>(base_swa);
  return Status::Ok();
}

Status ReadRopeDims(const GgufFile& f, const std::string& a, ModelConfig* c) {
  const LayerSpec& l0 = c->layers[0];
  for (const LayerSpec& l : c->layers) {
    if (l.head_dim != l0.head_dim || l.qk_rope_dim != l0.qk_rope_dim) {
      return Unsupported("layers with different head dimensions");
    }
  }
  const int max_rot = l0.attention == AttentionKind::kMla ? l0.qk_rope_dim : l0.head_dim;
  OC_ASSIGN_OR_RETURN(uint64_t rope_dims, f.GetUintOr(a + ".rope.dimension_count", max_rot));
  if (rope_dims == 0 || rope_dims > static_cast<uint64_t>(max_rot) || rope_dims % 2 != 0) {
    return CorruptFile(StrFormat("rope.dimension_count %llu must be even and at most %d",
                                 static_cast<unsigned long long>(rope_dims), max_rot));
  }
  c->rope.dims = Int(rope_dims);
  return Status::Ok();
}

}  // namespace

Result<ModelConfig> ReadModelConfig(const GgufFile& f) {
  ModelConfig c;
  OC_ASSIGN_OR_RETURN(std::string_view arch_name, f.GetString("general.architecture"));
  c.arch = FindArch(arch_name);
  if (!c.arch) {
    return Unsupported("architecture " + QuoteForMessage(arch_name) +
                       " is not supported (supported: " + SupportedArchList() + ")");
  }
  const std::string a(arch_name);
  OC_RETURN_IF_ERROR(ReadHeader(f, a, &c));
  c.layers.resize(c.n_layers);
  for (int il = 0; il < c.n_layers; ++il) {
    OC_RETURN_IF_ERROR(ReadLayer(f, a, c, il, &c.layers[il]).WithContext(StrFormat("layer %d", il)));
  }
  OC_RETURN_IF_ERROR(ReadRopeDims(f, a, &c));
  OC_RETURN_IF_ERROR(ReadRopeScaling(f, a, &c));
  OC_RETURN_IF_ERROR(ReadRouter(f, a, &c));
  const GgufTensorInfo* emb = f.FindTensor("token_embd.weight");
  if (!emb) return NotFound("tensor 'token_embd.weight' is missing");
  if (emb->n_dims != 2 || emb->dims[1] > (1 << 24)) return CorruptFile("token_embd.weight must be [dim, vocab]");
  c.vocab_size = static_cast<int>(emb->dims[1]);
  return c;
}

}  // namespace omnicoder
