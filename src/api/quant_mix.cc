// K-quant mixes by name (quant_mix.h).
#include "api/quant_mix.h"

#include <cctype>
#include <cstdio>

namespace omnicoder {

namespace {

bool Contains(const std::string& s, const char* part) {
  return s.find(part) != std::string::npos;
}

// The first and last eighth of n, and every third in between.
bool MoreBits(int i, int n) {
  return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
}

int LayerOf(const std::string& name) {
  int layer = -1;
  return std::sscanf(name.c_str(), "blk.%d.", &layer) == 1 ? layer : -1;
}

}  // namespace

bool ParseQuantTarget(const std::string& name, QuantTarget* out) {
  struct Named {
    const char* name;
    DType type;
    KMix mix;
    uint32_t file_type;
  };
  static constexpr Named kNamed[] = {
      {"Q4_K_S", DType::kQ4_K, KMix::kSmall, 14}, {"Q4_K_M", DType::kQ4_K, KMix::kMedium, 15},
      {"Q5_K_S", DType::kQ5_K, KMix::kSmall, 16}, {"Q5_K_M", DType::kQ5_K, KMix::kMedium, 17},
      {"F32", DType::kF32, KMix::kNone, 0},       {"F16", DType::kF16, KMix::kNone, 1},
      {"Q4_0", DType::kQ4_0, KMix::kNone, 2},     {"Q4_1", DType::kQ4_1, KMix::kNone, 3},
      {"Q8_0", DType::kQ8_0, KMix::kNone, 7},     {"Q5_0", DType::kQ5_0, KMix::kNone, 8},
      {"Q5_1", DType::kQ5_1, KMix::kNone, 9},     {"Q4_K", DType::kQ4_K, KMix::kNone, 14},
      {"Q5_K", DType::kQ5_K, KMix::kNone, 16},    {"Q6_K", DType::kQ6_K, KMix::kNone, 18},
      {"BF16", DType::kBF16, KMix::kNone, 32},    {"MXFP4", DType::kMXFP4, KMix::kNone, 38},
  };
  // Plain Q4_K / Q5_K (every matrix in the type, output.weight in Q6_K) are labelled as
  // llama.cpp's "small" mixes, the nearest of its names: mostly the base type.
  std::string upper = name;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (const Named& n : kNamed) {
    if (upper == n.name) {
      *out = {n.type, n.mix, n.file_type};
      return true;
    }
  }
  return false;
}

MixFacts ReadMixFacts(const GgufFile& file) {
  MixFacts f;
  auto arch = file.GetString("general.architecture");
  if (arch.ok()) {
    const std::string a(arch.value());
    // Absent, mistyped or absurd counts leave the rules at their base type (the loader
    // judges the file; this only picks types).
    auto count = [&](const std::string& key) {
      auto v = file.GetUintOr(key, 0);
      return v.ok() && v.value() <= (1u << 20) ? static_cast<int>(v.value()) : 0;
    };
    f.n_layers = count(a + ".block_count");
    f.n_experts = count(a + ".expert_count");
  }
  f.tied_embeddings = file.FindTensor("output.weight") == nullptr;
  for (const GgufTensorInfo& t : file.tensors()) f.n_attn_v += IsAttnVLike(t.name) ? 1 : 0;
  return f;
}

bool IsAttnVLike(const std::string& name) {
  return Contains(name, "attn_v.weight") || Contains(name, "attn_qkv.weight") || Contains(name, "attn_kv_b.weight");
}

DType MixType(const QuantTarget& t, const MixFacts& facts, const std::string& name, int attn_v_index) {
  if (t.mix == KMix::kNone) return t.type;
  const bool medium = t.mix == KMix::kMedium, q4 = t.type == DType::kQ4_K;
  if (name == "output.weight" || (facts.tied_embeddings && name == "token_embd.weight")) return DType::kQ6_K;
  if (IsAttnVLike(name)) {
    if (facts.n_experts == 8) return DType::kQ8_0;
    if (medium && MoreBits(attn_v_index, facts.n_attn_v)) return DType::kQ6_K;
    if (!medium && q4 && attn_v_index < 4) return DType::kQ5_K;
    return t.type;
  }
  if (Contains(name, "attn_k.weight")) return facts.n_experts == 8 ? DType::kQ8_0 : t.type;
  if (Contains(name, "attn_output.weight")) return facts.n_experts == 8 && q4 ? DType::kQ5_K : t.type;
  if (Contains(name, "ffn_down")) {
    const int layer = LayerOf(name);
    if (layer < 0 || facts.n_layers <= 0) return t.type;
    if (medium && MoreBits(layer, facts.n_layers)) return DType::kQ6_K;
    if (!medium && q4 && layer < facts.n_layers / 8) return DType::kQ5_K;
  }
  return t.type;
}

}  // namespace omnicoder
