// The CLI against a hostile user: never destroy a file, never hang, never accept nonsense
// silently. One test per class (issue 11); every command runs under `timeout` so a hang
// fails the test instead of stalling CI.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "tests/common/shell.h"
#include "tests/common/test_models.h"

namespace omnicoder {
namespace {

using Output = testing::ShellOutput;

// stdout and stderr together; a command still running after 60 s is a hang (code 124).
Output Sh(const std::string& cmd) {
  return testing::RunShell("timeout 60 sh -c '" + cmd + "' 2>&1");
}

const std::string kBin = std::string(OC_BIN_DIR) + "/omnicoder";
const std::string kDir = std::string(OC_WORK_DIR) + "_hostile/";

std::string FileBytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// A private copy of a tiny model (tests write next to it).
std::string ModelCopy(const std::string& name, const std::string& arch = "qwen3moe") {
  Sh("mkdir -p " + kDir);
  const std::string path = kDir + name;
  Sh("cp " + testing::TinyModelPath(arch, DType::kQ8_0) + " " + path);
  return path;
}

int TempFilesIn(const std::string& dir) {
  Output o = Sh("ls -A " + dir + " | grep -c \"\\.tmp\\.\" || true");
  return std::atoi(o.out.c_str());
}

void ExpectRefused(const std::string& cmd, const std::string& message) {
  Output o = Sh(cmd);
  EXPECT_NE(o.code, 0) << cmd << "\n" << o.out;
  EXPECT_NE(o.code, 124) << "timed out (hang): " << cmd;
  EXPECT_NE(o.out.find(message), std::string::npos) << cmd << "\nwanted '" << message << "' in:\n" << o.out;
}

TEST(NeverLoseAFile, OutputThatIsAnInputIsRefusedByIdentity) {
  const std::string m = ModelCopy("same.gguf");
  const std::string before = FileBytes(m);
  Sh("ln -f " + m + " " + kDir + "hardlink.gguf && ln -sf " + m + " " + kDir + "symlink.gguf && mkdir -p " + kDir +
     "d");
  for (const std::string& out :
       {m, kDir + "./same.gguf", kDir + "d/../same.gguf", kDir + "hardlink.gguf", kDir + "symlink.gguf"}) {
    ExpectRefused(kBin + " quantize " + m + " " + out + " Q8_0", "same file as an input");
    ExpectRefused(kBin + " run -m " + m + " -p hi -n 2 --routing-trace " + out, "same file as an input");
    ExpectRefused(kBin + " logits -m " + m + " --tokens 1,2 -o " + out, "same file as an input");
  }
  EXPECT_EQ(FileBytes(m), before);
  EXPECT_EQ(TempFilesIn(kDir), 0);
}

TEST(NeverLoseAFile, TempNamesNeverCollideWithInputs) {
  const std::string m = ModelCopy("x.gguf.tmp");
  const std::string before = FileBytes(m);
  Output o = Sh(kBin + " quantize " + m + " " + kDir + "x.gguf Q8_0");
  EXPECT_EQ(o.code, 0) << o.out;
  EXPECT_EQ(FileBytes(m), before);
  Output ok = Sh(kBin + " inspect " + kDir + "x.gguf");
  EXPECT_EQ(ok.code, 0) << ok.out;
  EXPECT_EQ(TempFilesIn(kDir), 0);
}

TEST(NeverLoseAFile, WriteFailureKeepsThePreviousFile) {
  // A file-size limit makes write(2) fail like a full disk (EFBIG; SIGXFSZ ignored).
  const std::string m = ModelCopy("full.gguf", "llama");
  const std::string out = kDir + "logits.bin";
  ASSERT_EQ(Sh(kBin + " logits -m " + m + " --tokens 1,2,3 -o " + out).code, 0);
  const std::string good = FileBytes(out);
  Output o =
      Sh("trap \"\" XFSZ; ulimit -f 8; exec " + kBin + " logits -m " + m + " --all --tokens 1,2,3,4,5,6,7,8 -o " + out);
  EXPECT_NE(o.code, 0) << o.out;
  EXPECT_NE(o.out.find("writing"), std::string::npos) << o.out;
  EXPECT_EQ(FileBytes(out), good);
  EXPECT_EQ(TempFilesIn(kDir), 0);
  // The same for quantize and the synthetic trace writer.
  Output q = Sh("trap \"\" XFSZ; ulimit -f 8; exec " + kBin + " quantize " + m + " " + out + " Q8_0");
  EXPECT_NE(q.code, 0);
  EXPECT_EQ(FileBytes(out), good);
  EXPECT_EQ(TempFilesIn(kDir), 0);
}

TEST(NeverLoseAFile, NonRegularOutputsAreRefused) {
  const std::string m = ModelCopy("dev.gguf");
  Sh("rm -f " + kDir + "fifo && mkfifo " + kDir + "fifo");
  for (const std::string& out : {std::string("/dev/full"), std::string("/dev/null"), kDir + "fifo"}) {
    ExpectRefused(kBin + " quantize " + m + " " + out + " Q8_0", "not a regular file");
    ExpectRefused(kBin + " logits -m " + m + " --tokens 1 -o " + out, "not a regular file");
  }
  ExpectRefused(kBin + " logits -m " + m + " --tokens 1 -o " + kDir, "is a folder");
  struct stat st;
  ASSERT_EQ(stat("/dev/full", &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
}

TEST(NeverHang, FifosDevicesAndEndlessInputsAreErrors) {
  Sh("mkdir -p " + kDir + " && rm -f " + kDir + "fifo && mkfifo " + kDir + "fifo");
  const std::string fifo = kDir + "fifo";
  ExpectRefused(kBin + " run -m " + fifo + " -p hi -n 1", "not a regular file");
  ExpectRefused(kBin + " logits -m " + fifo + " --tokens 1 -o " + kDir + "l.bin", "not a regular file");
  ExpectRefused(kBin + " inspect " + fifo, "not a regular file");
  const std::string m = ModelCopy("hang.gguf");
  ExpectRefused(kBin + " run -m " + m + " -f " + fifo + " -n 1", "not a regular file");
  ExpectRefused(kBin + " run -m " + m + " -f " + kDir + " -n 1", "is a folder");
  ExpectRefused(kBin + " pager-sim --trace /dev/zero --slots 4", "not a regular file");
  ExpectRefused(kBin + " pager-sim --trace /dev/full --synthetic 10 --slots 4", "not a regular file");
  ExpectRefused(kBin + " pager-sim --trace " + kDir + "t.txt --synthetic 10 --slots 4 --zipf nan", "--zipf");
  ExpectRefused(kBin + " pager-sim --trace " + kDir + "t.txt --synthetic 10 --slots 4 --zipf 1000", "--zipf");
  // A steep but valid Zipf finishes.
  Output z = Sh(kBin + " pager-sim --trace " + kDir + "t.txt --synthetic 50 --slots 16 --experts 128 --k 8 --zipf 10");
  EXPECT_EQ(z.code, 0) << z.out;
}

TEST(NeverHang, ThreadCountsAreCapped) {
  const std::string m = ModelCopy("threads.gguf");
  Output o = Sh(kBin + " run -m " + m + " -p hi -n 2 -t 1000");
  EXPECT_EQ(o.code, 0) << o.out;
  EXPECT_NE(o.out.find("more than 4 threads per available core"), std::string::npos) << o.out;
  Output q = Sh(kBin + " quantize " + m + " " + kDir + "q.gguf Q8_0 -t 100000");
  EXPECT_EQ(q.code, 0) << q.out;
  ExpectRefused(kBin + " quantize " + m + " " + kDir + "q.gguf Q8_0 -t -5", "-t must be >= 0");
}

TEST(NeverHang, LongTokenListsComeFromAFileWithProgress) {
  const std::string m = ModelCopy("long.gguf", "llama");
  std::string ids;
  for (int i = 0; i < 3000; ++i) ids += std::to_string(3 + i % 400) + (i % 20 == 19 ? "\n" : " ");
  std::ofstream(kDir + "ids.txt") << ids;
  Output o = Sh(kBin + " logits -m " + m + " --tokens-file " + kDir + "ids.txt --allow-ctx-beyond-train -o " + kDir +
                "long.bin");
  EXPECT_EQ(o.code, 0) << o.out;
  EXPECT_NE(o.out.find("evaluated 3000 / 3000 tokens"), std::string::npos) << o.out;
  ExpectRefused(kBin + " logits -m " + m + " --tokens-file " + kDir + "ids.txt -o " + kDir + "long.bin", "trained on");
}

TEST(NoNonsense, OutOfRangeOptionsAreRefusedWithTheRange) {
  const std::string m = ModelCopy("nonsense.gguf");
  const std::string run = kBin + " run -m " + m + " -p hi -n 2 ";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {run + "--temp nan", "--temp must be a finite"},
      {run + "--temp 1e309", "--temp must be a finite"},
      {run + "--top-p 2", "--top-p must be in (0, 1]"},
      {run + "--top-p -1", "--top-p must be in (0, 1]"},
      {run + "--top-k -1", "--top-k must be >= 0"},
      {run + "--min-p 5", "--min-p must be in [0, 1]"},
      {run + "--repeat-penalty 0", "--repeat-penalty must be in (0, 100]"},
      {run + "--repeat-penalty -1", "--repeat-penalty must be in (0, 100]"},
      {run + "--repeat-last-n -1", "--repeat-last-n must be >= 0"},
      {run + "-c -1", "outside [1, 4194304]"},
      {run + "-c 100000000", "outside [1, 4194304]"},
      {run + "-c 4096", "trained on"},
      {run + "-s -2", "-s/--seed must be -1"},
      {run + "-s 18446744073709551616", "-s/--seed must be -1"},
      {run + "--expert-slots -1", "--expert-slots must be >= 0"},
      {run + "--pager-policy bogus", "--pager-policy: unknown pager policy 'bogus' (one of: lfu, lru2, lru)"},
      {run + "--pager-policy min", "unknown pager policy 'min' (one of: lfu, lru2, lru)"},
      {run + "--isa avx9", "--isa: unknown ISA 'avx9' (one of: auto, ref, avx2, avx512, neon, amx)"},
      {run + "--kv-type q9", "--kv-type: unknown KV cache type 'q9' (one of: f16, f32)"},
      {kBin + " pager-sim --trace " + kDir + "t.txt --slots 4 --policy fifo", "unknown pager policy 'fifo'"},
      {run + "-f /etc/hostname", "-p or -f, not both"},
      {kBin + " logits -m " + m + " --tokens 1,2, -o " + kDir + "x.bin", "comma is not followed"},
      {kBin + " logits -m " + m + " --tokens +5 -o " + kDir + "x.bin", "is not a token id"},
      {kBin + " pager-sim --trace " + kDir + "t.txt --synthetic -1 --slots 4", "--synthetic must be >= 1"},
      {kBin + " pager-sim --trace " + kDir + "t.txt --synthetic 5 --slots 4 --stickiness nan", "--stickiness"},
      {kBin + " pager-sim --trace " + kDir + "t.txt --slots 4 --expert-bytes -1", "--expert-bytes must be"},
      {run + "--expert-slots 1", "fewer than the 2 experts a token uses"},
      {kBin + " frobnicate", "unknown command 'frobnicate'"},
  };
  for (const auto& [cmd, message] : cases) ExpectRefused(cmd, message);
  // Trace lines with a repeated or an extra expert id.
  std::ofstream(kDir + "dup.txt") << "# routing-trace layers 1 experts 8 k 2\n0 0 3 3\n";
  ExpectRefused(kBin + " pager-sim --trace " + kDir + "dup.txt --slots 4", "repeated");
  std::ofstream(kDir + "extra.txt") << "# routing-trace layers 1 experts 8 k 2\n0 0 3 4 5\n";
  ExpectRefused(kBin + " pager-sim --trace " + kDir + "extra.txt --slots 4", "more expert ids than k");
}

TEST(NoNonsense, WriteErrorsAreReported) {
  const std::string m = ModelCopy("werr.gguf");
  const std::string dense = ModelCopy("dense.gguf", "llama");
  for (const std::string& cmd :
       {kBin + " run -m " + m + " -p hi -n 4 > /dev/full", kBin + " tokenize -m " + m + " -p hello > /dev/full",
        kBin + " inspect " + m + " > /dev/full",
        kBin + " pager-sim --trace " + kDir + "t2.txt --synthetic 5 --slots 4 > /dev/full"}) {
    ExpectRefused(cmd, "writing to standard output failed");
  }
  ExpectRefused(kBin + " run -m " + m + " -p hi -n 2 --routing-trace /dev/full", "not a regular file");
  ExpectRefused(kBin + " run -m " + dense + " -p hi -n 2 --routing-trace " + kDir + "t3.txt", "no MoE layers");
}

TEST(NoNonsense, InterruptedRunPrintsItsStatistics) {
  const std::string m = ModelCopy("sigint.gguf", "llama");
  Output o = Sh(kBin + " run -m " + m +
                " -p hi -n 60000 -c 65536 --ignore-eos --allow-ctx-beyond-train & pid=$!; "
                "sleep 2; kill -INT $pid; wait $pid");
  EXPECT_EQ(o.code, 130) << o.out;
  EXPECT_NE(o.out.find("generate:"), std::string::npos) << o.out;
}

TEST(NoNonsense, MmapAndCopiedWeightsAgreeWithinTheDocumentedBound) {
  // The copy path repacks Q4_0/Q8_0/Q4_K rows 8 at a time; the mmap path runs the row
  // kernels: the same integer dot products, summed in a different float order.
  for (DType t : {DType::kQ4_0, DType::kQ8_0, DType::kQ4_K}) {
    const std::string m = testing::TinyModelPath("llama", t);
    testing::EvalOptions a, b;
    b.use_mmap = true;
    const std::vector<int32_t> tokens = testing::TestTokens(40, 9);
    const std::vector<float> copied = testing::EngineLogitsWith(m, tokens, a);
    const std::vector<float> mapped = testing::EngineLogitsWith(m, tokens, b);
    EXPECT_LE(testing::MaxTopKLogProbDiff(mapped, copied), 1e-3) << GetDTypeTraits(t).name;
  }
}

}  // namespace
}  // namespace omnicoder
