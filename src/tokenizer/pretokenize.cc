// Pre-tokenizer regex tables (the public patterns of each tokenizer family) and PCRE2 matching.
#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizer/pretokenize.h"
#include "tokenizer/unicode.h"

#include <pcre2.h>

#include <string>

namespace omnicoder {

namespace {

constexpr const char* kGpt2 = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))";
constexpr const char* kLlama3 =
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kQwen35 =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kQwen2 =
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

// o200k (gpt-4o, gpt-oss): camel-case aware words, digits in threes. llama.cpp's form of
// the tokenizer.json regex (lookaheads instead of case classes), so splits match it.
constexpr const char* kGpt4o =
    R"([^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))*((?=[\p{L}])([^A-Z]))+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))+((?=[\p{L}])([^A-Z]))*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

struct Family {
  std::vector<std::string_view> names;
  std::vector<const char*> regexes;
  bool ignore_merges;
  bool default_add_bos;
};

const std::vector<Family>& Families() {
  static const std::vector<Family> kFamilies = {
      {{"llama3", "llama-v3", "llama-bpe", "falcon3", "pixtral", "smaug-bpe", "dbrx"}, {kLlama3}, true, true},
      {{"qwen2", "deepseek-r1-qwen", "stablelm2"}, {kQwen2}, false, false},
      {{"qwen35"}, {kQwen35}, false, false},
      {{"gpt-4o", "llama4", "kanana2", "talkie"}, {kGpt4o}, false, false},
      {{"falcon"}, {R"([\p{P}\$\+<=>\^~\|`]+)", kGpt2, R"([0-9][0-9][0-9])"}, false, false},
      {{"gpt-2", "phi-2", "mpt", "olmo", "jina-es", "jina-de", "jina-v2-es", "jina-v2-de", "roberta-bpe"},
       {kGpt2},
       false,
       false},
      {{"starcoder", "refact", "command-r", "smollm", "codeshell"}, {R"(\p{N})", kGpt2}, false, false},
      {{"deepseek-coder"},
       {R"([\r\n])", R"(\s?\p{L}+)", R"(\s?\p{P}+)", R"([\x{4e00}-\x{9fa5}\x{0800}-\x{4e00}\x{ac00}-\x{d7ff}]+)",
        R"(\p{N})"},
       false,
       false},
      {{"deepseek-llm"},
       {R"([\r\n])", R"(\s?\p{L}+)",
        R"(\s?[!-/:-~\x{FF01}-\x{FF0F}\x{FF1A}-\x{FF5E}\x{2018}-\x{201F}\x{3000}-\x{3002}]+)", R"(\s+$)",
        R"([\x{4e00}-\x{9fa5}\x{0800}-\x{4e00}\x{ac00}-\x{d7ff}]+)", R"(\p{N}+)"},
       false,
       false},
      {{"", "default"}, {R"([\p{P}\$\+<=>\^~\|]+)", kGpt2, R"(\p{N}+)", R"([0-9][0-9][0-9])"}, false, false},
  };
  return kFamilies;
}

}  // namespace

PreTokenizer::~PreTokenizer() {
  for (void* r : regexes_) pcre2_code_free(static_cast<pcre2_code*>(r));
}

Result<std::unique_ptr<PreTokenizer>> PreTokenizer::Create(std::string_view name, PreTokenizerSpec* spec) {
  const Family* family = nullptr;
  for (const Family& f : Families()) {
    for (std::string_view n : f.names) {
      if (n == name) family = &f;
    }
  }
  if (!family) {
    return Unsupported("pre-tokenizer '" + std::string(name) +
                       "' is not supported (supported: llama-bpe, qwen2, qwen35, gpt-2, starcoder, deepseek-coder, "
                       "deepseek-llm, falcon, default)");
  }
  spec->ignore_merges = family->ignore_merges;
  spec->default_add_bos = family->default_add_bos;
  std::unique_ptr<PreTokenizer> p(new PreTokenizer());
  for (const char* pattern : family->regexes) {
    int err = 0;
    PCRE2_SIZE offset = 0;
    pcre2_code* re = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern), PCRE2_ZERO_TERMINATED,
                                   PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &err, &offset, nullptr);
    if (!re) {
      PCRE2_UCHAR msg[256];
      pcre2_get_error_message(err, msg, sizeof(msg));
      return Internal(std::string("pre-tokenizer regex does not compile: ") + reinterpret_cast<char*>(msg));
    }
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);  // best effort; interpreter otherwise
    p->regexes_.push_back(re);
  }
  return p;
}

void PreTokenizer::Split(std::string_view text, std::vector<std::string_view>* pieces) const {
  pieces->clear();
  if (text.empty()) return;
  std::vector<std::string_view> current{text}, next;
  pcre2_match_data* md = pcre2_match_data_create(1, nullptr);
  for (void* r : regexes_) {
    pcre2_code* re = static_cast<pcre2_code*>(r);
    next.clear();
    for (std::string_view piece : current) {
      PCRE2_SIZE start = 0;
      size_t gap_begin = 0;
      while (start < piece.size()) {
        int rc = pcre2_match(re, reinterpret_cast<PCRE2_SPTR>(piece.data()), piece.size(), start, 0, md, nullptr);
        if (rc < 0) break;
        const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
        if (ov[1] == ov[0]) {  // empty match: step over one character
          start = ov[0] + Utf8SeqLen(static_cast<uint8_t>(piece[ov[0]]));
          continue;
        }
        if (ov[0] > gap_begin) next.push_back(piece.substr(gap_begin, ov[0] - gap_begin));
        next.push_back(piece.substr(ov[0], ov[1] - ov[0]));
        gap_begin = start = ov[1];
      }
      if (gap_begin < piece.size()) next.push_back(piece.substr(gap_begin));
    }
    current.swap(next);
  }
  pcre2_match_data_free(md);
  *pieces = std::move(current);
}

}  // namespace omnicoder
