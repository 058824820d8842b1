// Token shards: the corpus tokenized once, streamed by the trainer.
//
// Layout of a shard folder: train-NNN.tok (training files concatenated, <|endoftext|>
// after each file, a fraction of code files in fill-in-the-middle order), val-code.tok and
// val-english.tok (held-out files, plain order), tokens as little-endian uint16; and
// shards.tsv, the manifest: tokenizer and corpus hashes, then per shard its name, token
// count, UTF-8 byte count and SHA-256. Loading checks every hash.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/mapped_file.h"
#include "base/status.h"
#include "train/corpus.h"

namespace omnicoder {

class Tokenizer;
class ThreadPool;

struct ShardOptions {
  double fim_rate = 0.1;  // fraction of code training files in FIM (PSM) order
  uint64_t seed = 1;      // decides FIM files and split points
  int64_t tokens_per_shard = 1 << 23;
  // Recorded in the manifest: what the shards were made from.
  std::string tokenizer_sha256, corpus_sha256;
};

// Special token ids the data pipeline and the trainer need.
struct SpecialTokens {
  int32_t eot = -1, fim_prefix = -1, fim_middle = -1, fim_suffix = -1;
};
Result<SpecialTokens> FindSpecialTokens(const Tokenizer& tok);

// Tokenizes the manifest's files into `out_dir` (created if missing); returns a summary.
Result<std::string> WriteTokenShards(const std::vector<CorpusFile>& files, const Tokenizer& tok,
                                     const ShardOptions& options, ThreadPool& pool, const std::string& out_dir);

struct Shard {
  std::string kind;  // "train", "val-code", "val-english"
  std::string file;
  int64_t n_tokens = 0;
  uint64_t bytes = 0;  // UTF-8 bytes of the text these tokens encode
  std::string sha256;
  std::unique_ptr<MappedFile> map;
  const uint16_t* tokens() const { return reinterpret_cast<const uint16_t*>(map->data()); }
};

struct ShardSet {
  std::string tokenizer_sha256, corpus_sha256, manifest_sha256;
  std::vector<Shard> shards;
  int64_t TrainTokens() const;
  // All shards of a kind, concatenated into `out` (for validation sets).
  void Gather(const std::string& kind, std::vector<int32_t>* out, uint64_t* bytes) const;
};

// Maps every shard listed in dir/shards.tsv and verifies its size and SHA-256.
Result<ShardSet> LoadShards(const std::string& dir, int vocab_size);

}  // namespace omnicoder
