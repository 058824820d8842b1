// Byte-level BPE training: learns merges from pre-tokenized text, GPT-2 style.
//
// Design goals: the result is a vocabulary our Tokenizer and llama.cpp load as a "gpt2"
// model with a pre-tokenizer llama.cpp knows (its name goes in tokenizer.ggml.pre), and
// encoding any training word with the learned merges in rank order reproduces the
// segmentation training saw. Deterministic: the same texts in the same order give the
// same merges (ties broken by the merged pair's token ids). Non-goals: Unicode
// normalization, dropout, sampling of the input.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "tokenizer/pretokenize.h"

namespace omnicoder {

// Counts pre-tokenized pieces of the texts added.
class BpeWordCounter {
 public:
  static Result<std::unique_ptr<BpeWordCounter>> Create(std::string_view pre);
  void Add(std::string_view text);
  size_t unique_words() const { return counts_.size(); }
  uint64_t total_bytes() const { return total_bytes_; }
  const std::unordered_map<std::string, uint64_t>& counts() const { return counts_; }

 private:
  std::unique_ptr<PreTokenizer> pre_;
  std::unordered_map<std::string, uint64_t> counts_;
  std::vector<std::string_view> pieces_;
  uint64_t total_bytes_ = 0;
};

struct BpeTrainOptions {
  int vocab_size = 8192;                    // bytes (256) + merges + special tokens
  std::vector<std::string> special_tokens;  // appended last, as control tokens
  uint64_t min_pair_count = 2;              // stop early when no pair is this frequent
};

struct TrainedBpe {
  std::vector<std::string> tokens;  // GPT-2 byte-encoded text, id order
  std::vector<int32_t> types;       // 1 normal, 3 control
  std::vector<std::string> merges;  // "left right", rank order
};

Result<TrainedBpe> TrainBpe(const BpeWordCounter& words, const BpeTrainOptions& options);

}  // namespace omnicoder
