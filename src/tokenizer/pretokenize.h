// PreTokenizer: splits text into the pieces BPE merges within, by a model's regexes.
//
// Each regex of the list refines the pieces of the previous one: a piece is split into
// its matches and the unmatched gaps between them (both kept, in order), which is how
// multi-regex pre-tokenizers (starcoder, deepseek-coder) are defined. Matching uses
// PCRE2 with Unicode properties, i.e. the semantics of the tokenizers' original regexes.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace omnicoder {

struct PreTokenizerSpec {
  bool ignore_merges = false;  // a piece that is a whole token skips merging (llama3)
  bool default_add_bos = false;
};

class PreTokenizer {
 public:
  // `name` is tokenizer.ggml.pre; "" and "default" select the generic GPT-2-like split.
  static Result<std::unique_ptr<PreTokenizer>> Create(std::string_view name, PreTokenizerSpec* spec);
  ~PreTokenizer();
  void Split(std::string_view text, std::vector<std::string_view>* pieces) const;

 private:
  PreTokenizer() = default;
  std::vector<void*> regexes_;  // pcre2_code_8*
};

}  // namespace omnicoder
