// Model weights: views of the GGUF tensors, shaped and checked once at load.
//
// Matrices are [rows = out_dim, cols = in_dim] in their stored format (y = W x); they
// point into the mapped file. Small vectors (norms, biases) are converted to f32 and
// owned here. Expert matrices are NOT reachable from here: the MoE block gets them
// only through ExpertSource (expert_source.h), so a pager can sit behind it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "base/function_ref.h"
#include "base/status.h"
#include "kernels/kernel_table.h"
#include "kernels/repack.h"
#include "model/model_config.h"
#include "tensor/dtype.h"

namespace omnicoder {

class GgufFile;
class Logger;

struct WeightMatrix {
  DType type = DType::kF32;
  WeightLayout layout = WeightLayout::kRows;
  const uint8_t* data = nullptr;
  int rows = 0;
  int cols = 0;
  size_t row_bytes = 0;
  bool present() const { return data != nullptr; }
  size_t bytes() const { return row_bytes * static_cast<size_t>(rows); }
};

struct AttentionWeights {
  WeightMatrix wq, wk, wv, wo;
  const float* bq = nullptr;  // optional biases (qwen2, gpt-oss)
  const float* bk = nullptr;
  const float* bv = nullptr;
  const float* bo = nullptr;      // attn_output bias (gpt-oss)
  const float* q_norm = nullptr;  // [head_dim] (per head) or [n_heads*head_dim] (full)
  const float* k_norm = nullptr;
  const float* sinks = nullptr;  // [n_heads] attention-sink logits (gpt-oss)
  // MLA (wq is used when there is no q LoRA).
  WeightMatrix wq_a, wq_b;  // [q_lora_rank, dim], [n_heads * head_dim, q_lora_rank]
  const float* q_a_norm = nullptr;
  WeightMatrix wkv_a;  // [kv_lora_rank + qk_rope_dim, dim]
  const float* kv_a_norm = nullptr;
  std::vector<WeightMatrix> wk_b;  // per head: [kv_lora_rank, qk_nope_dim] (q_nope -> latent)
  std::vector<WeightMatrix> wv_b;  // per head: [v_head_dim, kv_lora_rank] (latent -> value)
};

struct FfnWeights {
  WeightMatrix gate, up, down;  // gate/up: [ffn, dim]; down: [dim, ffn]
};

struct MoeWeights {
  WeightMatrix router;                    // [n_experts, dim]
  const float* router_bias = nullptr;     // [n_experts] added to the logits (gpt-oss)
  const float* selection_bias = nullptr;  // [n_experts] exp_probs_b: biases the choice only (DeepSeek-V3)
  const float* gate_bias = nullptr;       // [n_experts][expert_ffn] (gpt-oss)
  const float* up_bias = nullptr;
  const float* down_bias = nullptr;  // [n_experts][dim]
  FfnWeights shared;                 // present() when the layer has a shared expert
  WeightMatrix shared_gate;          // [1, dim] (qwen2moe)
};

struct LayerWeights {
  const float* attn_norm = nullptr;
  const float* ffn_norm = nullptr;
  AttentionWeights attn;
  FfnWeights ffn;  // dense layers
  MoeWeights moe;  // MoE layers (experts via ExpertSource)
};

struct ModelWeights {
  WeightMatrix token_embd;  // [vocab, dim]
  WeightMatrix output;      // [vocab, dim]; token_embd when tied
  const float* output_norm = nullptr;
  std::vector<LayerWeights> layers;
  // experts[layer][expert]; empty for dense layers.
  std::vector<std::vector<FfnWeights>> experts;
  std::vector<std::unique_ptr<float[]>> owned;  // f32 copies of small vectors
  uint64_t non_expert_bytes = 0;
  bool tied_output = false;  // output is token_embd (read whole every token)
  uint64_t expert_bytes = 0;
};

struct WeightLoadOptions {
  // Scan every tensor (all blocks' scales too) for NaN/Inf; otherwise only small
  // float tensors (norms, biases, f32/f16 matrices up to 64 MiB) are scanned.
  bool check_all_tensors = false;
};

// Calls fn on every matrix (experts included; a fused QKV tensor appears as three).
void ForEachMatrix(ModelWeights* weights, FunctionRef<void(WeightMatrix&)> fn);

// Rewrites the matrices (not the embedding) whose type `kernels` prefers interleaved into
// the 8-row layout, in place; the data must be writable (copied out of the mapping).
void InterleaveWeights(ModelWeights* weights, const KernelTable& kernels, bool include_experts = true);

// Moves every matrix pointer in [old_begin, old_end) to the same offset from new_begin
// (after the tensor data was copied out of the mapping).
void RebaseWeights(ModelWeights* weights, const uint8_t* old_begin, const uint8_t* old_end, const uint8_t* new_begin);

// Binds and checks every tensor the config needs (shape, type, presence).
Result<ModelWeights> LoadModelWeights(const GgufFile& file, const ModelConfig& config,
                                      const WeightLoadOptions& options);

}  // namespace omnicoder
