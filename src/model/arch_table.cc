// The architecture table and reading a ModelConfig from GGUF metadata.
#include <algorithm>
#include <cstring>

#include "base/strings.h"
#include "format/gguf.h"
#include "model/model_config.h"

namespace omnicoder {

namespace {

// name, rope, qk_norm, moe_norm_topk, shared_expert_gate, moe_only
const ArchSpec kArchTable[] = {
    {"llama", RopeStyle::kNorm, QkNorm::kNone, true, false, false},  // dense and Mixtral
    {"qwen2", RopeStyle::kNeox, QkNorm::kNone, false, false, false},
    {"qwen2moe", RopeStyle::kNeox, QkNorm::kNone, false, true, true},
    {"qwen3", RopeStyle::kNeox, QkNorm::kPerHead, false, false, false},
    {"qwen3moe", RopeStyle::kNeox, QkNorm::kPerHead, true, false, true},
    {"olmoe", RopeStyle::kNeox, QkNorm::kFull, false, false, true},
};

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

Status ReadLayer(const GgufFile& f, const std::string& a, const ModelConfig& c, int il, LayerSpec* l) {
  OC_ASSIGN_OR_RETURN(uint64_t n_heads, LayerValue(f, a + ".attention.head_count", il, 0, true));
  OC_ASSIGN_OR_RETURN(uint64_t n_kv, LayerValue(f, a + ".attention.head_count_kv", il, n_heads, false));
  OC_RETURN_IF_ERROR(CheckRange("attention.head_count", n_heads, 1, kMaxHeads));
  OC_RETURN_IF_ERROR(CheckRange("attention.head_count_kv", n_kv, 1, n_heads));
  if (n_heads % n_kv != 0) {
    return CorruptFile(StrFormat("layer %d: %llu heads are not a multiple of %llu KV heads", il,
                                 static_cast<unsigned long long>(n_heads), static_cast<unsigned long long>(n_kv)));
  }
  OC_ASSIGN_OR_RETURN(uint64_t head_dim, f.GetUintOr(a + ".attention.key_length", c.dim / n_heads));
  OC_ASSIGN_OR_RETURN(uint64_t v_dim, f.GetUintOr(a + ".attention.value_length", head_dim));
  OC_RETURN_IF_ERROR(CheckRange("attention.key_length", head_dim, 2, 1024));
  if (v_dim != head_dim) return Unsupported("attention.value_length different from key_length");
  if (head_dim % 2 != 0) return CorruptFile("head dimension must be even for RoPE");
  l->n_heads = static_cast<int>(n_heads);
  l->n_kv_heads = static_cast<int>(n_kv);
  l->head_dim = static_cast<int>(head_dim);
  l->moe = f.FindTensor(StrFormat("blk.%d.ffn_gate_inp.weight", il)) != nullptr;
  if (!l->moe) {
    if (c.arch->moe_only) return CorruptFile(StrFormat("layer %d has no router (ffn_gate_inp) but %s is MoE-only", il,
                                                       std::string(c.arch->name).c_str()));
    OC_ASSIGN_OR_RETURN(uint64_t ffn, LayerValue(f, a + ".feed_forward_length", il, 0, true));
    OC_RETURN_IF_ERROR(CheckRange("feed_forward_length", ffn, 1, 1 << 20));
    l->ffn_dim = static_cast<int>(ffn);
    return Status::Ok();
  }
  OC_ASSIGN_OR_RETURN(uint64_t n_exp, f.GetUint(a + ".expert_count"));
  OC_ASSIGN_OR_RETURN(uint64_t n_used, f.GetUint(a + ".expert_used_count"));
  OC_RETURN_IF_ERROR(CheckRange("expert_count", n_exp, 1, kMaxExperts));
  OC_RETURN_IF_ERROR(CheckRange("expert_used_count", n_used, 1, n_exp));
  OC_ASSIGN_OR_RETURN(uint64_t ffn_default, LayerValue(f, a + ".feed_forward_length", il, 0, false));
  OC_ASSIGN_OR_RETURN(uint64_t eff, LayerValue(f, a + ".expert_feed_forward_length", il, ffn_default, false));
  OC_RETURN_IF_ERROR(CheckRange("expert_feed_forward_length", eff, 1, 1 << 20));
  l->n_experts = static_cast<int>(n_exp);
  l->n_experts_active = static_cast<int>(n_used);
  l->expert_ffn_dim = static_cast<int>(eff);
  if (f.FindTensor(StrFormat("blk.%d.ffn_up_shexp.weight", il))) {
    OC_ASSIGN_OR_RETURN(uint64_t sff, f.GetUintOr(a + ".expert_shared_feed_forward_length", ffn_default));
    OC_RETURN_IF_ERROR(CheckRange("expert_shared_feed_forward_length", sff, 1, 1 << 20));
    l->shared_ffn_dim = static_cast<int>(sff);
  }
  return Status::Ok();
}

}  // namespace

const ArchSpec* FindArch(std::string_view name) {
  for (const ArchSpec& a : kArchTable) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

std::string SupportedArchList() {
  std::string s;
  for (const ArchSpec& a : kArchTable) {
    if (!s.empty()) s += ", ";
    s += a.name;
  }
  return s;
}

#define OC_MAX_OVER_LAYERS(expr)            \
  int m = 0;                                \
  for (const LayerSpec& l : layers) m = std::max(m, (expr)); \
  return m

int ModelConfig::MaxQDim() const { OC_MAX_OVER_LAYERS(l.n_heads * l.head_dim); }
int ModelConfig::MaxKvDim() const { OC_MAX_OVER_LAYERS(l.n_kv_heads * l.head_dim); }
int ModelConfig::MaxFfnDim() const { OC_MAX_OVER_LAYERS(std::max({l.ffn_dim, l.expert_ffn_dim, l.shared_ffn_dim})); }
int ModelConfig::MaxExperts() const { OC_MAX_OVER_LAYERS(l.n_experts); }
int ModelConfig::MaxExpertsActive() const { OC_MAX_OVER_LAYERS(l.n_experts_active); }
int ModelConfig::MaxHeads() const { OC_MAX_OVER_LAYERS(l.n_heads); }
#undef OC_MAX_OVER_LAYERS

bool ModelConfig::HasMoe() const {
  for (const LayerSpec& l : layers) {
    if (l.moe) return true;
  }
  return false;
}

Result<ModelConfig> ReadModelConfig(const GgufFile& f) {
  ModelConfig c;
  OC_ASSIGN_OR_RETURN(std::string_view arch_name, f.GetString("general.architecture"));
  c.arch = FindArch(arch_name);
  if (!c.arch) {
    return Unsupported("architecture " + QuoteForMessage(arch_name) + " is not supported (supported: " +
                       SupportedArchList() + ")");
  }
  const std::string a(arch_name);
  if (const GgufValue* n = f.Find("general.name"); n && n->type == GgufType::kString) c.name = std::string(n->str);
  OC_ASSIGN_OR_RETURN(uint64_t dim, f.GetUint(a + ".embedding_length"));
  OC_ASSIGN_OR_RETURN(uint64_t n_layers, f.GetUint(a + ".block_count"));
  OC_ASSIGN_OR_RETURN(uint64_t ctx, f.GetUintOr(a + ".context_length", 2048));
  OC_RETURN_IF_ERROR(CheckRange("embedding_length", dim, 1, kMaxDim));
  OC_RETURN_IF_ERROR(CheckRange("block_count", n_layers, 1, kMaxLayers));
  OC_RETURN_IF_ERROR(CheckRange("context_length", ctx, 1, 1 << 24));
  c.dim = static_cast<int>(dim);
  c.n_layers = static_cast<int>(n_layers);
  c.ctx_len = static_cast<int>(ctx);
  OC_ASSIGN_OR_RETURN(double eps, f.GetFloatOr(a + ".attention.layer_norm_rms_epsilon", 1e-5));
  OC_ASSIGN_OR_RETURN(double base, f.GetFloatOr(a + ".rope.freq_base", 10000.0));
  if (!(eps > 0 && eps < 1)) return CorruptFile("attention.layer_norm_rms_epsilon must be in (0, 1)");
  if (!(base > 1)) return CorruptFile("rope.freq_base must be > 1");
  c.rms_eps = static_cast<float>(eps);
  c.rope_base = static_cast<float>(base);
  if (const GgufValue* st = f.Find(a + ".rope.scaling.type"); st && st->type == GgufType::kString) {
    if (st->str == "linear") {
      OC_ASSIGN_OR_RETURN(double factor, f.GetFloatOr(a + ".rope.scaling.factor", 1.0));
      if (!(factor >= 1.0 && factor <= 1024.0)) return CorruptFile("rope.scaling.factor must be in [1, 1024]");
      c.rope_freq_scale = static_cast<float>(1.0 / factor);
    } else if (st->str != "none") {
      return Unsupported("rope scaling type " + QuoteForMessage(st->str) + " is not supported yet");
    }
  }
  OC_ASSIGN_OR_RETURN(double ews, f.GetFloatOr(a + ".expert_weights_scale", 0.0));
  c.expert_weights_scale = ews == 0.0 ? 1.0f : static_cast<float>(ews);
  c.layers.resize(c.n_layers);
  for (int il = 0; il < c.n_layers; ++il) {
    OC_RETURN_IF_ERROR(ReadLayer(f, a, c, il, &c.layers[il]));
  }
  const int head_dim = c.layers[0].head_dim;
  for (const LayerSpec& l : c.layers) {
    if (l.head_dim != head_dim) return Unsupported("layers with different head dimensions");
  }
  OC_ASSIGN_OR_RETURN(uint64_t rope_dims, f.GetUintOr(a + ".rope.dimension_count", head_dim));
  if (rope_dims == 0 || rope_dims > static_cast<uint64_t>(head_dim) || rope_dims % 2 != 0) {
    return CorruptFile(StrFormat("rope.dimension_count %llu must be even and at most the head dimension %d",
                                 static_cast<unsigned long long>(rope_dims), head_dim));
  }
  c.rope_dims = static_cast<int>(rope_dims);
  const GgufTensorInfo* emb = f.FindTensor("token_embd.weight");
  if (!emb) return NotFound("tensor 'token_embd.weight' is missing");
  if (emb->n_dims != 2 || emb->dims[1] > (1 << 24)) return CorruptFile("token_embd.weight must be [dim, vocab]");
  c.vocab_size = static_cast<int>(emb->dims[1]);
  return c;
}

}  // namespace omnicoder
