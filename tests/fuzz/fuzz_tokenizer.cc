// libFuzzer target: tokenizing arbitrary bytes (invalid UTF-8 included) with the SPM test
// vocabulary and a byte-level BPE vocabulary under each pre-tokenizer; decoding back.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"
#include "tools/test_model.h"

using namespace omnicoder;

namespace {

std::unique_ptr<Tokenizer> MakeSpm() {
  VocabData d;
  d.model = "llama";
  MakeTestVocab(600, &d.tokens, &d.scores, &d.types);
  d.tokens.push_back("<|user|>");  // a user-defined token, split out before encoding
  d.scores.push_back(0.0f);
  d.types.push_back(4);
  return std::move(Tokenizer::Create(std::move(d)).value());
}

// 256 byte-level tokens, a few merges and their results, two control tokens.
std::unique_ptr<Tokenizer> MakeBpe(const char* pre) {
  VocabData d;
  d.model = "gpt2";
  d.pre = pre;
  for (int b = 0; b < 256; ++b) d.tokens.push_back(ByteEncode(std::string(1, static_cast<char>(b))));
  const char* merges[][2] = {{"t", "h"}, {"th", "e"}, {"\xc4\xa0", "t"}, {"\xc4\xa0t", "he"}, {"i", "n"}, {"1", "2"}};
  for (auto& m : merges) {
    d.merges.push_back(std::string(m[0]) + " " + m[1]);
    d.tokens.push_back(std::string(m[0]) + m[1]);
  }
  d.tokens.push_back("<|endoftext|>");
  d.tokens.push_back("<|im_start|>");
  d.types.assign(d.tokens.size(), 1);
  d.types[d.types.size() - 1] = d.types[d.types.size() - 2] = 3;
  return std::move(Tokenizer::Create(std::move(d)).value());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::unique_ptr<Tokenizer> kTokenizers[] = {
      MakeSpm(),        MakeBpe("llama-bpe"), MakeBpe("qwen2"),
      MakeBpe("gpt-2"), MakeBpe("starcoder"), MakeBpe("deepseek-coder")};
  if (size == 0) return 0;
  const Tokenizer& t = *kTokenizers[data[0] % 6];
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  const bool flags = size > 1 && (data[1] & 1);
  std::vector<int32_t> ids = t.Encode(text, flags, !flags);
  for (int32_t id : ids) {
    if (id < 0 || id >= t.vocab_size()) __builtin_trap();
  }
  (void)t.Decode(ids);
  return 0;
}
