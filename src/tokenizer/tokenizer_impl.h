// Tokenizer internals shared by tokenizer.cc (special tokens, dispatch) and the
// SPM / BPE encoders (spm.cc, bpe.cc).
#pragma once

#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "tokenizer/pretokenize.h"
#include "tokenizer/tokenizer.h"

namespace omnicoder {

struct Tokenizer::Impl {
  enum class Kind { kSpm, kBpe } kind = Kind::kSpm;
  VocabData data;
  std::unordered_map<std::string, int32_t> token_to_id;
  std::unordered_map<std::string, int32_t> merge_rank;  // "left\0right" -> rank
  std::unique_ptr<PreTokenizer> pre;
  bool ignore_merges = false;
  bool add_bos = false, add_eos = false, add_space_prefix = false;
  int32_t bos = -1, eos = -1, unk = -1;
  std::unordered_set<int32_t> eog;
  std::vector<int32_t> special_by_length;  // partition candidates, longest text first
  std::vector<uint8_t> rstrip, lstrip;     // per-token whitespace stripping attributes
  std::vector<uint8_t> control;            // control type or an end-of-generation marker
  int32_t byte_tokens[256];                // SPM <0xXX> tokens (-1 if absent)

  TokenType Type(int32_t id) const {
    return data.types.empty() ? TokenType::kNormal : static_cast<TokenType>(data.types[id]);
  }
  int32_t Find(const std::string& text) const {
    auto it = token_to_id.find(text);
    return it == token_to_id.end() ? -1 : it->second;
  }

  void EncodeSpm(const std::string& text, std::vector<int32_t>* out) const;
  void EncodeBpe(std::string_view text, std::vector<int32_t>* out) const;
};

}  // namespace omnicoder
