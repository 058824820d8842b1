// BPE training: pair counts over unique words, a lazy max-heap, and per-pair word lists.
#include "tokenizer/bpe_train.h"

#include <algorithm>
#include <queue>

#include "tokenizer/unicode.h"

namespace omnicoder {

Result<std::unique_ptr<BpeWordCounter>> BpeWordCounter::Create(std::string_view pre) {
  PreTokenizerSpec spec;
  OC_ASSIGN_OR_RETURN(std::unique_ptr<PreTokenizer> p, PreTokenizer::Create(pre, &spec));
  if (spec.ignore_merges) {
    return Unsupported("pre-tokenizer '" + std::string(pre) +
                       "' makes llama.cpp ignore merges for whole-word tokens; "
                       "train with one that does not (qwen2, gpt-2)");
  }
  std::unique_ptr<BpeWordCounter> c(new BpeWordCounter());
  c->pre_ = std::move(p);
  return c;
}

void BpeWordCounter::Add(std::string_view text) {
  pieces_.clear();
  pre_->Split(text, &pieces_);
  for (std::string_view piece : pieces_) ++counts_[std::string(piece)];
  total_bytes_ += text.size();
}

namespace {

using PairKey = uint64_t;
PairKey Key(int32_t a, int32_t b) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
}
int32_t Left(PairKey k) {
  return static_cast<int32_t>(k >> 32);
}
int32_t Right(PairKey k) {
  return static_cast<int32_t>(k & 0xffffffffu);
}

struct Word {
  std::vector<int32_t> sym;
  int64_t count;
};

struct HeapItem {
  int64_t count;
  PairKey pair;
  bool operator<(const HeapItem& o) const {  // max count; ties: smaller pair key first
    return count < o.count || (count == o.count && pair > o.pair);
  }
};

class Learner {
 public:
  explicit Learner(const BpeWordCounter& words) {
    // Sorted for determinism: hash-map order must not decide tie-breaks or list order.
    std::vector<const std::pair<const std::string, uint64_t>*> sorted;
    for (const auto& kv : words.counts()) sorted.push_back(&kv);
    std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->first < b->first; });
    for (auto* kv : sorted) {
      Word w;
      for (unsigned char c : kv->first) w.sym.push_back(c);
      w.count = static_cast<int64_t>(kv->second);
      words_.push_back(std::move(w));
    }
    for (int i = 0; i < static_cast<int>(words_.size()); ++i) AddPairs(i, +1);
    for (const auto& [pair, count] : counts_) heap_.push({count, pair});
  }

  // The most frequent pair with at least min_count occurrences; false when none.
  bool Best(uint64_t min_count, PairKey* out) {
    while (!heap_.empty()) {
      const HeapItem top = heap_.top();
      heap_.pop();
      auto it = counts_.find(top.pair);
      if (it == counts_.end() || it->second != top.count) continue;  // stale
      if (top.count < static_cast<int64_t>(min_count)) return false;
      *out = top.pair;
      return true;
    }
    return false;
  }

  void Merge(PairKey pair, int32_t new_id) {
    std::vector<int> list;
    list.swap(where_[pair]);
    std::sort(list.begin(), list.end());
    list.erase(std::unique(list.begin(), list.end()), list.end());
    touched_.clear();
    for (int wi : list) {
      AddPairs(wi, -1);
      std::vector<int32_t>& s = words_[wi].sym;
      size_t out = 0;
      for (size_t i = 0; i < s.size(); ++i) {
        if (i + 1 < s.size() && s[i] == Left(pair) && s[i + 1] == Right(pair)) {
          s[out++] = new_id;
          ++i;
        } else {
          s[out++] = s[i];
        }
      }
      s.resize(out);
      AddPairs(wi, +1);
    }
    counts_.erase(pair);
    for (PairKey p : touched_) {
      auto it = counts_.find(p);
      if (it != counts_.end() && it->second > 0) heap_.push({it->second, p});
    }
  }

 private:
  void AddPairs(int wi, int sign) {
    const Word& w = words_[wi];
    for (size_t i = 0; i + 1 < w.sym.size(); ++i) {
      const PairKey p = Key(w.sym[i], w.sym[i + 1]);
      int64_t& c = counts_[p];
      c += sign * w.count;
      if (sign > 0) where_[p].push_back(wi);
      touched_.push_back(p);
      if (c == 0) counts_.erase(p);
    }
  }

  std::vector<Word> words_;
  std::unordered_map<PairKey, int64_t> counts_;
  std::unordered_map<PairKey, std::vector<int>> where_;
  std::priority_queue<HeapItem> heap_;
  std::vector<PairKey> touched_;
};

}  // namespace

Result<TrainedBpe> TrainBpe(const BpeWordCounter& words, const BpeTrainOptions& o) {
  const int n_special = static_cast<int>(o.special_tokens.size());
  if (o.vocab_size < 256 + n_special + 1 || o.vocab_size > (1 << 20)) {
    return InvalidArgument("BPE vocabulary size must be in [" + std::to_string(257 + n_special) + ", 1048576]");
  }
  if (words.unique_words() == 0) return InvalidArgument("no text to train the tokenizer on");
  TrainedBpe r;
  std::vector<std::string> bytes_of;  // raw bytes of each token
  for (int b = 0; b < 256; ++b) {
    bytes_of.push_back(std::string(1, static_cast<char>(b)));
    r.tokens.push_back(ByteEncode(bytes_of.back()));
    r.types.push_back(1);
  }
  std::unordered_map<std::string, int32_t> id_of;
  for (int b = 0; b < 256; ++b) id_of[bytes_of[b]] = b;
  Learner learner(words);
  const size_t n_regular = static_cast<size_t>(o.vocab_size - n_special);
  while (bytes_of.size() < n_regular) {
    PairKey best;
    if (!learner.Best(o.min_pair_count, &best)) break;
    std::string merged = bytes_of[Left(best)] + bytes_of[Right(best)];
    r.merges.push_back(r.tokens[Left(best)] + " " + r.tokens[Right(best)]);
    // Two merge paths can spell the same bytes ("ab"+"c", "a"+"bc"): one token, two rules.
    auto [it, added] = id_of.emplace(merged, static_cast<int32_t>(bytes_of.size()));
    if (added) {
      r.tokens.push_back(ByteEncode(merged));
      r.types.push_back(1);
      bytes_of.push_back(std::move(merged));
    }
    learner.Merge(best, it->second);
  }
  for (const std::string& s : o.special_tokens) {
    r.tokens.push_back(s);
    r.types.push_back(3);
  }
  return r;
}

}  // namespace omnicoder
