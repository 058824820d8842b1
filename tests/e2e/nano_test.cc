// The shipped default model (models/omnicoder-nano.gguf): it is in the repository, it has
// learned Python (bits per byte on a file it never saw), its greedy text is llama.cpp's,
// and what it samples is indented like Python.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/common/shell.h"

namespace omnicoder {
namespace {

const std::string kBin = std::string(OC_BIN_DIR) + "/omnicoder";
const std::string kModel = std::string(OC_SOURCE_DIR) + "/models/omnicoder-nano.gguf";
const std::string kPrompt = "import os\n\n\ndef find_files(root, suffix=\".py\"):\n";

using Output = testing::ShellOutput;

Output Sh(const std::string& cmd) {
  return testing::RunShell(cmd);
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// The prompt as a shell word: single-quoted, with ' written as '\''.
std::string Quoted(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

TEST(Nano, ShippedAndSmall) {
  std::ifstream f(kModel, std::ios::binary | std::ios::ate);
  ASSERT_TRUE(f.good()) << kModel << " is missing: the default model is part of the repository";
  EXPECT_LE(static_cast<long long>(f.tellg()), 40ll << 20);
  Output o = Sh(kBin + " inspect " + kModel + " 2>&1");
  ASSERT_EQ(o.code, 0) << o.out;
  EXPECT_NE(o.out.find("8 experts, 2 active"), std::string::npos) << o.out;
  EXPECT_EQ(o.out.find("UNTRAINED"), std::string::npos);
}

TEST(Nano, LearnedPythonItNeverSaw) {
  // tests/data/heldout_code.py was written after training. On it xz -9e needs 3.28 bits
  // per byte and gzip -9 3.10 (a small file); the target on the validation set is 1.35.
  Output o = Sh(kBin + " perplexity -m " + kModel + " -f " OC_TEST_DATA "/heldout_code.py -c 256 -t 2 2>&1");
  ASSERT_EQ(o.code, 0) << o.out;
  const size_t at = o.out.find("bits per byte: ");
  ASSERT_NE(at, std::string::npos) << o.out;
  const double bpb = std::stod(o.out.substr(at + 15));
  EXPECT_LT(bpb, 1.35) << o.out;
  EXPECT_GT(bpb, 0.3) << "implausibly low: is the file in the training data?";
}

TEST(Nano, GreedyTextIsLlamaCpps) {
  // tests/golden/nano/greedy.txt: llama.cpp's greedy continuation of kPrompt, 48 tokens
  // (llama_peer --text-out, see the file's header for the command).
  const std::string golden = ReadFile(OC_GOLDEN_DIR "/nano/greedy.txt");
  const size_t body = golden.find("\n---\n");
  ASSERT_NE(body, std::string::npos) << "golden file without its header";
  const std::string want = golden.substr(body + 5);
  Output o = Sh(kBin + " run -m " + kModel + " -p " + Quoted(kPrompt) + " -n 48 --temp 0 -t 2 2>/dev/null");
  ASSERT_EQ(o.code, 0);
  EXPECT_EQ(o.out, want);
}

// Sampled text changes with the last bit of any kernel, so this judges a property of the
// three samples together: no tab indentation, and code lines indented in steps of 4 (a
// docstring or bracket continuation may align elsewhere: at most 1 line in 8).
TEST(Nano, SampledCodeIsIndentedLikePython) {
  int lines = 0, off_step = 0;
  std::string off_lines;
  for (const char* seed : {"1", "2", "3"}) {
    Output o = Sh(kBin + " run -m " + kModel + " -p " + Quoted(kPrompt) + " -n 96 --temp 0.7 --repeat-penalty 1.1 -s " +
                  seed + " -t 2 2>/dev/null");
    ASSERT_EQ(o.code, 0);
    std::istringstream in(o.out);
    std::string line;
    while (std::getline(in, line)) {
      if (line.find_first_not_of(' ') == std::string::npos) continue;
      const size_t indent = line.find_first_not_of(' ');
      if (in.eof()) break;  // the last line may stop mid-token
      ++lines;
      EXPECT_NE(line[indent], '\t') << "seed " << seed << ": tab indentation: " << line;
      if (indent % 4 != 0) ++off_step, off_lines += "seed " + std::string(seed) + ": " + line + "\n";
    }
  }
  EXPECT_GE(lines, 12) << "too little text to judge";
  EXPECT_LE(off_step * 8, lines) << off_step << " of " << lines << " lines off the 4-space steps:\n" << off_lines;
}

}  // namespace
}  // namespace omnicoder
