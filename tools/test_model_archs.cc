// deepseek2 and gpt-oss synthetic models (see test_model_archs.h).
#include "tools/test_model_archs.h"

#include <cmath>

#include "base/strings.h"
#include "format/gguf_writer.h"

namespace omnicoder {

namespace {

float MatScale(int in) {
  return std::sqrt(3.0f / static_cast<float>(in));
}

void PlanMla(const TestModelSpec& s, int il, std::vector<TensorPlan>* t) {
  auto n = [il](const char* x) { return StrFormat("blk.%d.%s", il, x); };
  const int hd = s.qk_nope_dim + s.qk_rope_dim, q = s.n_heads * hd;
  if (s.q_lora_rank > 0) {
    t->push_back({n("attn_q_a.weight"), {s.dim, s.q_lora_rank}, s.type, MatScale(s.dim), 0.0f});
    t->push_back({n("attn_q_a_norm.weight"), {s.q_lora_rank}, DType::kF32, 0.1f, 1.0f});
    t->push_back({n("attn_q_b.weight"), {s.q_lora_rank, q}, s.type, MatScale(s.q_lora_rank), 0.0f});
  } else {
    t->push_back({n("attn_q.weight"), {s.dim, q}, s.type, MatScale(s.dim), 0.0f});
  }
  t->push_back({n("attn_kv_a_mqa.weight"), {s.dim, s.kv_lora_rank + s.qk_rope_dim}, s.type, MatScale(s.dim), 0.0f});
  t->push_back({n("attn_kv_a_norm.weight"), {s.kv_lora_rank}, DType::kF32, 0.1f, 1.0f});
  t->push_back(
      {n("attn_k_b.weight"), {s.qk_nope_dim, s.kv_lora_rank, s.n_heads}, s.type, MatScale(s.qk_nope_dim), 0.0f});
  t->push_back(
      {n("attn_v_b.weight"), {s.kv_lora_rank, s.v_head_dim, s.n_heads}, s.type, MatScale(s.kv_lora_rank), 0.0f});
  t->push_back(
      {n("attn_output.weight"), {s.n_heads * s.v_head_dim, s.dim}, s.type, MatScale(s.n_heads * s.v_head_dim), 0.0f});
}

void PlanGqaWithBiases(const TestModelSpec& s, int il, std::vector<TensorPlan>* t) {
  auto n = [il](const char* x) { return StrFormat("blk.%d.%s", il, x); };
  const int hd = s.head_dim ? s.head_dim : s.dim / s.n_heads, q = s.n_heads * hd, kv = s.n_kv_heads * hd;
  t->push_back({n("attn_q.weight"), {s.dim, q}, s.type, MatScale(s.dim), 0.0f});
  t->push_back({n("attn_k.weight"), {s.dim, kv}, s.type, MatScale(s.dim), 0.0f});
  t->push_back({n("attn_v.weight"), {s.dim, kv}, s.type, MatScale(s.dim), 0.0f});
  t->push_back({n("attn_output.weight"), {q, s.dim}, s.type, MatScale(q), 0.0f});
  t->push_back({n("attn_q.bias"), {q}, DType::kF32, 0.1f, 0.0f});
  t->push_back({n("attn_k.bias"), {kv}, DType::kF32, 0.1f, 0.0f});
  t->push_back({n("attn_v.bias"), {kv}, DType::kF32, 0.1f, 0.0f});
  t->push_back({n("attn_output.bias"), {s.dim}, DType::kF32, 0.1f, 0.0f});
  t->push_back({n("attn_sinks.weight"), {s.n_heads}, DType::kF32, 1.0f, 0.5f});
}

void PlanMoe(const TestModelSpec& s, int il, std::vector<TensorPlan>* t) {
  auto n = [il](const char* x) { return StrFormat("blk.%d.%s", il, x); };
  const int eff = s.expert_ffn_dim, E = s.n_experts;
  const DType et = s.set_expert_type ? s.expert_type : s.type;
  t->push_back({n("ffn_gate_inp.weight"), {s.dim, E}, DType::kF32, 2.0f * MatScale(s.dim), 0.0f});
  t->push_back({n("ffn_gate_exps.weight"), {s.dim, eff, E}, et, MatScale(s.dim), 0.0f});
  t->push_back({n("ffn_down_exps.weight"), {eff, s.dim, E}, et, MatScale(eff), 0.0f});
  t->push_back({n("ffn_up_exps.weight"), {s.dim, eff, E}, et, MatScale(s.dim), 0.0f});
  if (s.selection_bias) t->push_back({n("exp_probs_b.bias"), {E}, DType::kF32, 0.2f, 0.0f});
  if (s.arch == "gpt-oss") {
    t->push_back({n("ffn_gate_inp.bias"), {E}, DType::kF32, 0.5f, 0.0f});
    t->push_back({n("ffn_gate_exps.bias"), {eff, E}, DType::kF32, 0.1f, 0.0f});
    t->push_back({n("ffn_up_exps.bias"), {eff, E}, DType::kF32, 0.1f, 0.0f});
    t->push_back({n("ffn_down_exps.bias"), {s.dim, E}, DType::kF32, 0.1f, 0.0f});
  }
  if (s.n_shared_experts > 0) {
    const int sf = s.n_shared_experts * eff;
    t->push_back({n("ffn_gate_shexp.weight"), {s.dim, sf}, s.type, MatScale(s.dim), 0.0f});
    t->push_back({n("ffn_up_shexp.weight"), {s.dim, sf}, s.type, MatScale(s.dim), 0.0f});
    t->push_back({n("ffn_down_shexp.weight"), {sf, s.dim}, s.type, MatScale(sf), 0.0f});
  }
}

}  // namespace

Result<TestModelSpec> ArchPreset(const std::string& name, TestModelSpec s) {
  if (name == "deepseek-v2-lite-8l") {  // DeepSeek-V2-Lite's dims, 8 of its 27 layers
    s.arch = "deepseek2";
    s.dim = 2048, s.n_layers = 8, s.n_heads = 16, s.n_kv_heads = 1;
    s.kv_lora_rank = 512, s.qk_nope_dim = 128, s.qk_rope_dim = 64, s.v_head_dim = 128;
    s.leading_dense = 1, s.ffn_dim = 10944;
    s.n_experts = 64, s.n_experts_active = 6, s.expert_ffn_dim = 1408, s.n_shared_experts = 2;
    s.vocab_size = 102400, s.ctx_len = 163840, s.gating_func = 1;
    s.rope_scaling = "yarn", s.rope_factor = 40.0f, s.rope_orig_ctx = 4096, s.yarn_log_mul = 0.0707f;
    s.type = s.embd_type = DType::kQ4_K, s.output_type = DType::kQ6_K;
    return s;
  }
  if (name == "gpt-oss-20b-6l") {  // gpt-oss-20b's dims, 6 of its 24 layers
    s.arch = "gpt-oss";
    s.dim = 2880, s.n_layers = 6, s.n_heads = 64, s.n_kv_heads = 8, s.head_dim = 64;
    s.n_experts = 32, s.n_experts_active = 4, s.expert_ffn_dim = 2880;
    s.vocab_size = 201088, s.ctx_len = 131072, s.sliding_window = 128;
    s.rope_base = 150000.0f, s.rope_scaling = "yarn", s.rope_factor = 32.0f, s.rope_orig_ctx = 4096;
    s.set_expert_type = true, s.expert_type = DType::kMXFP4;
    s.type = s.embd_type = s.output_type = DType::kQ8_0;
    return s;
  }
  if (name == "tiny-gpt-oss") {
    s.arch = "gpt-oss";
    s.dim = 256, s.n_layers = 2, s.n_heads = 8, s.n_kv_heads = 2, s.head_dim = 32;
    s.n_experts = 8, s.n_experts_active = 2, s.expert_ffn_dim = 128;
    s.ctx_len = 1024, s.sliding_window = 128;
    s.rope_base = 150000.0f, s.rope_scaling = "yarn", s.rope_factor = 8.0f, s.rope_orig_ctx = 128;
    s.set_expert_type = true, s.expert_type = DType::kMXFP4;  // as gpt-oss ships
    return s;
  }
  s.arch = "deepseek2";
  s.dim = 256, s.n_layers = 3, s.n_heads = 4, s.n_kv_heads = 1;
  s.kv_lora_rank = 64, s.qk_nope_dim = 32, s.qk_rope_dim = 16, s.v_head_dim = 32;
  s.leading_dense = 1, s.ffn_dim = 256;
  s.n_experts = 8, s.n_experts_active = 2, s.expert_ffn_dim = 64, s.n_shared_experts = 2;
  s.ctx_len = 1024;
  s.rope_scaling = "yarn", s.rope_factor = 4.0f, s.rope_orig_ctx = 256, s.yarn_log_mul = 0.0707f;
  if (name == "tiny-deepseek3") {
    s.q_lora_rank = 96;
    s.gating_func = 2, s.weights_norm = true, s.weights_scale = 2.5f, s.selection_bias = true;
    s.expert_groups = 4, s.expert_groups_used = 2;
  } else {
    s.gating_func = 1;
  }
  return s;
}

std::vector<TensorPlan> PlanArchTensors(const TestModelSpec& s) {
  std::vector<TensorPlan> t;
  t.push_back({"token_embd.weight", {s.dim, s.vocab_size}, s.embd_type, 1.0f, 0.0f});
  t.push_back({"output_norm.weight", {s.dim}, DType::kF32, 0.1f, 1.0f});
  t.push_back({"output.weight", {s.dim, s.vocab_size}, s.output_type, s.logit_gain * MatScale(s.dim), 0.0f});
  const bool gpt_oss = s.arch == "gpt-oss";
  for (int il = 0; il < s.n_layers; ++il) {
    auto n = [il](const char* x) { return StrFormat("blk.%d.%s", il, x); };
    t.push_back({n("attn_norm.weight"), {s.dim}, DType::kF32, 0.1f, 1.0f});
    if (gpt_oss) {
      PlanGqaWithBiases(s, il, &t);
    } else {
      PlanMla(s, il, &t);
    }
    t.push_back({n(gpt_oss ? "post_attention_norm.weight" : "ffn_norm.weight"), {s.dim}, DType::kF32, 0.1f, 1.0f});
    if (il < s.leading_dense) {
      t.push_back({n("ffn_gate.weight"), {s.dim, s.ffn_dim}, s.type, MatScale(s.dim), 0.0f});
      t.push_back({n("ffn_up.weight"), {s.dim, s.ffn_dim}, s.type, MatScale(s.dim), 0.0f});
      t.push_back({n("ffn_down.weight"), {s.ffn_dim, s.dim}, s.type, MatScale(s.ffn_dim), 0.0f});
    } else {
      PlanMoe(s, il, &t);
    }
  }
  return t;
}

void SetArchMetadata(const TestModelSpec& s, GgufWriter* w) {
  const std::string a = s.arch;
  if (!s.rope_scaling.empty()) {
    w->SetString(a + ".rope.scaling.type", s.rope_scaling);
    w->SetFloat32(a + ".rope.scaling.factor", s.rope_factor);
    w->SetUint32(a + ".rope.scaling.original_context_length", s.rope_orig_ctx);
    if (s.yarn_log_mul != 0.0f) w->SetFloat32(a + ".rope.scaling.yarn_log_multiplier", s.yarn_log_mul);
  }
  if (a == "gpt-oss") {
    w->SetUint32(a + ".attention.sliding_window", s.sliding_window);
    return;
  }
  if (a != "deepseek2") return;
  w->SetUint32(a + ".feed_forward_length", s.ffn_dim);  // the leading dense layers
  w->SetUint32(a + ".leading_dense_block_count", s.leading_dense);
  w->SetUint32(a + ".attention.q_lora_rank", s.q_lora_rank);
  w->SetUint32(a + ".attention.kv_lora_rank", s.kv_lora_rank);
  // Absorbed MLA as llama.cpp's converter writes it: one latent "KV head".
  w->SetUint32(a + ".attention.head_count_kv", 1);
  w->SetUint32(a + ".attention.key_length", s.kv_lora_rank + s.qk_rope_dim);
  w->SetUint32(a + ".attention.value_length", s.kv_lora_rank);
  w->SetUint32(a + ".attention.key_length_mla", s.qk_nope_dim + s.qk_rope_dim);
  w->SetUint32(a + ".attention.value_length_mla", s.v_head_dim);
  w->SetUint32(a + ".rope.dimension_count", s.qk_rope_dim);
  w->SetUint32(a + ".expert_shared_count", s.n_shared_experts);
  w->SetFloat32(a + ".expert_weights_scale", s.weights_scale == 0.0f ? 1.0f : s.weights_scale);
  w->SetBool(a + ".expert_weights_norm", s.weights_norm);
  if (s.gating_func > 0) w->SetUint32(a + ".expert_gating_func", s.gating_func);
  if (s.expert_groups > 0) {
    w->SetUint32(a + ".expert_group_count", s.expert_groups);
    w->SetUint32(a + ".expert_group_used_count", s.expert_groups_used);
  }
}

}  // namespace omnicoder
