// tokenizer layer: ids identical to llama.cpp on the shared real vocabularies (their own
// test cases and ours: code, whitespace, unicode, emoji, special-looking text), plus the
// generated test vocabulary and decoding.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "omnicoder/omnicoder.h"
#include "tokenizer/pretokenize.h"
#include "tools/test_model.h"

namespace omnicoder {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::vector<std::string> Split(const std::string& s, const std::string& sep) {
  std::vector<std::string> out;
  size_t pos = 0;
  for (;;) {
    size_t next = s.find(sep, pos);
    out.push_back(s.substr(pos, next == std::string::npos ? std::string::npos : next - pos));
    if (next == std::string::npos) break;
    pos = next + sep.size();
  }
  return out;
}

std::vector<int32_t> ParseIds(const std::string& line) {
  std::vector<int32_t> ids;
  std::stringstream ss(line);
  int32_t v;
  while (ss >> v) ids.push_back(v);
  return ids;
}

std::unique_ptr<Engine> MakeEngine() {
  EngineOptions eo;
  eo.n_threads = 1;
  return std::move(Engine::Create(eo).value());
}

const char* kVocabs[] = {"llama-spm", "llama-bpe", "qwen2", "deepseek-coder", "starcoder", "gpt-2", "phi-3"};

class SharedVocab : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    path_ = std::string(OC_SHARED_MODELS) + "/vocab/ggml-vocab-" + GetParam() + ".gguf";
    if (!std::ifstream(path_).good()) GTEST_SKIP() << "shared models absent: " << path_;
    engine_ = MakeEngine();
    LoadOptions lo;
    lo.vocab_only = true;
    auto m = Model::Load(*engine_, path_, lo);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    model_ = std::move(m).value();
  }
  std::string path_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<Model> model_;
};

// llama.cpp's own cases: ids without BOS (add_special = false).
TEST_P(SharedVocab, MatchesLlamaCppTestCases) {
  const std::vector<std::string> inputs = Split(ReadAll(path_ + ".inp"), "\n__ggml_vocab_test__\n");
  const std::vector<std::string> outputs = Split(ReadAll(path_ + ".out"), "\n");
  ASSERT_GE(outputs.size(), inputs.size());
  int checked = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    EXPECT_EQ(model_->Tokenize(inputs[i], false), ParseIds(outputs[i])) << "case " << i << ": '" << inputs[i] << "'";
    ++checked;
  }
  EXPECT_GE(checked, 40);
}

// Our cases, golden ids from llama_peer (scripts/make_tokenizer_goldens.sh): add_special = true.
TEST_P(SharedVocab, MatchesLlamaCppOnOwnCases) {
  const std::vector<std::string> inputs = Split(ReadAll(OC_TEST_DATA "/tokenizer_cases.txt"), "\n__case__\n");
  const std::vector<std::string> outputs =
      Split(ReadAll(std::string(OC_GOLDEN_DIR) + "/tokenizer/" + GetParam() + ".out"), "\n");
  ASSERT_GE(outputs.size(), inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    EXPECT_EQ(model_->Tokenize(inputs[i], true), ParseIds(outputs[i])) << "case " << i << ": '" << inputs[i] << "'";
  }
}

TEST_P(SharedVocab, DecodeRoundTripsText) {
  for (const char* text : {"Hello world", "def f(x):\n    return x", "emoji 👋 and ünïcode"}) {
    std::vector<int32_t> ids = model_->Tokenize(text, false);
    std::string back;
    for (int32_t id : ids) back += model_->TokenToPiece(id);
    // SPM adds a leading space (add_space_prefix); everything else must round-trip.
    if (!back.empty() && back[0] == ' ' && text[0] != ' ') back.erase(0, 1);
    EXPECT_EQ(back, text) << GetParam();
  }
}

INSTANTIATE_TEST_SUITE_P(Vocabs, SharedVocab, ::testing::ValuesIn(kVocabs), [](const auto& tp) {
  std::string n = tp.param;
  for (char& c : n) c = (c == '-') ? '_' : c;
  return n;
});

TEST(GeneratedVocab, ByteFallbackAndSpecials) {
  TestModelSpec spec = TestModelPreset("tiny-llama").value();
  const std::string path = OC_WORK_DIR "_tok_model.gguf";
  ASSERT_TRUE(WriteTestModel(spec, path).ok());
  auto engine = MakeEngine();
  LoadOptions lo;
  lo.vocab_only = true;
  auto m = Model::Load(*engine, path, lo);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  Model& model = *m.value();
  std::vector<int32_t> ids = model.Tokenize("the ü", true);
  ASSERT_GE(ids.size(), 3u);
  EXPECT_EQ(ids[0], 1);  // BOS
  std::string back;
  for (size_t i = 1; i < ids.size(); ++i) back += model.TokenToPiece(ids[i]);
  EXPECT_EQ(back, " the ü");  // "ü" has no piece: two byte tokens
  // "</s>" is a control token: not parsed from text unless asked.
  std::vector<int32_t> plain = model.Tokenize("</s>", false);
  EXPECT_TRUE(std::find(plain.begin(), plain.end(), 2) == plain.end());
  std::vector<int32_t> parsed = model.Tokenize("</s>", false, true);
  ASSERT_EQ(parsed.size(), 1u);
  EXPECT_EQ(parsed[0], 2);
  EXPECT_TRUE(model.IsEndOfGeneration(2));
  EXPECT_EQ(model.TokenToPiece(2), "");
  std::remove(path.c_str());
}

}  // namespace
}  // namespace omnicoder

namespace omnicoder {
namespace {

// gpt-oss's o200k pre-tokenizer ("gpt-4o"): camel case, contractions, digit triples, the
// slash rule; cases worked out from the regex by hand.
TEST(PreTokenizer, Gpt4oSplits) {
  PreTokenizerSpec spec;
  auto p = PreTokenizer::Create("gpt-4o", &spec);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {"Hello World", {"Hello", " World"}},
      {"helloWorld HTTPServer", {"hello", "World", " HTTPServer"}},
      {"don't I'LL", {"don't", " I'LL"}},  // contractions stay on their word
      {"12345", {"123", "45"}},
      {"  foo", {" ", " foo"}},
      {"a\n\nb", {"a", "\n\n", "b"}},
      {"x/y", {"x", "/y"}},
      {"a = b;\n", {"a", " =", " b", ";\n"}},
  };
  for (const auto& [text, want] : cases) {
    std::vector<std::string_view> got;
    p.value()->Split(text, &got);
    std::vector<std::string> s(got.begin(), got.end());
    EXPECT_EQ(s, want) << "'" << text << "'";
  }
}

}  // namespace
}  // namespace omnicoder
