// Tokenizer: SPM (llama, byte fallback) and byte-level BPE with per-model pre-tokenizers,
// built from GGUF `tokenizer.ggml.*` metadata handed over as plain data (this layer
// depends only on base).
//
// Behaviour follows llama.cpp's llama_tokenize(add_special, parse_special): user-defined
// tokens are always split out first; control-token text is parsed only when asked.
// Thread safety: const methods may be called concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace omnicoder {

enum class TokenType : int32_t {
  kUndefined = 0,
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6,
};

struct VocabData {
  std::string model;  // "llama" (SPM) or "gpt2" (byte-level BPE)
  std::string pre;    // pre-tokenizer name ("llama-bpe", "qwen2", ...); BPE only
  std::string name;   // general.name, for per-model quirks
  std::vector<std::string> tokens;
  std::vector<float> scores;        // SPM merge priorities
  std::vector<int32_t> types;       // TokenType per token (may be empty)
  std::vector<std::string> merges;  // BPE "left right" in rank order
  std::optional<int32_t> bos, eos, unk, pad, eot;
  std::optional<bool> add_bos, add_eos, add_space_prefix;
};

class Tokenizer {
 public:
  static Result<std::unique_ptr<Tokenizer>> Create(VocabData data);
  ~Tokenizer();

  // Ids for `text`; add_special adds BOS/EOS as the vocabulary says.
  std::vector<int32_t> Encode(std::string_view text, bool add_special, bool parse_special = false) const;
  // The bytes a token stands for when printed (control tokens print nothing).
  std::string Piece(int32_t id) const;
  std::string Decode(const std::vector<int32_t>& ids) const;

  int vocab_size() const;
  int32_t bos() const;  // -1 if none
  bool IsEndOfGeneration(int32_t id) const;
  const std::string& TokenText(int32_t id) const;

  struct Impl;

 private:
  explicit Tokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace omnicoder
