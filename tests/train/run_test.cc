// The training pipeline on a tiny config, end to end: corpus -> tokenizer -> shards ->
// train; resume is bit-exact (also after kill -9 at random moments), one batch overfits,
// and the exported GGUF gives the trainer's logits through the inference engine.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <random>
#include <thread>

#include "kernels/kernel_table.h"
#include "omnicoder/omnicoder.h"
#include "omnicoder/train.h"
#include "tests/common/test_models.h"
#include "threading/thread_pool.h"
#include "train/checkpoint.h"
#include "train/model_train.h"

namespace omnicoder {
namespace {

const std::string kDir = std::string(OC_WORK_DIR) + "_trainrun/";
const std::string kBin = std::string(OC_BIN_DIR) + "/omnicoder";

// Corpus (this repository's sources and docs), a 512-token BPE and shards, made once.
class Pipeline : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::system(("rm -rf " + kDir + " && mkdir -p " + kDir).c_str());
    // Validation sets that are never empty: a tenth of the sources (150+ files), and
    // tests/data's texts held out whole.
    std::ofstream(kDir + "sources.txt") << "src code " OC_SOURCE_DIR "/src .cc validation=0.1\n"
                                        << "docs english " OC_SOURCE_DIR "/docs .md validation=0\n"
                                        << "texts english " OC_SOURCE_DIR "/tests/data .txt validation=1\n";
    ASSERT_TRUE(BuildCorpus(kDir + "sources.txt", kDir + "corpus.tsv").ok());
    TokenizerTrainOptions to;
    to.manifest = kDir + "corpus.tsv";
    to.output = kDir + "tok.gguf";
    to.vocab_size = 512;
    Result<std::string> t = TrainTokenizer(to);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    TokenizeCorpusOptions so;
    so.manifest = to.manifest;
    so.tokenizer = to.output;
    so.out_dir = kDir + "tokens";
    so.n_threads = 2;
    Result<std::string> s = TokenizeCorpus(so);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
  }

  // A tiny config (vocab 512, width 64, 2 layers, 4 experts top-2) writing to out_dir.
  static std::string Config(const std::string& name, const std::string& extra = "") {
    const std::string path = kDir + name + ".cfg";
    std::ofstream(path) << "vocab_size = 512\ndim = 64\nn_layers = 2\nn_heads = 4\nn_kv_heads = 2\nhead_dim = 16\n"
                           "ffn_dim = 64\nn_experts = 4\nn_experts_active = 2\nctx_len = 64\nlr = 3e-3\n"
                           "warmup_steps = 3\ntotal_steps = 12\nbatch_seqs = 4\nmicro_seqs = 2\n"
                           "checkpoint_every = 2\neval_every = 6\neval_tokens = 512\n"
                        << "data_dir = " << kDir << "tokens\ntokenizer = " << kDir << "tok.gguf\nout_dir = " << kDir
                        << name << "\n"
                        << extra;
    std::system(("rm -rf " + kDir + name).c_str());
    return path;
  }

  static Result<TrainSummary> TrainTo(const std::string& cfg, int max_steps,
                                      MatmulPrecision matmul = MatmulPrecision::kF32) {
    TrainOptions o;
    o.config = cfg;
    o.max_steps = max_steps;
    o.n_threads = 2;
    o.matmul = matmul;
    return Train(o);
  }

  static std::string StateHash(const std::string& name) {
    Result<std::string> h = CheckpointStateSha256(kDir + name + "/checkpoint.ckpt");
    EXPECT_TRUE(h.ok()) << h.status().ToString();
    return h.ok() ? h.value() : "";
  }
};

TEST_F(Pipeline, ResumeIsBitExact) {
  const std::string straight = Config("straight"), split = Config("split");
  ASSERT_TRUE(TrainTo(straight, 12).ok());
  ASSERT_TRUE(TrainTo(split, 5).ok());  // stops between checkpoints: 5 is saved as the last step
  auto r = TrainTo(split, 12);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->resumed);
  EXPECT_TRUE(r->finished);
  EXPECT_EQ(StateHash("straight"), StateHash("split"));
  // The AMX/BF16 path resumes exactly as well.
  const std::string bf_a = Config("bf_a"), bf_b = Config("bf_b");
  ASSERT_TRUE(TrainTo(bf_a, 8, MatmulPrecision::kBf16).ok());
  ASSERT_TRUE(TrainTo(bf_b, 3, MatmulPrecision::kBf16).ok());
  ASSERT_TRUE(TrainTo(bf_b, 8, MatmulPrecision::kBf16).ok());
  EXPECT_EQ(StateHash("bf_a"), StateHash("bf_b"));
}

TEST_F(Pipeline, KillNineNeverCorruptsAndResumesExactly) {
  const std::string straight = Config("k_straight", "total_steps = 40\ncheckpoint_every = 1\n");
  ASSERT_TRUE(TrainTo(straight, 40).ok());
  const std::string killed = Config("k_killed", "total_steps = 40\ncheckpoint_every = 1\n");
  std::mt19937 rng(11);
  int kills = 0;
  for (int round = 0; round < 12; ++round) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      execl(kBin.c_str(), kBin.c_str(), "train", "--config", killed.c_str(), "-t", "2", "--matmul", "f32",
            static_cast<char*>(nullptr));
      _exit(127);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20 + rng() % 400));
    kill(pid, SIGKILL);
    int st = 0;
    waitpid(pid, &st, 0);
    if (WIFSIGNALED(st)) ++kills;
    // Whatever moment the kill hit, the checkpoint (if one was written yet) is whole.
    if (std::ifstream(kDir + "k_killed/checkpoint.ckpt").good()) {
      EXPECT_FALSE(StateHash("k_killed").empty());
    }
    // A kill mid-write leaves at most the temp files being written (unique names, never
    // read); the next trainer in this folder removes them.
    EXPECT_LE(std::system(("test $(ls -A " + kDir + "k_killed 2>/dev/null | grep -c tmp) -le 2").c_str()), 0);
  }
  EXPECT_GT(kills, 0);
  auto r = TrainTo(killed, 40);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(StateHash("k_straight"), StateHash("k_killed"));
  EXPECT_NE(std::system(("ls -A " + kDir + "k_killed | grep -q tmp").c_str()), 0) << "stale temp files remain";
}

TEST_F(Pipeline, OneBatchOverfits) {
  // A shard of a single short file: every step sees the same sequence.
  const std::string dir = kDir + "one/";
  std::system(("mkdir -p " + dir).c_str());
  std::ofstream(dir + "a.txt") << "def add(a, b):\n    return a + b\n\n\nclass Point:\n    def __init__(self, x, y):\n"
                                  "        self.x = x\n        self.y = y\n\n    def norm(self):\n"
                                  "        return (self.x ** 2 + self.y ** 2) ** 0.5\n";
  std::ofstream(dir + "sources.txt") << "one code " << dir << " .txt\n";
  ASSERT_TRUE(BuildCorpus(dir + "sources.txt", dir + "corpus.tsv").ok());
  // Hold-out is decided by hash; force the one file into training.
  std::system(("sed -i 's/\\tval\\t/\\ttrain\\t/' " + dir + "corpus.tsv").c_str());
  TokenizeCorpusOptions so;
  so.manifest = dir + "corpus.tsv", so.tokenizer = kDir + "tok.gguf", so.out_dir = dir + "tokens", so.fim_rate = 0;
  ASSERT_TRUE(TokenizeCorpus(so).ok());
  const std::string cfg = Config("overfit",
                                 "lr = 1e-2\nwarmup_steps = 5\ntotal_steps = 50\nweight_decay = 0\n"
                                 "batch_seqs = 2\nmicro_seqs = 2\ndata_dir = " +
                                     dir + "tokens\n");
  auto r = TrainTo(cfg, 50);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_LT(r->last_loss, 0.5);
}

TEST_F(Pipeline, ExportGivesTheTrainersLogitsInTheEngine) {
  const std::string cfg = Config("export");
  ASSERT_TRUE(TrainTo(cfg, 12).ok());
  const std::string gguf = kDir + "export.gguf";
  ASSERT_TRUE(ExportTrainedModel(cfg, gguf, "F32").ok());
  // The trainer's own forward pass on the checkpoint.
  TrainModelConfig mc;
  mc.vocab_size = 512, mc.dim = 64, mc.n_layers = 2, mc.n_heads = 4, mc.n_kv_heads = 2, mc.head_dim = 16;
  mc.ffn_dim = 64, mc.n_experts = 4, mc.n_experts_active = 2, mc.ctx_len = 64;
  const std::vector<ParamTensor> layout = ParamLayout(mc, 0.02f);
  std::vector<float> p(ParamCount(layout)), m(p.size()), v(p.size());
  ASSERT_TRUE(LoadCheckpoint(kDir + "export/checkpoint.ckpt", {p.data(), m.data(), v.data(), p.size()}).ok());
  ThreadPool pool(2);
  TrainContext ctx;
  ctx.Init(&GetKernelTable(Isa::kAuto), &pool);
  auto model = TrainModel::Create(mc, 1, 2);
  ASSERT_TRUE(model.ok());
  const std::vector<int32_t> tokens = testing::TestTokens(40, 4);
  std::vector<float> want(40 * 512);
  ASSERT_TRUE(model.value()->Logits(ctx, BindParams(mc, layout, p.data()), tokens.data(), 40, want.data()).ok());
  testing::EvalOptions eo;
  eo.ctx_len = 64;
  for (int n : {1, 7, 40}) {
    const std::vector<int32_t> prefix(tokens.begin(), tokens.begin() + n);
    const std::vector<float> got = testing::EngineLogitsWith(gguf, prefix, eo);
    ASSERT_EQ(got.size(), 512u);
    double max_diff = 0;
    for (int i = 0; i < 512; ++i)
      max_diff = std::max(max_diff, static_cast<double>(std::fabs(got[i] - want[(n - 1) * 512 + i])));
    EXPECT_LE(max_diff, 1e-4) << "n=" << n;
  }
}

TEST_F(Pipeline, EvaluateScoresWholeSetsAndReportsRouting) {
  const std::string cfg = Config("evaluate");
  ASSERT_TRUE(TrainTo(cfg, 2).ok());
  EvaluateOptions o;
  o.config = cfg;
  o.n_threads = 2;
  Result<TrainEvaluation> early = EvaluateTrainedModel(o);
  ASSERT_TRUE(early.ok()) << early.status().ToString();
  ASSERT_TRUE(TrainTo(cfg, 12).ok());
  Result<TrainEvaluation> late = EvaluateTrainedModel(o);
  ASSERT_TRUE(late.ok()) << late.status().ToString();
  EXPECT_EQ(early->step, 2);
  EXPECT_EQ(late->step, 12);
  ASSERT_EQ(late->sets.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    const ValidationResult &a = early->sets[i], &b = late->sets[i];
    EXPECT_GT(b.n_predicted, 0) << b.name;
    EXPECT_EQ(b.n_predicted % 64, 0) << "whole sequences of ctx_len";
    EXPECT_GT(b.n_predicted, b.n_tokens - 2 * 64) << "every full sequence is scored";
    EXPECT_LT(b.nats_per_token, a.nats_per_token) << b.name << ": training lowers validation loss";
    // bits per byte = bits over the scored tokens' share of the bytes.
    const double bytes = static_cast<double>(b.n_bytes) * b.n_predicted / b.n_tokens;
    EXPECT_NEAR(b.bits_per_byte, b.nats_per_token * b.n_predicted / std::log(2.0) / bytes, 1e-9);
  }
  ASSERT_EQ(late->layers.size(), 2u);
  EXPECT_EQ(late->n_experts, 4);
  for (const LayerRoutingStats& l : late->layers) {
    EXPECT_GE(l.max_over_mean, 1.0);
    EXPECT_LE(l.max_over_mean, 2.0);  // top-2 of 4: an expert gets at most one slot per token
    EXPECT_LE(l.min_over_mean, 1.0);
    EXPECT_GE(l.min_over_mean, 0.0);
    EXPECT_GT(l.router_entropy, 0.0);
    EXPECT_LE(l.router_entropy, std::log(4.0) + 1e-9);
    EXPECT_NEAR(l.max_entropy, std::log(4.0), 1e-12);
  }
  // Same checkpoint, other thread count: the same numbers.
  o.n_threads = 1;
  Result<TrainEvaluation> again = EvaluateTrainedModel(o);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->sets[0].nats_per_token, late->sets[0].nats_per_token);
  EXPECT_EQ(again->layers[1].router_entropy, late->layers[1].router_entropy);
  // A dense config reports no routing; a config the checkpoint was not trained with is refused.
  const std::string dense = Config("evaluate_dense", "n_experts = 0\n");
  ASSERT_TRUE(TrainTo(dense, 2).ok());
  o.config = dense;
  Result<TrainEvaluation> d = EvaluateTrainedModel(o);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_TRUE(d->layers.empty());
  const std::string other = kDir + "other.cfg";
  std::ofstream(other) << std::ifstream(cfg).rdbuf() << "lr = 1e-3\n";
  o.config = other;
  Result<TrainEvaluation> bad = EvaluateTrainedModel(o);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("another config"), std::string::npos) << bad.status().ToString();
}

}  // namespace
}  // namespace omnicoder
