// ModelConfig: an architecture as data — one arch table row plus one spec per layer.
//
// Adding a GGUF architecture that only recombines existing blocks is a row in
// kArchTable (arch_table.cc) and a tiny-model test; only a new kind of block adds code.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace omnicoder {

class GgufFile;

enum class RopeStyle { kNorm, kNeox };  // pairs (2i, 2i+1) or (i, i + n_rot/2)
enum class QkNorm { kNone, kPerHead, kFull };  // RMSNorm of q/k per head or over all heads

struct ArchSpec {
  std::string_view name;       // general.architecture
  RopeStyle rope;
  QkNorm qk_norm;
  bool moe_norm_topk;          // renormalize the top-k router weights to sum to 1
  bool shared_expert_gate;     // sigmoid(w . x) gate on the shared expert (qwen2moe)
  bool moe_only;               // every layer must be MoE
};

// nullptr when the architecture is not in the table.
const ArchSpec* FindArch(std::string_view name);
// "llama, qwen2, ..." for messages.
std::string SupportedArchList();

struct LayerSpec {
  int n_heads = 0;
  int n_kv_heads = 0;
  int head_dim = 0;
  bool moe = false;
  int ffn_dim = 0;             // dense FFN hidden size (0 in MoE layers)
  int n_experts = 0;
  int n_experts_active = 0;
  int expert_ffn_dim = 0;
  int shared_ffn_dim = 0;      // 0: no shared expert
};

struct ModelConfig {
  const ArchSpec* arch = nullptr;
  std::string name;            // general.name
  int dim = 0;
  int n_layers = 0;
  int vocab_size = 0;
  int ctx_len = 0;             // trained context length
  float rms_eps = 1e-5f;
  float rope_base = 10000.0f;
  float rope_freq_scale = 1.0f;  // linear scaling: 1 / factor
  int rope_dims = 0;           // rotated dims per head (<= head_dim)
  float expert_weights_scale = 1.0f;
  std::vector<LayerSpec> layers;

  int MaxQDim() const;         // max over layers of n_heads * head_dim
  int MaxKvDim() const;        // max n_kv_heads * head_dim
  int MaxFfnDim() const;       // max over dense, expert and shared FFN sizes
  int MaxExperts() const;
  int MaxExpertsActive() const;
  int MaxHeads() const;
  bool HasMoe() const;
};

// Reads hyperparameters from metadata; per-layer MoE-ness is decided by the caller
// from the tensors present (see LoadModelWeights). Validates ranges.
Result<ModelConfig> ReadModelConfig(const GgufFile& file);

}  // namespace omnicoder
