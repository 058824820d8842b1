// Deterministic synthetic GGUF models: every supported architecture at any size, with a
// generated SentencePiece vocabulary, written by our own GGUF writer.
//
// The same spec and seed give a byte-identical file on every machine (integer RNG,
// no libm in the weight values, reference quantizers only), so golden outputs from
// llama.cpp can be checked in and compared against a file regenerated in the build tree.
// These models are UNTRAINED: their text is noise; they exist to test and benchmark.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "tensor/dtype.h"

namespace omnicoder {

struct TestModelSpec {
  std::string arch = "llama";  // llama, qwen2, qwen2moe, qwen3, qwen3moe, olmoe
  std::string name = "omnicoder-test";
  int dim = 256;
  int n_layers = 2;
  int n_heads = 4;
  int n_kv_heads = 2;
  int head_dim = 0;   // 0: dim / n_heads
  int ffn_dim = 512;  // dense layers
  int n_experts = 0;  // > 0 makes every layer MoE
  int n_experts_active = 2;
  int expert_ffn_dim = 256;
  int shared_ffn_dim = 0;  // qwen2moe shared expert
  int vocab_size = 512;
  int ctx_len = 512;
  float rope_base = 10000.0f;
  DType type = DType::kF32;         // matrices (norms stay F32)
  DType output_type = DType::kF32;  // output.weight (ignored when tied)
  DType embd_type = DType::kF32;
  bool tied_output = false;
  bool merged_experts = true;  // blk.N.ffn_*_exps (false: one tensor per expert)
  float logit_gain = 1.0f;     // output weight scale: larger spreads logits apart (and amplifies
                               // activation-quantization noise in log-probs)
  uint64_t seed = 1;
  DType expert_type = DType::kF32;  // routed experts when set_expert_type (gpt-oss: MXFP4)
  bool set_expert_type = false;
  // deepseek2 (MLA): q LoRA rank (0: plain attn_q), latent rank, per-head nope/rope/v dims
  int q_lora_rank = 0, kv_lora_rank = 0, qk_nope_dim = 0, qk_rope_dim = 0, v_head_dim = 0;
  int leading_dense = 0;     // leading dense layers (deepseek2)
  int n_shared_experts = 0;  // deepseek2: shared experts of expert_ffn_dim each
  int gating_func = 0;       // 0: arch default, 1 softmax, 2 sigmoid
  bool weights_norm = false;
  float weights_scale = 0.0f;   // 0: none
  bool selection_bias = false;  // exp_probs_b (DeepSeek-V3)
  int expert_groups = 0, expert_groups_used = 0;
  // RoPE scaling ("" none, "yarn", "linear")
  std::string rope_scaling;
  std::string chat_template;  // tokenizer.chat_template ("" = none)
  float rope_factor = 0.0f;
  int rope_orig_ctx = 0;
  float yarn_log_mul = 0.0f;  // as the GGUF stores it (deepseek2: 0.1 * mscale_all_dim)
  int sliding_window = 0;     // gpt-oss: window of the even layers
};

// Presets: "tiny-<arch>" (tests), "default" (run.sh), "tinyllama-1b", "mixtral-16l" (benches).
Result<TestModelSpec> TestModelPreset(const std::string& name);

// Writes the model to `path` (atomically). Rows are generated in parallel with n_threads.
Status WriteTestModel(const TestModelSpec& spec, const std::string& path, int n_threads = 1);

// The generated vocabulary (tokens, scores, types), for tests of the tokenizer.
void MakeTestVocab(int vocab_size, std::vector<std::string>* tokens, std::vector<float>* scores,
                   std::vector<int32_t>* types);

}  // namespace omnicoder
