// Conformance with llama.cpp: for every architecture and tensor type, the tiny model our
// generator writes (byte-identical to the one llama.cpp saw: FNV-64 checked) gives, after
// token sequences of length 1, 7 and 40 (real MoE shapes, tiny-<arch>-<E>x<K>: also 64, 300
// and 512, one prompt batch), the same argmax as llama.cpp and top-10 log-probs
// within 0.01 (F32/F16/BF16) or 0.05 (quantized). Goldens: tests/golden/conformance,
// made by scripts/make_conformance_goldens.py (llama.cpp with --fa off --kv f32).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/common/test_models.h"
#include "tools/test_model.h"

namespace omnicoder {
namespace {

struct Golden {
  std::string arch, type;
  uint64_t fnv = 0;
  struct Seq {
    std::vector<int32_t> tokens;
    std::vector<std::pair<int, double>> top;  // (id, log-prob)
    double gap = 0;
  };
  std::vector<Seq> seqs;
};

Golden Parse(const std::string& path) {
  Golden g;
  std::ifstream f(path);
  std::string line;
  while (std::getline(f, line)) {
    std::istringstream ss(line);
    std::string tag;
    ss >> tag;
    if (tag == "model") {
      std::string name, fnv_tag, hex;
      ss >> name >> g.type >> fnv_tag >> hex;
      g.arch = name.substr(5);
      g.fnv = std::stoull(hex, nullptr, 16);
    } else if (tag == "seq") {
      Golden::Seq s;
      std::string n, gap_tag, tokens_tag, list;
      ss >> n >> gap_tag >> s.gap >> tokens_tag >> list;
      std::stringstream ls(list);
      std::string item;
      while (std::getline(ls, item, ',')) s.tokens.push_back(std::stoi(item));
      g.seqs.push_back(s);
    } else if (tag == "top" && !g.seqs.empty()) {
      std::string item;
      while (ss >> item) {
        const size_t colon = item.find(':');
        g.seqs.back().top.emplace_back(std::stoi(item.substr(0, colon)), std::stod(item.substr(colon + 1)));
      }
    }
  }
  return g;
}

uint64_t Fnv64(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::vector<char> buf(1 << 20);
  uint64_t h = 0xcbf29ce484222325ull;
  while (f) {
    f.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    for (std::streamsize i = 0; i < f.gcount(); ++i) h = (h ^ static_cast<uint8_t>(buf[i])) * 0x100000001b3ull;
  }
  return h;
}

std::vector<std::string> GoldenFiles() {
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(OC_GOLDEN_DIR "/conformance")) {
    if (e.path().extension() == ".txt") files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

class Conformance : public ::testing::TestWithParam<std::string> {};

TEST_P(Conformance, MatchesLlamaCpp) {
  const Golden g = Parse(GetParam());
  ASSERT_GE(g.seqs.size(), 3u) << GetParam();
  DType type;
  ASSERT_TRUE(ParseDType(g.type, &type));
  TestModelSpec spec = TestModelPreset("tiny-" + g.arch).value();
  spec.type = spec.output_type = spec.embd_type = type;
  const std::string path = std::string(OC_WORK_DIR "_conf_") + g.arch + "-" + g.type + ".gguf";
  ASSERT_TRUE(WriteTestModel(spec, path, 2).ok());
  ASSERT_EQ(Fnv64(path), g.fnv) << "the generator no longer writes the file the golden was made from";
  const bool exact_type = type == DType::kF32 || type == DType::kF16 || type == DType::kBF16;
  // BF16: llama.cpp and we round the same activations to BF16 (8-bit mantissa), but sums
  // differ in order; on MLA models that gives up to ~0.011 (measured).
  const double tol = type == DType::kBF16 ? 0.02 : exact_type ? 0.01 : 0.05;
  testing::EvalOptions eval;
  eval.ctx_len = 1024;
  eval.batch = 512;  // long prompts in one step: every routed expert of a layer in one wave
  std::vector<std::vector<int32_t>> prompts;
  for (const Golden::Seq& s : g.seqs) prompts.push_back(s.tokens);
  // One load of the model, a fresh session per sequence.
  const std::vector<std::vector<float>> all_logits = testing::EngineLogitsEach(path, prompts, eval);
  for (size_t i = 0; i < g.seqs.size(); ++i) {
    const Golden::Seq& s = g.seqs[i];
    const std::vector<float>& logits = all_logits[i];
    ASSERT_FALSE(logits.empty()) << g.arch << " " << g.type << " n=" << s.tokens.size();
    const std::vector<double> lp = testing::LogSoftmax(logits);
    double max_diff = 0;
    for (const auto& [id, want] : s.top) max_diff = std::max(max_diff, std::fabs(lp[id] - want));
    EXPECT_LE(max_diff, tol) << g.arch << " " << g.type << " n=" << s.tokens.size();
    std::printf("conformance %-9s %-5s n=%-2zu max|dlogp| %.6f\n", g.arch.c_str(), g.type.c_str(), s.tokens.size(),
                max_diff);
    EXPECT_EQ(testing::Argmax(logits), s.top[0].first)
        << g.arch << " " << g.type << " n=" << s.tokens.size() << " (llama.cpp gap " << s.gap << ")";
    // Our default F16 KV cache stays close to the f32 one.
    if (s.tokens.size() == 7) {
      const std::vector<float> f16 = testing::EngineLogits(path, s.tokens, 2, KvType::kF16);
      // (Random tiny models have large attention scores: F16 keys move log-probs ~0.1. With
      // gpt-oss's YaRN magnitude (x1.21 on q and k) llama.cpp's own F16 cache moves the
      // Q4_K model by KL 0.106 on this sequence; ours by 0.107, within 1.3e-4 of it.)
      const double kl_max = g.arch == "gpt-oss" ? 0.15 : 0.01;
      EXPECT_LE(testing::KlDivergence(f16, logits), kl_max) << g.arch << " " << g.type;
    }
  }
  std::remove(path.c_str());
}

INSTANTIATE_TEST_SUITE_P(Goldens, Conformance, ::testing::ValuesIn(GoldenFiles()), [](const auto& tp) {
  std::string n = std::filesystem::path(tp.param).stem().string();
  for (char& c : n) c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return n;
});

}  // namespace
}  // namespace omnicoder
