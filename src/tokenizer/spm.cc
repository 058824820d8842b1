// SentencePiece-style (llama) encoding: greedy best-score bigram merging over UTF-8
// characters, then byte fallback (<0xXX>) for characters that are not tokens.
#include <queue>

#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/unicode.h"

namespace omnicoder {

namespace {

struct Symbol {
  int prev, next;
  size_t begin, len;  // byte range in the text; len 0 once merged away
};

struct Bigram {
  int left, right;
  float score;
  size_t len;
};

struct BigramOrder {  // highest score first, then leftmost
  bool operator()(const Bigram& a, const Bigram& b) const {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  }
};

}  // namespace

void Tokenizer::Impl::EncodeSpm(const std::string& text, std::vector<int32_t>* out) const {
  std::vector<Symbol> sym;
  for (size_t off = 0; off < text.size();) {
    size_t len = std::min<size_t>(Utf8SeqLen(static_cast<uint8_t>(text[off])), text.size() - off);
    const int idx = static_cast<int>(sym.size());
    sym.push_back({idx - 1, off + len == text.size() ? -1 : idx + 1, off, len});
    off += len;
  }
  std::priority_queue<Bigram, std::vector<Bigram>, BigramOrder> queue;
  auto try_add = [&](int left, int right) {
    if (left < 0 || right < 0) return;
    const std::string piece = text.substr(sym[left].begin, sym[left].len + sym[right].len);
    const int32_t id = Find(piece);
    if (id < 0) return;
    queue.push({left, right, data.scores.empty() ? 0.0f : data.scores[id], piece.size()});
  };
  for (int i = 1; i < static_cast<int>(sym.size()); ++i) try_add(i - 1, i);
  while (!queue.empty()) {
    const Bigram bg = queue.top();
    queue.pop();
    Symbol& l = sym[bg.left];
    Symbol& r = sym[bg.right];
    if (l.len == 0 || r.len == 0 || l.len + r.len != bg.len) continue;  // stale
    l.len += r.len;
    r.len = 0;
    l.next = r.next;
    if (r.next >= 0) sym[r.next].prev = bg.left;
    try_add(l.prev, bg.left);
    try_add(bg.left, l.next);
  }
  for (int i = sym.empty() ? -1 : 0; i >= 0; i = sym[i].next) {
    const std::string piece = text.substr(sym[i].begin, sym[i].len);
    const int32_t id = Find(piece);
    if (id >= 0) {
      out->push_back(id);
      continue;
    }
    for (unsigned char c : piece) {
      int32_t b = byte_tokens[c];
      if (b < 0) b = Find(std::string(1, static_cast<char>(c)));
      if (b < 0) b = unk;
      if (b >= 0) out->push_back(b);
    }
  }
}

}  // namespace omnicoder
