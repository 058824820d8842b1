// Byte-level BPE encoding: pre-tokenize, byte-encode each piece, apply merges by rank.
#include <queue>

#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/unicode.h"

namespace omnicoder {

namespace {

struct Symbol {
  int prev, next;
  size_t begin, len;
};

struct Merge {
  int left, right;
  int rank;
  std::string text;  // the merged text when queued (to detect stale entries)
};

struct MergeOrder {  // lowest rank first, then leftmost
  bool operator()(const Merge& a, const Merge& b) const {
    return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
  }
};

}  // namespace

void Tokenizer::Impl::EncodeBpe(std::string_view text, std::vector<int32_t>* out) const {
  std::vector<std::string_view> pieces;
  pre->Split(text, &pieces);
  std::vector<Symbol> sym;
  for (std::string_view raw : pieces) {
    const std::string word = ByteEncode(raw);
    if (ignore_merges) {
      const int32_t id = Find(word);
      if (id >= 0) {
        out->push_back(id);
        continue;
      }
    }
    sym.clear();
    for (size_t off = 0; off < word.size();) {
      size_t len = std::min<size_t>(Utf8SeqLen(static_cast<uint8_t>(word[off])), word.size() - off);
      const int idx = static_cast<int>(sym.size());
      sym.push_back({idx - 1, off + len == word.size() ? -1 : idx + 1, off, len});
      off += len;
    }
    std::priority_queue<Merge, std::vector<Merge>, MergeOrder> queue;
    auto try_add = [&](int left, int right) {
      if (left < 0 || right < 0) return;
      std::string key = word.substr(sym[left].begin, sym[left].len);
      key.push_back('\0');
      key.append(word, sym[right].begin, sym[right].len);
      auto it = merge_rank.find(key);
      if (it == merge_rank.end()) return;
      queue.push({left, right, it->second, word.substr(sym[left].begin, sym[left].len + sym[right].len)});
    };
    for (int i = 1; i < static_cast<int>(sym.size()); ++i) try_add(i - 1, i);
    while (!queue.empty()) {
      const Merge m = queue.top();
      queue.pop();
      Symbol& l = sym[m.left];
      Symbol& r = sym[m.right];
      if (l.len == 0 || r.len == 0 || l.next != m.right) continue;
      if (l.len + r.len != m.text.size() || word.compare(l.begin, m.text.size(), m.text) != 0) continue;
      l.len += r.len;
      r.len = 0;
      l.next = r.next;
      if (r.next >= 0) sym[r.next].prev = m.left;
      try_add(l.prev, m.left);
      try_add(m.left, l.next);
    }
    for (int i = sym.empty() ? -1 : 0; i >= 0; i = sym[i].next) {
      const std::string piece = word.substr(sym[i].begin, sym[i].len);
      const int32_t id = Find(piece);
      if (id >= 0) {
        out->push_back(id);
        continue;
      }
      for (char c : piece) {  // no token for the merged text: its single bytes, if tokens
        const int32_t b = Find(std::string(1, c));
        if (b >= 0) out->push_back(b);
      }
    }
  }
}

}  // namespace omnicoder
