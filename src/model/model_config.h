// ModelConfig: an architecture as data — one arch table row plus one spec per layer.
//
// Adding a GGUF architecture that only recombines existing blocks is a row in
// kArchTable (arch_table.cc) and a tiny-model test; only a new kind of block adds code.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace omnicoder {

class GgufFile;

enum class RopeStyle { kNorm, kNeox };         // pairs (2i, 2i+1) or (i, i + n_rot/2)
enum class QkNorm { kNone, kPerHead, kFull };  // RMSNorm of q/k per head or over all heads
enum class AttentionKind { kGqa, kMla };       // grouped-query, or DeepSeek's latent attention
// Router: softmax over every expert; sigmoid per expert; or top-k of the raw logits with a
// softmax over the k chosen (gpt-oss).
enum class Gating { kSoftmax, kSigmoid, kSoftmaxSelected };
enum class Activation { kSwiglu, kSwigluOai };  // silu(g) * u, or gpt-oss's clamped form

struct ArchSpec {
  std::string_view name;  // general.architecture
  RopeStyle rope;
  QkNorm qk_norm;
  bool moe_norm_topk;       // renormalize the top-k router weights to sum to 1
  bool shared_expert_gate;  // sigmoid(w . x) gate on the shared expert (qwen2moe)
  bool moe_only;            // every layer must be MoE
  AttentionKind attention = AttentionKind::kGqa;
  Gating gating = Gating::kSoftmax;
  Activation activation = Activation::kSwiglu;
  const char* ffn_norm = "ffn_norm";  // tensor name of the pre-FFN norm
};

// nullptr when the architecture is not in the table.
const ArchSpec* FindArch(std::string_view name);
// "llama, qwen2, ..." for messages.
std::string SupportedArchList();

struct LayerSpec {
  AttentionKind attention = AttentionKind::kGqa;
  int n_heads = 0;
  int n_kv_heads = 0;
  int head_dim = 0;    // q/k width per head (MLA: qk_nope_dim + qk_rope_dim)
  int v_head_dim = 0;  // value width per head (= head_dim for GQA)
  // MLA (DeepSeek-V2/V3): q optionally through a low-rank q_lora_rank; K/V compressed
  // into kv_lora_rank latent dims + qk_rope_dim shared RoPE dims per token.
  int q_lora_rank = 0;
  int kv_lora_rank = 0;
  int qk_nope_dim = 0;
  int qk_rope_dim = 0;
  int sliding_window = 0;  // > 0: attend only the last sliding_window positions
  bool moe = false;
  int ffn_dim = 0;  // dense FFN hidden size (0 in MoE layers)
  int n_experts = 0;
  int n_experts_active = 0;
  int expert_ffn_dim = 0;
  int shared_ffn_dim = 0;  // 0: no shared expert

  int QDim() const { return n_heads * head_dim; }          // width of the q projection
  int AttnOutDim() const { return n_heads * v_head_dim; }  // input width of attn_output
  // Floats per cached position: K rows and V rows (MLA caches one latent row; V is its
  // first kv_lora_rank values, so KvVDim is 0).
  int KvKDim() const { return attention == AttentionKind::kMla ? kv_lora_rank + qk_rope_dim : n_kv_heads * head_dim; }
  int KvVDim() const { return attention == AttentionKind::kMla ? 0 : n_kv_heads * v_head_dim; }
  // Cache bytes one position takes in this layer (elem: bytes per value).
  uint64_t KvBytesPerPosition(uint64_t elem) const { return elem * static_cast<uint64_t>(KvKDim() + KvVDim()); }
};

// Rotary embedding as ggml computes it (linear scaling and YaRN folded in).
struct RopeParams {
  float base = 10000.0f;
  float base_swa = 10000.0f;                // sliding-window layers (gpt-oss may set its own)
  int dims = 0;                             // rotated dims per head
  float freq_scale = 1.0f;                  // 1 / scaling factor
  float ext_factor = 0.0f;                  // YaRN: 1, else 0
  float attn_factor = 1.0f;                 // magnitude scale applied to cos/sin
  float corr_low = 0.0f, corr_high = 0.0f;  // YaRN ramp (dims)
};

struct RouterParams {
  Gating gating = Gating::kSoftmax;
  bool norm_topk = false;  // renormalize the k weights to sum to 1
  float weights_scale = 1.0f;
  int n_groups = 1;      // group-limited routing (DeepSeek-V3): pick n_group_used
  int n_group_used = 1;  // groups by their top-2 score sum, then top-k inside them
};

struct ModelConfig {
  const ArchSpec* arch = nullptr;
  std::string name;  // general.name
  int dim = 0;
  int n_layers = 0;
  int vocab_size = 0;
  int ctx_len = 0;  // trained context length
  float rms_eps = 1e-5f;
  RopeParams rope;
  float kq_scale = 0.0f;  // attention logit scale (0: 1/sqrt(head_dim))
  RouterParams router;
  std::vector<LayerSpec> layers;

  int MaxQDim() const;   // max over layers of the q projection width
  int MaxKvDim() const;  // max K or V row width
  int MaxAttnOutDim() const;
  int MaxFfnDim() const;  // max over dense, expert and shared FFN sizes
  int MaxExperts() const;
  int MaxExpertsActive() const;
  int MaxHeads() const;
  bool HasMoe() const;
  bool HasMla() const;
  float KqScale(const LayerSpec& l) const;
};

// Reads hyperparameters from metadata; per-layer MoE-ness is decided by the tensors
// present (a router means MoE). Validates ranges.
Result<ModelConfig> ReadModelConfig(const GgufFile& file);

}  // namespace omnicoder
