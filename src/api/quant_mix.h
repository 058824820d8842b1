// The K-quant mixes llama.cpp names Q4_K_S, Q4_K_M, Q5_K_S and Q5_K_M: a base K type with
// more bits where quantization hurts most (attention values; the FFN down projections of
// the first and last eighth of the layers and every third between), by the rules of
// llama.cpp's quantizer for the architectures we load, so a mix made here has
// llama-quantize's tensor types (docs/FORMATS.md lists the rules).
#pragma once

#include <cstdint>
#include <string>

#include "format/gguf.h"
#include "tensor/dtype.h"

namespace omnicoder {

enum class KMix { kNone, kSmall, kMedium };

struct QuantTarget {
  DType type = DType::kF32;  // the base type
  KMix mix = KMix::kNone;
  uint32_t file_type = 0;  // general.file_type (llama.cpp's numbering)
};

// "Q4_K_M", "Q4_K_S", "Q5_K_M", "Q5_K_S" and the plain type names we write, in any
// case; false if `name` is none of them.
bool ParseQuantTarget(const std::string& name, QuantTarget* out);

// What the rules need to know of the whole file.
struct MixFacts {
  int n_layers = 0;
  int n_experts = 0;
  int n_attn_v = 0;  // attention-value-like matrices: attn_v, attn_qkv, attn_kv_b
  bool tied_embeddings = false;
};
MixFacts ReadMixFacts(const GgufFile& file);

// Whether a tensor name is attention-value-like (counted in MixFacts::n_attn_v).
bool IsAttnVLike(const std::string& name);

// The type of the quantized matrix `name` under t's mix: t.type, or more bits where the
// rules say. attn_v_index: attention-value-like matrices before this one in the file.
DType MixType(const QuantTarget& t, const MixFacts& facts, const std::string& name, int attn_v_index);

}  // namespace omnicoder
