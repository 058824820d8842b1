// DataStream: training sequences in a seeded, resumable order.
//
// The training tokens (all train shards, concatenated) are cut into chunks of seq_len + 1
// tokens starting every seq_len tokens; each epoch visits every chunk once in an order
// shuffled from (seed, epoch). Sequence i of the run is a pure function of i, so the
// data position of a checkpoint is just a count.
#pragma once

#include <cstdint>
#include <vector>

#include "train/shards.h"

namespace omnicoder {

class DataStream {
 public:
  DataStream(const ShardSet& shards, int seq_len, uint64_t seed);
  int64_t n_chunks() const { return n_chunks_; }
  // Writes seq_len + 1 token ids of run sequence `index` to out.
  void Sequence(int64_t index, int32_t* out);

 private:
  void Shuffle(int64_t epoch);
  uint16_t Token(int64_t i) const;
  std::vector<const uint16_t*> data_;
  std::vector<int64_t> starts_;  // first global index of each train shard
  int64_t total_ = 0, n_chunks_ = 0;
  int seq_len_;
  uint64_t seed_;
  int64_t epoch_ = -1;
  std::vector<int64_t> order_;
};

}  // namespace omnicoder
