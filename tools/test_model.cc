// Synthetic model generator (see test_model.h).
#include "tools/test_model.h"
#include "tools/test_model_archs.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>

#include "base/hash.h"
#include "base/strings.h"
#include "format/gguf_writer.h"
#include "model/model_config.h"
#include "threading/thread_pool.h"

namespace omnicoder {

namespace {

// Uniform in [-1, 1) from 24 random bits: exact in float, identical everywhere.
float Uniform(uint64_t* state) {
  *state = SplitMix64(*state);
  return static_cast<float>(static_cast<int32_t>(*state >> 40) - (1 << 23)) * (1.0f / (1 << 23));
}

const char* kWords[] = {
    "the",   "of",     "and",   "to",     "in",     "is",     "that",  "for",   "it",     "as",    "was",  "with",
    "be",    "by",     "on",    "not",    "he",     "this",   "are",   "or",    "his",    "from",  "at",   "which",
    "but",   "have",   "an",    "had",    "they",   "you",    "were",  "their", "one",    "all",   "we",   "can",
    "her",   "has",    "there", "been",   "if",     "more",   "when",  "will",  "would",  "who",   "so",   "no",
    "code",  "model",  "token", "expert", "memory", "fast",   "small", "int",   "return", "void",  "def",  "class",
    "for",   "while",  "if",    "else",   "print",  "import", "from",  "self",  "data",   "time",  "once", "upon",
    "story", "little", "girl",  "boy",    "day",    "sun",    "tree",  "happy", "play",   "friend"};

}  // namespace

void MakeTestVocab(int vocab_size, std::vector<std::string>* tokens, std::vector<float>* scores,
                   std::vector<int32_t>* types) {
  tokens->clear();
  scores->clear();
  types->clear();
  auto add = [&](const std::string& t, float score, int32_t type) {
    tokens->push_back(t);
    scores->push_back(score);
    types->push_back(type);
  };
  add("<unk>", 0.0f, 2);
  add("<s>", 0.0f, 3);
  add("</s>", 0.0f, 3);
  for (int b = 0; b < 256; ++b) add(StrFormat("<0x%02X>", b), 0.0f, 6);
  const std::string sp = "\xe2\x96\x81";  // U+2581
  std::vector<std::string> pieces = {sp};
  for (char c = 'a'; c <= 'z'; ++c) pieces.push_back(std::string(1, c));
  for (char c = 'a'; c <= 'z'; ++c) pieces.push_back(sp + c);
  for (const char* p : {".", ",", "!", "?", "'", "\"", "(", ")", ":", ";", "-", "0", "1", "2",
                        "3", "4", "5", "6", "7", "8",  "9", "=", "+", "{", "}", "_", "/", "\n"}) {
    pieces.push_back(p);
  }
  for (const char* w : kWords) pieces.push_back(sp + w);
  for (const char* w : kWords) pieces.push_back(w);
  for (char a = 'a'; a <= 'z'; ++a) {
    for (char b : {'e', 't', 'a', 'o', 'n', 's', 'r', 'h'}) pieces.push_back(std::string(1, a) + b);
  }
  std::vector<std::string> unique;
  for (const std::string& p : pieces) {
    bool dup = false;
    for (const std::string& u : unique) dup = dup || u == p;
    if (!dup) unique.push_back(p);
    if (static_cast<int>(unique.size() + tokens->size()) >= vocab_size) break;
  }
  float score = -1.0f;
  for (const std::string& p : unique) add(p, score -= 1.0f, 1);
  for (int i = 0; static_cast<int>(tokens->size()) < vocab_size; ++i) add(sp + StrFormat("w%d", i), score -= 1.0f, 1);
}

Result<TestModelSpec> TestModelPreset(const std::string& name) {
  TestModelSpec s;
  s.name = "omnicoder-" + name + " (UNTRAINED synthetic weights)";
  // Real MoE shapes at small width: "tiny-<arch>-<E>x<K>" (e.g. tiny-qwen3moe-128x8).
  if (name.rfind("tiny-", 0) == 0 && name.find('x', name.rfind('-')) != std::string::npos && name.rfind('-') > 4) {
    const size_t dash = name.rfind('-');
    int n_exp = 0, n_act = 0;
    if (std::sscanf(name.c_str() + dash + 1, "%dx%d", &n_exp, &n_act) != 2 || n_exp < 1 || n_act < 1 || n_act > n_exp) {
      return InvalidArgument("bad expert shape in preset '" + name + "' (want tiny-<arch>-<E>x<K>)");
    }
    OC_ASSIGN_OR_RETURN(s, TestModelPreset(name.substr(0, dash)));
    s.name = "omnicoder-" + name + " (UNTRAINED synthetic weights)";
    if (s.n_experts == 0) return InvalidArgument("preset '" + name + "': " + s.arch + " has no experts");
    s.n_experts = n_exp, s.n_experts_active = n_act;
    s.expert_ffn_dim = 128;
    s.ctx_len = 1024;
    if (s.shared_ffn_dim > 0) s.shared_ffn_dim = 512;
    return s;
  }
  if (name == "tiny-deepseek2" || name == "tiny-deepseek3" || name == "tiny-gpt-oss" || name == "deepseek-v2-lite-8l" ||
      name == "gpt-oss-20b-6l") {
    return ArchPreset(name, s);
  }
  if (name.rfind("tiny-", 0) == 0) {
    s.arch = name.substr(5);
    if (!FindArch(s.arch) && s.arch != "mixtral") return InvalidArgument("unknown arch in preset '" + name + "'");
    if (s.arch == "mixtral") {
      s.arch = "llama";
      s.n_experts = 4;
    }
    if (s.arch == "qwen2moe" || s.arch == "qwen3moe" || s.arch == "olmoe") s.n_experts = 4;
    if (s.arch == "qwen2moe") s.shared_ffn_dim = 256;
    if (s.arch == "olmoe") s.n_kv_heads = 4;
    if (s.arch == "qwen3" || s.arch == "qwen3moe") s.head_dim = 32;  // q width 128 != dim, as in Qwen3
    return s;
  }
  if (name == "default") {
    s.arch = "qwen3moe";
    s.dim = 256, s.n_layers = 4, s.n_heads = 8, s.n_kv_heads = 2, s.head_dim = 32;
    s.n_experts = 8, s.n_experts_active = 2, s.expert_ffn_dim = 256;
    s.vocab_size = 1024, s.ctx_len = 2048;
    s.type = s.output_type = s.embd_type = DType::kQ8_0;
    return s;
  }
  if (name == "tinyllama-1b" || name == "mixtral-16l") {
    s.dim = 2048, s.n_heads = 32, s.n_kv_heads = 4, s.ffn_dim = 5632, s.vocab_size = 32000, s.ctx_len = 2048;
    s.n_layers = 22;
    s.type = s.embd_type = DType::kQ4_0;
    s.output_type = DType::kQ6_K;
    s.logit_gain = 1.0f;
    if (name == "mixtral-16l") {
      s.n_layers = 16;
      s.n_experts = 8, s.n_experts_active = 2, s.expert_ffn_dim = 5632;
    }
    return s;
  }
  return InvalidArgument("unknown preset '" + name +
                         "' (tiny-<arch>, tiny-mixtral, default, tinyllama-1b, mixtral-16l)");
}

namespace {

// The MoE FFN tensors of layer il (router, experts merged or one per expert, shared expert).
void PlanMoeFfn(const TestModelSpec& s, int il, std::vector<TensorPlan>* out) {
  std::vector<TensorPlan>& t = *out;
  auto mat_scale = [](int in) { return std::sqrt(3.0f / static_cast<float>(in)); };
  auto n = [il](const char* x) { return StrFormat("blk.%d.%s", il, x); };
  const int eff = s.expert_ffn_dim;
  t.push_back({n("ffn_gate_inp.weight"), {s.dim, s.n_experts}, DType::kF32, 2.0f * mat_scale(s.dim), 0.0f});
  if (s.merged_experts) {
    t.push_back({n("ffn_gate_exps.weight"), {s.dim, eff, s.n_experts}, s.type, mat_scale(s.dim), 0.0f});
    t.push_back({n("ffn_down_exps.weight"), {eff, s.dim, s.n_experts}, s.type, mat_scale(eff), 0.0f});
    t.push_back({n("ffn_up_exps.weight"), {s.dim, eff, s.n_experts}, s.type, mat_scale(s.dim), 0.0f});
  } else {
    for (int e = 0; e < s.n_experts; ++e) {
      t.push_back({StrFormat("blk.%d.ffn_gate.%d.weight", il, e), {s.dim, eff}, s.type, mat_scale(s.dim), 0.0f});
      t.push_back({StrFormat("blk.%d.ffn_down.%d.weight", il, e), {eff, s.dim}, s.type, mat_scale(eff), 0.0f});
      t.push_back({StrFormat("blk.%d.ffn_up.%d.weight", il, e), {s.dim, eff}, s.type, mat_scale(s.dim), 0.0f});
    }
  }
  if (s.shared_ffn_dim > 0) {
    const int sf = s.shared_ffn_dim;
    t.push_back({n("ffn_gate_inp_shexp.weight"), {s.dim}, DType::kF32, mat_scale(s.dim), 0.0f});
    t.push_back({n("ffn_gate_shexp.weight"), {s.dim, sf}, s.type, mat_scale(s.dim), 0.0f});
    t.push_back({n("ffn_up_shexp.weight"), {s.dim, sf}, s.type, mat_scale(s.dim), 0.0f});
    t.push_back({n("ffn_down_shexp.weight"), {sf, s.dim}, s.type, mat_scale(sf), 0.0f});
  }
}

std::vector<TensorPlan> PlanTensors(const TestModelSpec& s) {
  if (s.arch == "deepseek2" || s.arch == "gpt-oss") return PlanArchTensors(s);
  const int hd = s.head_dim ? s.head_dim : s.dim / s.n_heads;
  const int q = s.n_heads * hd, kv = s.n_kv_heads * hd;
  auto mat_scale = [](int in) { return std::sqrt(3.0f / static_cast<float>(in)); };
  std::vector<TensorPlan> t;
  t.push_back({"token_embd.weight", {s.dim, s.vocab_size}, s.embd_type, 1.0f, 0.0f});
  t.push_back({"output_norm.weight", {s.dim}, DType::kF32, 0.1f, 1.0f});
  if (!s.tied_output)
    t.push_back({"output.weight", {s.dim, s.vocab_size}, s.output_type, s.logit_gain * mat_scale(s.dim), 0.0f});
  const bool moe = s.n_experts > 0;
  for (int il = 0; il < s.n_layers; ++il) {
    auto n = [il](const char* x) { return StrFormat("blk.%d.%s", il, x); };
    t.push_back({n("attn_norm.weight"), {s.dim}, DType::kF32, 0.1f, 1.0f});
    t.push_back({n("attn_q.weight"), {s.dim, q}, s.type, mat_scale(s.dim), 0.0f});
    t.push_back({n("attn_k.weight"), {s.dim, kv}, s.type, mat_scale(s.dim), 0.0f});
    t.push_back({n("attn_v.weight"), {s.dim, kv}, s.type, mat_scale(s.dim), 0.0f});
    t.push_back({n("attn_output.weight"), {q, s.dim}, s.type, mat_scale(q), 0.0f});
    if (s.arch == "qwen2" || s.arch == "qwen2moe") {
      t.push_back({n("attn_q.bias"), {q}, DType::kF32, 0.1f, 0.0f});
      t.push_back({n("attn_k.bias"), {kv}, DType::kF32, 0.1f, 0.0f});
      t.push_back({n("attn_v.bias"), {kv}, DType::kF32, 0.1f, 0.0f});
    }
    if (s.arch == "qwen3" || s.arch == "qwen3moe") {
      t.push_back({n("attn_q_norm.weight"), {hd}, DType::kF32, 0.1f, 1.0f});
      t.push_back({n("attn_k_norm.weight"), {hd}, DType::kF32, 0.1f, 1.0f});
    }
    if (s.arch == "olmoe") {
      t.push_back({n("attn_q_norm.weight"), {q}, DType::kF32, 0.1f, 1.0f});
      t.push_back({n("attn_k_norm.weight"), {kv}, DType::kF32, 0.1f, 1.0f});
    }
    t.push_back({n("ffn_norm.weight"), {s.dim}, DType::kF32, 0.1f, 1.0f});
    if (!moe) {
      t.push_back({n("ffn_gate.weight"), {s.dim, s.ffn_dim}, s.type, mat_scale(s.dim), 0.0f});
      t.push_back({n("ffn_up.weight"), {s.dim, s.ffn_dim}, s.type, mat_scale(s.dim), 0.0f});
      t.push_back({n("ffn_down.weight"), {s.ffn_dim, s.dim}, s.type, mat_scale(s.ffn_dim), 0.0f});
      continue;
    }
    PlanMoeFfn(s, il, &t);
  }
  return t;
}

void SetMetadata(const TestModelSpec& s, GgufWriter* w) {
  const std::string a = s.arch;
  const int hd = s.head_dim ? s.head_dim : s.dim / s.n_heads;
  w->SetString("general.architecture", a);
  w->SetString("general.name", s.name);
  w->SetString("general.description", "UNTRAINED: deterministic synthetic weights written by omnicoder's generator");
  w->SetUint32("general.quantization_version", 2);
  w->SetUint32(a + ".context_length", s.ctx_len);
  w->SetUint32(a + ".embedding_length", s.dim);
  w->SetUint32(a + ".block_count", s.n_layers);
  w->SetUint32(a + ".feed_forward_length", s.n_experts > 0 ? s.expert_ffn_dim : s.ffn_dim);
  w->SetUint32(a + ".attention.head_count", s.n_heads);
  w->SetUint32(a + ".attention.head_count_kv", s.n_kv_heads);
  if (hd * s.n_heads != s.dim) {
    w->SetUint32(a + ".attention.key_length", hd);
    w->SetUint32(a + ".attention.value_length", hd);
  }
  w->SetFloat32(a + ".attention.layer_norm_rms_epsilon", 1e-6f);
  w->SetFloat32(a + ".rope.freq_base", s.rope_base);
  w->SetUint32(a + ".rope.dimension_count", hd);
  w->SetUint32(a + ".vocab_size", s.vocab_size);
  if (s.n_experts > 0) {
    w->SetUint32(a + ".expert_count", s.n_experts);
    w->SetUint32(a + ".expert_used_count", s.n_experts_active);
    w->SetUint32(a + ".expert_feed_forward_length", s.expert_ffn_dim);
    if (s.shared_ffn_dim > 0) w->SetUint32(a + ".expert_shared_feed_forward_length", s.shared_ffn_dim);
  }
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<int32_t> types;
  MakeTestVocab(s.vocab_size, &tokens, &scores, &types);
  SetArchMetadata(s, w);
  w->SetString("tokenizer.ggml.model", "llama");
  w->SetString("tokenizer.ggml.pre", "default");
  if (!s.chat_template.empty()) w->SetString("tokenizer.chat_template", s.chat_template);
  w->SetStringArray("tokenizer.ggml.tokens", tokens);
  w->SetFloat32Array("tokenizer.ggml.scores", scores);
  w->SetInt32Array("tokenizer.ggml.token_type", types);
  w->SetUint32("tokenizer.ggml.bos_token_id", 1);
  w->SetUint32("tokenizer.ggml.eos_token_id", 2);
  w->SetUint32("tokenizer.ggml.unknown_token_id", 0);
  w->SetBool("tokenizer.ggml.add_bos_token", true);
  w->SetBool("tokenizer.ggml.add_eos_token", false);
}

}  // namespace

Status WriteTestModel(const TestModelSpec& s, const std::string& path, int n_threads) {
  if (!FindArch(s.arch)) return InvalidArgument("unknown arch '" + s.arch + "'");
  if (s.vocab_size < 300) return InvalidArgument("vocab_size must be at least 300");
  GgufWriter w;
  SetMetadata(s, &w);
  auto pool = std::make_shared<ThreadPool>(n_threads > 0 ? n_threads : 1);
  for (TensorPlan& p : PlanTensors(s)) {
    DType type = p.type;
    if (p.dims[0] % GetDTypeTraits(type).block_size != 0) type = DType::kF16;
    const uint64_t seed = SplitMix64(s.seed ^ NameHash64(p.name));
    auto plan = std::make_shared<TensorPlan>(p);
    OC_RETURN_IF_ERROR(w.AddTensor(p.name, type, p.dims, [plan, type, seed, pool](uint8_t* dst, size_t) {
      const int64_t cols = plan->dims[0];
      int64_t rows = 1;
      for (size_t d = 1; d < plan->dims.size(); ++d) rows *= plan->dims[d];
      const size_t row_bytes = RowBytes(type, cols);
      const DTypeTraits& traits = GetDTypeTraits(type);
      pool->ParallelFor(rows, 1, [&](int64_t r0, int64_t r1, int) {
        std::vector<float> row(static_cast<size_t>(cols));
        for (int64_t r = r0; r < r1; ++r) {
          uint64_t state = SplitMix64(seed + static_cast<uint64_t>(r));
          for (float& v : row) v = plan->offset + plan->scale * Uniform(&state);
          traits.quantize(row.data(), dst + r * row_bytes, cols);
        }
      });
      return Status::Ok();
    }));
  }
  return w.WriteFile(path);
}

}  // namespace omnicoder
