// Trainable parameters: one flat f32 buffer with named tensors in GGUF naming, and the
// per-block views the forward/backward pass uses. Gradients and Adam moments use the
// same layout (same offsets), so one binding function serves all of them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "train/train_config.h"

namespace omnicoder {

struct ParamTensor {
  std::string name;            // GGUF tensor name ("blk.0.attn_q.weight")
  std::vector<int64_t> shape;  // logical, outermost first: [rows, cols] or [experts, rows, cols]
  size_t offset = 0;           // in floats
  size_t size = 0;
  bool decay = false;     // weight decay applies (matrices, not norms)
  float init_std = 0.0f;  // 0: ones (norm weights)
};

// Tensor list and offsets for a model shape (64-byte aligned tensors).
std::vector<ParamTensor> ParamLayout(const TrainModelConfig& m, float init_std);
size_t ParamCount(const std::vector<ParamTensor>& layout);  // floats incl. alignment padding

struct LayerParams {
  float* attn_norm;  // [dim]
  float* wq;         // [n_heads*head_dim, dim]
  float* wk;         // [n_kv_heads*head_dim, dim]
  float* wv;
  float* wo;        // [dim, n_heads*head_dim]
  float* ffn_norm;  // [dim]
  float* router;    // [n_experts, dim] (MoE) or nullptr
  float* gate;      // [n_experts or 1][ffn, dim]
  float* up;
  float* down;  // [n_experts or 1][dim, ffn]
};

struct ModelParams {
  float* embd;      // [vocab, dim]
  float* out_norm;  // [dim]
  float* output;    // [vocab, dim]; == embd when tied
  std::vector<LayerParams> layers;
};

// Views into `base` (params, grads or moments) with the layout's offsets.
ModelParams BindParams(const TrainModelConfig& m, const std::vector<ParamTensor>& layout, float* base);

// Fills params: N(0, init_std) per tensor from (seed, tensor name), norms = 1.
void InitParams(const std::vector<ParamTensor>& layout, uint64_t seed, float* base);

}  // namespace omnicoder
