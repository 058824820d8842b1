// Seeded chunk order over the training shards.
#include "train/data_stream.h"

#include <algorithm>

#include "base/hash.h"

namespace omnicoder {

DataStream::DataStream(const ShardSet& shards, int seq_len, uint64_t seed) : seq_len_(seq_len), seed_(seed) {
  for (const Shard& s : shards.shards) {
    if (s.kind != "train") continue;
    data_.push_back(s.tokens());
    starts_.push_back(total_);
    total_ += s.n_tokens;
  }
  n_chunks_ = total_ > seq_len ? (total_ - 1) / seq_len : 0;
}

uint16_t DataStream::Token(int64_t i) const {
  const size_t s = static_cast<size_t>(std::upper_bound(starts_.begin(), starts_.end(), i) - starts_.begin()) - 1;
  return data_[s][i - starts_[s]];
}

void DataStream::Shuffle(int64_t epoch) {
  order_.resize(n_chunks_);
  for (int64_t i = 0; i < n_chunks_; ++i) order_[i] = i;
  uint64_t state = SplitMix64(seed_ ^ SplitMix64(static_cast<uint64_t>(epoch) + 0x51ed));
  for (int64_t i = n_chunks_ - 1; i > 0; --i) {
    state = SplitMix64(state);
    std::swap(order_[i], order_[static_cast<int64_t>(state % static_cast<uint64_t>(i + 1))]);
  }
  epoch_ = epoch;
}

void DataStream::Sequence(int64_t index, int32_t* out) {
  const int64_t epoch = index / n_chunks_;
  if (epoch != epoch_) Shuffle(epoch);
  const int64_t start = order_[index % n_chunks_] * seq_len_;
  for (int i = 0; i <= seq_len_; ++i) out[i] = Token(start + i);
}

}  // namespace omnicoder
