// Tokenizer construction, special-token partitioning, BOS/EOS handling and pieces.
#include "tokenizer/tokenizer.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "base/strings.h"
#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/unicode.h"

namespace omnicoder {

namespace {

constexpr const char* kSpmSpace = "\xe2\x96\x81";  // U+2581, SentencePiece's visible space

// Texts llama.cpp treats as end-of-generation markers: generation stops on them and they
// count as control tokens (not parsed from plain text) whatever their stored type.
constexpr const char* kEndMarkers[] = {"<|eot_id|>",
                                       "<|im_end|>",
                                       "<|end|>",
                                       "<|return|>",
                                       "<|call|>",
                                       "<end_of_turn>",
                                       "<|endoftext|>",
                                       "</s>",
                                       "<|eom_id|>",
                                       "<EOT>",
                                       "_<EOT>",
                                       "[EOT]",
                                       "[EOS]",
                                       "<|end_of_text|>",
                                       "<end_of_utterance>",
                                       "<eos>",
                                       "<｜end▁of▁sentence｜>"};

struct Fragment {
  int32_t token;  // -1 for raw text
  size_t begin, len;
};

Status Validate(const VocabData& d) {
  const size_t n = d.tokens.size();
  if (n == 0) return CorruptFile("tokenizer has no tokens (tokenizer.ggml.tokens)");
  if (n > (1u << 24)) return CorruptFile("tokenizer has more than 16M tokens");
  if (!d.scores.empty() && d.scores.size() != n) return CorruptFile("tokenizer.ggml.scores length differs from tokens");
  if (!d.types.empty() && d.types.size() != n)
    return CorruptFile("tokenizer.ggml.token_type length differs from tokens");
  for (int32_t t : d.types) {
    if (t < 0 || t > 6) return CorruptFile(StrFormat("tokenizer.ggml.token_type has invalid value %d", t));
  }
  for (const std::optional<int32_t>* id : {&d.bos, &d.eos, &d.unk, &d.pad, &d.eot}) {
    if (id->has_value() && (**id < -1 || **id >= static_cast<int64_t>(n))) {
      return CorruptFile(StrFormat("special token id %d is outside the vocabulary of %zu", **id, n));
    }
  }
  return Status::Ok();
}

}  // namespace

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::~Tokenizer() = default;

namespace {

// Kind, defaults and pre-tokenizer from the model name (llama.cpp's defaults).
Status InitKind(Tokenizer::Impl& t, const VocabData& data) {
  if (data.model == "llama") {
    t.kind = Tokenizer::Impl::Kind::kSpm;
    t.bos = 1, t.eos = 2, t.unk = 0;
    t.add_bos = true;
    t.add_space_prefix = true;
    return Status::Ok();
  }
  if (data.model == "gpt2") {
    t.kind = Tokenizer::Impl::Kind::kBpe;
    t.bos = 11, t.eos = 11;
    PreTokenizerSpec spec;
    OC_ASSIGN_OR_RETURN(t.pre, PreTokenizer::Create(data.pre, &spec));
    t.ignore_merges = spec.ignore_merges;
    t.add_bos = spec.default_add_bos;
    return Status::Ok();
  }
  return Unsupported("tokenizer model " + QuoteForMessage(data.model) + " is not supported (llama, gpt2 are)");
}

Status BuildMaps(Tokenizer::Impl& t, const VocabData& data) {
  const int32_t n = static_cast<int32_t>(data.tokens.size());
  t.token_to_id.reserve(n);
  for (int32_t i = 0; i < n; ++i) t.token_to_id.emplace(data.tokens[i], i);  // first id wins on duplicates
  for (size_t r = 0; r < data.merges.size(); ++r) {
    const std::string& m = data.merges[r];
    const size_t sp = m.find(' ', 1);
    if (sp == std::string::npos) return CorruptFile("tokenizer merge " + QuoteForMessage(m) + " has no space");
    std::string key = m.substr(0, sp);
    key.push_back('\0');
    key.append(m, sp + 1, std::string::npos);
    t.merge_rank.emplace(std::move(key), static_cast<int>(r));
  }
  if (t.kind == Tokenizer::Impl::Kind::kBpe && t.merge_rank.empty()) return CorruptFile("BPE tokenizer has no merges");
  return Status::Ok();
}

// Special ids and flags from metadata, end-of-generation set, control flags, the
// partition candidates (longest first) and per-model whitespace quirks.
void BuildSpecials(Tokenizer::Impl& t) {
  const int32_t n = static_cast<int32_t>(t.data.tokens.size());
  auto pick = [n](const std::optional<int32_t>& v, int32_t def) {
    const int32_t id = v.has_value() ? *v : def;
    return id >= 0 && id < n ? id : -1;
  };
  t.bos = pick(t.data.bos, t.bos);
  t.eos = pick(t.data.eos, t.eos);
  t.unk = pick(t.data.unk, t.kind == Tokenizer::Impl::Kind::kSpm ? t.unk : -1);
  if (t.data.add_bos) t.add_bos = *t.data.add_bos;
  if (t.data.add_eos) t.add_eos = *t.data.add_eos;
  if (t.data.add_space_prefix) t.add_space_prefix = *t.data.add_space_prefix;
  for (int c = 0; c < 256; ++c) t.byte_tokens[c] = t.Find(StrFormat("<0x%02X>", c));
  if (t.eos >= 0) t.eog.insert(t.eos);
  if (t.data.eot && *t.data.eot >= 0) t.eog.insert(*t.data.eot);
  t.control.assign(n, 0);
  for (int32_t i = 0; i < n; ++i) t.control[i] = t.Type(i) == TokenType::kControl;
  for (const char* m : kEndMarkers) {
    const int32_t id = t.Find(m);
    if (id >= 0) {
      t.eog.insert(id);
      t.control[id] = 1;
    }
  }
  t.rstrip.assign(n, 0);
  t.lstrip.assign(n, 0);
  for (int32_t i = 0; i < n; ++i) {
    const TokenType ty = t.Type(i);
    const bool special = ty == TokenType::kControl || ty == TokenType::kUserDefined || ty == TokenType::kUnknown;
    if (special && !t.data.tokens[i].empty()) t.special_by_length.push_back(i);
  }
  std::stable_sort(t.special_by_length.begin(), t.special_by_length.end(),
                   [&](int32_t a, int32_t b) { return t.data.tokens[a].size() > t.data.tokens[b].size(); });
  // Quirk (as llama.cpp): phi-3's special tokens swallow the whitespace after them.
  const std::string& name = t.data.name;
  if (name.find("phi-3") != std::string::npos || name.find("phi3") != std::string::npos ||
      name.find("Phi3") != std::string::npos) {
    for (int32_t id : t.special_by_length) t.rstrip[id] = 1;
    if (int32_t id = t.Find("</s>"); id >= 0) t.rstrip[id] = 1;
    for (const char* s : {"<unk>", "<s>", "<|endoftext|>"}) {
      if (int32_t id = t.Find(s); id >= 0) t.rstrip[id] = 0;
    }
  }
}

}  // namespace

Result<std::unique_ptr<Tokenizer>> Tokenizer::Create(VocabData data) {
  OC_RETURN_IF_ERROR(Validate(data));
  auto impl = std::make_unique<Impl>();
  OC_RETURN_IF_ERROR(InitKind(*impl, data));
  OC_RETURN_IF_ERROR(BuildMaps(*impl, data));
  impl->data = std::move(data);
  BuildSpecials(*impl);
  return std::unique_ptr<Tokenizer>(new Tokenizer(std::move(impl)));
}

// Splits text into raw fragments and special-token fragments (longest tokens first);
// control/unknown token text is only split out when parse_special is set.
std::vector<Fragment> Partition(const Tokenizer::Impl& t, std::string_view text, bool parse_special) {
  std::vector<Fragment> frags;
  if (!text.empty()) frags.push_back({-1, 0, text.size()});
  std::vector<Fragment> next;
  for (int32_t id : t.special_by_length) {
    if (!parse_special && (t.control[id] || t.Type(id) == TokenType::kUnknown)) continue;
    const std::string& st = t.data.tokens[id];
    next.clear();
    for (const Fragment& f : frags) {
      if (f.token >= 0) {
        next.push_back(f);
        continue;
      }
      size_t begin = f.begin;
      const size_t end = f.begin + f.len;
      while (begin < end) {
        const size_t hit = text.substr(0, end).find(st, begin);
        if (hit == std::string_view::npos) break;
        size_t left_end = hit;
        if (t.lstrip[id]) {
          while (left_end > begin && std::isspace(static_cast<unsigned char>(text[left_end - 1]))) --left_end;
        }
        if (left_end > begin) next.push_back({-1, begin, left_end - begin});
        next.push_back({id, hit, st.size()});
        begin = hit + st.size();
        if (t.rstrip[id]) {
          while (begin < end && std::isspace(static_cast<unsigned char>(text[begin]))) ++begin;
        }
      }
      if (begin < end) next.push_back({-1, begin, end - begin});
    }
    frags.swap(next);
  }
  return frags;
}

std::vector<int32_t> Tokenizer::Encode(std::string_view text, bool add_special, bool parse_special) const {
  const Impl& t = *impl_;
  std::vector<int32_t> out;
  if (add_special && t.add_bos && t.bos >= 0) out.push_back(t.bos);
  bool prev_special = true;
  for (const Fragment& f : Partition(t, text, parse_special)) {
    if (f.token >= 0) {
      out.push_back(f.token);
      prev_special = true;
      continue;
    }
    const std::string_view raw = text.substr(f.begin, f.len);
    if (t.kind == Impl::Kind::kSpm) {
      std::string escaped = (t.add_space_prefix && prev_special) ? kSpmSpace : "";
      for (char c : raw) {
        if (c == ' ') {
          escaped += kSpmSpace;
        } else {
          escaped.push_back(c);
        }
      }
      t.EncodeSpm(escaped, &out);
    } else {
      t.EncodeBpe(raw, &out);
    }
    prev_special = false;
  }
  if (add_special && t.add_eos && t.eos >= 0) out.push_back(t.eos);
  return out;
}

std::string Tokenizer::Piece(int32_t id) const {
  const Impl& t = *impl_;
  if (id < 0 || id >= vocab_size()) return "";
  const std::string& text = t.data.tokens[id];
  if (t.control[id]) return "";
  switch (t.Type(id)) {
    case TokenType::kControl:
    case TokenType::kUnused:
      return "";
    case TokenType::kUserDefined:
      return text;
    case TokenType::kUnknown:
      return "\xe2\x96\x85";
    case TokenType::kByte:
      if (t.kind == Impl::Kind::kSpm && text.size() == 6) {
        unsigned v = 0;
        if (std::sscanf(text.c_str(), "<0x%02X>", &v) == 1) return std::string(1, static_cast<char>(v));
      }
      return text;
    default:
      break;
  }
  if (t.kind == Impl::Kind::kBpe) return ByteDecode(text);
  std::string out;
  for (size_t i = 0; i < text.size();) {
    if (text.compare(i, 3, kSpmSpace) == 0) {
      out.push_back(' ');
      i += 3;
    } else {
      out.push_back(text[i++]);
    }
  }
  return out;
}

std::string Tokenizer::Decode(const std::vector<int32_t>& ids) const {
  std::string s;
  for (int32_t id : ids) s += Piece(id);
  return s;
}

int Tokenizer::vocab_size() const {
  return static_cast<int>(impl_->data.tokens.size());
}
int32_t Tokenizer::bos() const {
  return impl_->bos;
}
bool Tokenizer::IsEndOfGeneration(int32_t id) const {
  return impl_->eog.count(id) != 0;
}
const std::string& Tokenizer::TokenText(int32_t id) const {
  return impl_->data.tokens[id];
}

}  // namespace omnicoder
