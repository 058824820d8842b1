// The architecture table and ModelConfig helpers (reading is in model_config.cc).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "base/strings.h"
#include "model/model_config.h"

namespace omnicoder {

namespace {

// name, rope, qk_norm, moe_norm_topk, shared_expert_gate, moe_only[, attention, gating,
// activation, ffn_norm tensor]
const ArchSpec kArchTable[] = {
    {"llama", RopeStyle::kNorm, QkNorm::kNone, true, false, false},  // dense and Mixtral
    {"qwen2", RopeStyle::kNeox, QkNorm::kNone, false, false, false},
    {"qwen2moe", RopeStyle::kNeox, QkNorm::kNone, false, true, true},
    {"qwen3", RopeStyle::kNeox, QkNorm::kPerHead, false, false, false},
    {"qwen3moe", RopeStyle::kNeox, QkNorm::kPerHead, true, false, true},
    {"olmoe", RopeStyle::kNeox, QkNorm::kFull, false, false, true},
    // DeepSeek-V2/V3, Kimi-K2, ...: latent attention, leading dense layers, shared experts;
    // top-k renormalization and gating come from metadata (expert_weights_norm, gating_func).
    {"deepseek2", RopeStyle::kNorm, QkNorm::kNone, false, false, false, AttentionKind::kMla},
    {"gpt-oss", RopeStyle::kNeox, QkNorm::kNone, false, false, true, AttentionKind::kGqa, Gating::kSoftmaxSelected,
     Activation::kSwigluOai, "post_attention_norm"},
};

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

#define OC_MAX_OVER_LAYERS(expr)                             \
  int m = 0;                                                 \
  for (const LayerSpec& l : layers) m = std::max(m, (expr)); \
  return m

int ModelConfig::MaxQDim() const {
  OC_MAX_OVER_LAYERS(l.QDim());
}
int ModelConfig::MaxKvDim() const {
  OC_MAX_OVER_LAYERS(std::max(l.KvKDim(), l.KvVDim()));
}
int ModelConfig::MaxAttnOutDim() const {
  OC_MAX_OVER_LAYERS(l.AttnOutDim());
}
int ModelConfig::MaxFfnDim() const {
  OC_MAX_OVER_LAYERS(std::max({l.ffn_dim, l.expert_ffn_dim, l.shared_ffn_dim}));
}
int ModelConfig::MaxExperts() const {
  OC_MAX_OVER_LAYERS(l.n_experts);
}
int ModelConfig::MaxExpertsActive() const {
  OC_MAX_OVER_LAYERS(l.n_experts_active);
}
int ModelConfig::MaxHeads() const {
  OC_MAX_OVER_LAYERS(l.n_heads);
}
#undef OC_MAX_OVER_LAYERS

bool ModelConfig::HasMla() const {
  for (const LayerSpec& l : layers) {
    if (l.attention == AttentionKind::kMla) return true;
  }
  return false;
}

float ModelConfig::KqScale(const LayerSpec& l) const {
  return kq_scale > 0.0f ? kq_scale : 1.0f / std::sqrt(static_cast<float>(l.head_dim));
}

bool ModelConfig::HasMoe() const {
  for (const LayerSpec& l : layers) {
    if (l.moe) return true;
  }
  return false;
}

}  // namespace omnicoder
