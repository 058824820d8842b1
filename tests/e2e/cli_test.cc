// End-to-end: the omnicoder CLI's contract (run, tokenize, logits, bench, inspect,
// quantize), the hostile-file set, and the real tiny model's greedy text.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "omnicoder/omnicoder.h"
#include "tests/common/shell.h"
#include "tests/common/test_models.h"

namespace omnicoder {
namespace {

using Output = testing::ShellOutput;

// Runs a shell command; stdout captured, stderr to the test log (or captured with 2>&1).
Output Sh(const std::string& cmd) {
  return testing::RunShell(cmd);
}

const std::string kBin = std::string(OC_BIN_DIR) + "/omnicoder";
const std::string kAidreams = std::string(OC_SHARED_MODELS) + "/aidreams260K-F32.gguf";

bool HaveShared() {
  return std::ifstream(kAidreams).good();
}

TEST(Cli, AidreamsGreedyTextMatchesLlamaCpp) {
  if (!HaveShared()) GTEST_SKIP() << "shared models absent";
  // llama.cpp's greedy continuation of BOS alone (llama_peer --text-out, 40 tokens).
  const std::string want =
      " \"Echoes of vectors unfold, a gentle hum of precision, as I sense the nodes, a gentle hum of precision";
  for (const char* t : {"1", "2"}) {
    Output o = Sh(kBin + " run -m " + kAidreams + " -p '' -n 40 --temp 0 -t " + t + " 2>/dev/null");
    EXPECT_EQ(o.code, 0);
    EXPECT_EQ(o.out, want) << "threads " << t;
  }
}

TEST(Cli, RunPrintsOnlyTheContinuationAndStatsToStderr) {
  const std::string m = testing::TinyModelPath("qwen3moe", DType::kQ8_0);
  Output o = Sh(kBin + " run -m " + m + " -p 'the code' -n 8 --temp 0.7 --seed 5 2>" OC_WORK_DIR "_stderr.txt");
  ASSERT_EQ(o.code, 0);
  Output again = Sh(kBin + " run -m " + m + " -p 'the code' -n 8 --temp 0.7 --seed 5 2>/dev/null");
  EXPECT_EQ(o.out, again.out);  // deterministic for a seed
  std::ifstream err(OC_WORK_DIR "_stderr.txt");
  std::stringstream ss;
  ss << err.rdbuf();
  EXPECT_NE(ss.str().find("tok/s"), std::string::npos);
  EXPECT_NE(ss.str().find("memory: rss"), std::string::npos);
  EXPECT_EQ(o.out.find("tok/s"), std::string::npos);
}

TEST(Cli, TokenizeAddsBosPerMetadata) {
  if (!HaveShared()) GTEST_SKIP() << "shared models absent";
  const std::string v = std::string(OC_SHARED_MODELS) + "/vocab/ggml-vocab-llama-spm.gguf";
  Output o = Sh(kBin + " tokenize -m " + v + " -p 'Hello world'");
  EXPECT_EQ(o.code, 0);
  EXPECT_EQ(o.out, "1 15043 3186\n");
  o = Sh(kBin + " tokenize -m " + v + " -p 'Hello world' --no-bos");
  EXPECT_EQ(o.out, "15043 3186\n");
  o = Sh(kBin + " tokenize -m " + v + " -p '<s>'");  // special-token text is not parsed
  EXPECT_EQ(o.out.find(" 1\n"), std::string::npos);
}

TEST(Cli, LogitsWritesVocabFloats) {
  const std::string m = testing::TinyModelPath("llama");
  const std::string out = OC_WORK_DIR "_logits.f32";
  Output o = Sh(kBin + " logits -m " + m + " --tokens 1,5,9 -o " + out);
  ASSERT_EQ(o.code, 0);
  std::ifstream f(out, std::ios::binary | std::ios::ate);
  EXPECT_EQ(static_cast<size_t>(f.tellg()), 512 * sizeof(float));
  EXPECT_NE(Sh(kBin + " logits -m " + m + " --tokens 1,x -o " + out + " 2>/dev/null").code, 0);
  EXPECT_NE(Sh(kBin + " logits -m " + m + " --tokens 1,99999 -o " + out + " 2>/dev/null").code, 0);
}

TEST(Cli, BenchJsonHasMedians) {
  const std::string m = testing::TinyModelPath("mixtral", DType::kQ4_0);
  Output o = Sh(kBin + " bench -m " + m + " -p 16 -n 4 -r 2 -t 2 --json 2>/dev/null");
  ASSERT_EQ(o.code, 0);
  EXPECT_NE(o.out.find("\"pp_tps\": "), std::string::npos);
  EXPECT_NE(o.out.find("\"tg_tps\": "), std::string::npos);
}

// bench names the machine and measures at a depth of context (llama-bench's -d).
TEST(Cli, BenchTellsTheMachineAndTakesADepth) {
  const std::string m = testing::TinyModelPath("mixtral", DType::kQ4_0);
  Output o = Sh(kBin + " bench -m " + m + " -p 8 -n 4 -r 1 -t 1 -d 300 --json 2>/dev/null");
  ASSERT_EQ(o.code, 0) << o.out;
  for (const char* key :
       {"\"depth\": 300", "\"cpu\": \"", "\"cpu_features\": \"", "\"read_bw_gbs\": ", "\"read_bw_gbs_before\": ",
        "\"read_bw_gbs_after\": ", "\"tg_roofline_tps\": ", "\"tg_roofline_fraction\": "}) {
    EXPECT_NE(o.out.find(key), std::string::npos) << key << " in " << o.out;
  }
  const size_t bw = o.out.find("\"read_bw_gbs\": ");
  ASSERT_NE(bw, std::string::npos);
  EXPECT_GT(std::stod(o.out.substr(bw + 15)), 0.1) << "a measured bandwidth";
  // The roofline takes the higher of the two measurements.
  const double before = std::stod(o.out.substr(o.out.find("\"read_bw_gbs_before\": ") + 22));
  const double after = std::stod(o.out.substr(o.out.find("\"read_bw_gbs_after\": ") + 21));
  EXPECT_NEAR(std::stod(o.out.substr(bw + 15)), std::max(before, after), 0.006) << o.out;
  o = Sh(kBin + " bench -m " + m + " -p 8 -n 4 -r 1 -t 1 -d 64 2>/dev/null");
  ASSERT_EQ(o.code, 0) << o.out;
  EXPECT_NE(o.out.find("cpu: "), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("tg4 @ d64"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("bandwidth roofline"), std::string::npos) << o.out;
  EXPECT_NE(Sh(kBin + " bench -m " + m + " -d -5 2>/dev/null").code, 0);
}

TEST(Cli, InspectAndQuantize) {
  const std::string m = testing::TinyModelPath("qwen2moe");
  Output o = Sh(kBin + " inspect " + m);
  ASSERT_EQ(o.code, 0);
  EXPECT_NE(o.out.find("general.architecture = 'qwen2moe'"), std::string::npos);
  EXPECT_NE(o.out.find("memory estimate"), std::string::npos);
  for (const char* type : {"Q8_0", "Q4_0", "Q4_K", "Q6_K"}) {
    const std::string q = std::string(OC_WORK_DIR "_quant_") + type + ".gguf";
    o = Sh(kBin + " quantize " + m + " " + q + " " + type + " -t 2 2>/dev/null");
    ASSERT_EQ(o.code, 0) << type;
    Output i = Sh(kBin + " inspect " + q);
    EXPECT_NE(i.out.find(std::string(" ") + type + " "), std::string::npos) << type;
    // The quantized model still predicts like the original (random weights with large
    // logits: 4-bit KL ~0.05-0.25, 6/8-bit ~0.005; a broken format gives KL >> 1).
    const std::vector<int32_t> toks = testing::TestTokens(12);
    std::vector<float> a = testing::EngineLogits(m, toks), b = testing::EngineLogits(q, toks);
    const bool four_bit = type[1] == '4';
    EXPECT_LE(testing::KlDivergence(b, a), four_bit ? 0.3 : 0.03) << type;
  }
  EXPECT_NE(Sh(kBin + " quantize " + m + " /tmp/x.gguf Q3_K 2>/dev/null").code, 0);
}

TEST(HostileFiles, EachRejectedWithItsMessageQuickly) {
  std::ifstream list(OC_TEST_DATA "/hostile/expectations.tsv");
  ASSERT_TRUE(list.good());
  auto engine = testing::TestEngine(1);
  std::string line;
  int checked = 0;
  while (std::getline(list, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t tab = line.find('\t');
    const std::string file = line.substr(0, tab), expect = line.substr(tab + 1);
    const auto t0 = std::chrono::steady_clock::now();
    auto m = Model::Load(*engine, std::string(OC_TEST_DATA "/hostile/") + file, LoadOptions{});
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_LE(ms, 100.0) << file;
    if (expect.empty()) {
      EXPECT_TRUE(m.ok()) << file << ": " << m.status().ToString();
    } else {
      ASSERT_FALSE(m.ok()) << file << " loaded but should fail with: " << expect;
      EXPECT_NE(m.status().message().find(expect), std::string::npos)
          << file << "\n  want: " << expect << "\n  got:  " << m.status().message();
    }
    ++checked;
  }
  EXPECT_GE(checked, 31);
}

}  // namespace
}  // namespace omnicoder

namespace omnicoder {
namespace {

TEST(Cli, PerplexityMatchesLlamaPerplexity) {
  const std::string model = std::string(OC_SHARED_MODELS) + "/aidreams260K-F32.gguf";
  if (!std::ifstream(model).good()) GTEST_SKIP() << "shared models absent";
  std::ifstream golden(OC_GOLDEN_DIR "/perplexity/aidreams-ppl_text-c128.txt");
  std::string line, tag;
  double want = 0, want_err = 0;
  while (std::getline(golden, line)) {
    if (line.rfind("ppl ", 0) == 0) std::sscanf(line.c_str(), "ppl %lf error %lf", &want, &want_err);
  }
  ASSERT_GT(want, 0.0);
  FILE* p = popen((std::string(OC_BIN_DIR) + "/omnicoder perplexity -m " + model +
                   " -f " OC_TEST_DATA "/ppl_text.txt -c 128 2>/dev/null")
                      .c_str(),
                  "r");
  ASSERT_NE(p, nullptr);
  char buf[65536];
  std::string out;
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  EXPECT_EQ(pclose(p), 0);
  double got = 0, got_err = 0, bpb = 0;
  const size_t at = out.find("Final estimate: PPL = ");
  ASSERT_NE(at, std::string::npos) << out;
  std::sscanf(out.c_str() + at, "Final estimate: PPL = %lf +/- %lf", &got, &got_err);
  EXPECT_NEAR(got, want, 0.01 * want);  // within 1% (measured: 0.001%)
  EXPECT_NEAR(got_err, want_err, 0.01 * want_err);
  const size_t b = out.find("bits per byte: ");
  ASSERT_NE(b, std::string::npos);
  std::sscanf(out.c_str() + b, "bits per byte: %lf", &bpb);
  EXPECT_GT(bpb, 0.0);
}

}  // namespace
}  // namespace omnicoder
