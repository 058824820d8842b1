// Gradient correctness: the double-precision oracle against central finite differences
// (both auxiliary losses included), and the f32 trainer against the oracle.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>

#include "kernels/kernel_table.h"
#include "tests/train/naive_train.h"
#include "threading/thread_pool.h"
#include "train/model_train.h"

namespace omnicoder {
namespace {

TrainModelConfig TinyConfig() {
  TrainModelConfig c;
  c.vocab_size = 512, c.dim = 64, c.n_layers = 2, c.n_heads = 4, c.n_kv_heads = 2, c.head_dim = 16;
  c.ffn_dim = 32, c.n_experts = 4, c.n_experts_active = 2, c.ctx_len = 8;
  return c;
}

std::vector<int32_t> Tokens(const TrainModelConfig& c, int n_seqs, uint32_t seed) {
  std::vector<int32_t> t(static_cast<size_t>(n_seqs) * (c.ctx_len + 1));
  uint32_t x = seed * 2654435761u + 7;
  for (int32_t& v : t) {
    x = x * 1664525u + 1013904223u;
    v = static_cast<int32_t>((x >> 8) % c.vocab_size);
  }
  return t;
}

struct Model {
  std::vector<ParamTensor> layout;
  std::vector<float> p32;
  std::vector<double> p64;
};

Model MakeParams(const TrainModelConfig& c, float std_dev, uint64_t seed) {
  Model m;
  m.layout = ParamLayout(c, std_dev);
  m.p32.assign(ParamCount(m.layout), 0.0f);
  InitParams(m.layout, seed, m.p32.data());
  // Norm weights away from 1 so their gradients are exercised.
  for (const ParamTensor& t : m.layout) {
    if (t.shape.size() != 1) continue;
    for (size_t i = 0; i < t.size; ++i) m.p32[t.offset + i] = 1.0f + 0.1f * std::sin(static_cast<float>(i));
  }
  m.p64.assign(m.p32.begin(), m.p32.end());
  return m;
}

TEST(GradCheck, OracleMatchesFiniteDifferences) {
  for (int dense = 0; dense < 2; ++dense) {
    TrainModelConfig c = TinyConfig();
    if (dense) c.n_experts = 0, c.ffn_dim = 64;
    Model m = MakeParams(c, 0.3f, 5);
    const std::vector<int32_t> tokens = Tokens(c, 2, 3);
    const double balance = 0.5, z = 0.05;  // large, so their gradients are visible
    auto base = reference::NaiveTrainStep(c, m.layout, m.p64, tokens, 2, balance, z, true);
    int checked = 0, skipped = 0;
    double worst = 0;
    for (const ParamTensor& t : m.layout) {
      for (int s = 0; s < 6; ++s) {
        const size_t i = t.offset + (static_cast<size_t>(s) * 7919 + 13) % t.size;
        // Central differences at h and h/2, Richardson-extrapolated: error O(h^4).
        const double h = 1e-4 * std::max(1.0, std::fabs(m.p64[i]));
        bool moved = false;
        auto central = [&](double step) {
          std::vector<double> p = m.p64;
          p[i] = m.p64[i] + step;
          auto plus = reference::NaiveTrainStep(c, m.layout, p, tokens, 2, balance, z, false);
          p[i] = m.p64[i] - step;
          auto minus = reference::NaiveTrainStep(c, m.layout, p, tokens, 2, balance, z, false);
          moved = moved || plus.selections != base.selections || minus.selections != base.selections;
          return (plus.loss - minus.loss) / (2 * step);
        };
        const double d1 = central(h), d2 = central(h / 2);
        if (moved) {
          ++skipped;  // the perturbation moved a routing decision: the loss is not smooth here
          continue;
        }
        const double fd = (4 * d2 - d1) / 3, an = base.grad[i];
        const double rel = std::fabs(fd - an) / std::max({std::fabs(fd), std::fabs(an), 1e-4});
        worst = std::max(worst, rel);
        EXPECT_LE(rel, 1e-6) << t.name << "[" << i - t.offset << "] fd " << fd << " analytic " << an;
        ++checked;
      }
    }
    std::printf("gradcheck %s: %d coordinates, worst relative error %.2e, %d skipped (routing moved)\n",
                dense ? "dense" : "moe", checked, worst, skipped);
    EXPECT_LE(skipped, checked / 10);
  }
}

// Max |a - b| / max |b| per tensor.
void CompareGrads(const Model& m, const std::vector<float>& g32, const std::vector<double>& g64, double tol,
                  const char* what) {
  for (const ParamTensor& t : m.layout) {
    double max_diff = 0, max_ref = 0;
    for (size_t i = t.offset; i < t.offset + t.size; ++i) {
      max_diff = std::max(max_diff, std::fabs(g32[i] - g64[i]));
      max_ref = std::max(max_ref, std::fabs(g64[i]));
    }
    EXPECT_LE(max_diff, tol * max_ref) << what << " " << t.name << ": max|d| " << max_diff << " max|g| " << max_ref;
  }
}

std::vector<float> TrainerGrads(const TrainModelConfig& c, const Model& m, const std::vector<int32_t>& tokens,
                                int n_seqs, Isa isa, int threads, double balance, double z, double* loss) {
  ThreadPool pool(threads);
  TrainContext ctx;
  ctx.Init(&GetKernelTable(isa), &pool);
  auto model = TrainModel::Create(c, n_seqs, threads);
  EXPECT_TRUE(model.ok());
  std::vector<float> params = m.p32, grads(params.size(), 0.0f);
  ModelParams p = BindParams(c, m.layout, params.data()), g = BindParams(c, m.layout, grads.data());
  AuxCoef coef;
  coef.balance = static_cast<float>(balance), coef.z = static_cast<float>(z), coef.grad_scale = 1.0f;
  StepStats stats;
  EXPECT_TRUE(model.value()
                  ->ForwardBackward(ctx, p, g, {tokens.data(), n_seqs}, {1.0f / (n_seqs * c.ctx_len), coef}, &stats)
                  .ok());
  *loss = stats.ce_sum / stats.n_predicted + stats.aux.balance + stats.aux.z;
  return grads;
}

TEST(GradCheck, TrainerMatchesOracle) {
  for (int dense = 0; dense < 2; ++dense) {
    TrainModelConfig c = TinyConfig();
    c.ctx_len = 32;
    if (dense) c.n_experts = 0, c.ffn_dim = 64;
    Model m = MakeParams(c, 0.1f, 9);
    const std::vector<int32_t> tokens = Tokens(c, 3, 4);
    auto ref = reference::NaiveTrainStep(c, m.layout, m.p64, tokens, 3, 0.01, 0.001, true);
    for (Isa isa : {Isa::kRef, Isa::kAuto}) {
      double loss = 0;
      const std::vector<float> g = TrainerGrads(c, m, tokens, 3, isa, 2, 0.01, 0.001, &loss);
      EXPECT_NEAR(loss, ref.loss, 1e-5 * ref.loss);
      CompareGrads(m, g, ref.grad, 1e-4, dense ? "dense" : "moe");
    }
  }
}

TEST(GradCheck, NanoShapesF32MatchesFloat64) {
  // omnicoder-nano's shapes (train/nano.cfg: vocab 8192, width 256, 6 layers, 4 heads of
  // 64, 8 experts top-2 of width 256) on two short sequences: the f32 trainer's gradients
  // against the float64 oracle, per tensor within 1e-4 of its largest gradient.
  TrainModelConfig c;
  c.vocab_size = 8192, c.dim = 256, c.n_layers = 6, c.n_heads = 4, c.n_kv_heads = 4, c.head_dim = 64;
  c.ffn_dim = 256, c.n_experts = 8, c.n_experts_active = 2, c.ctx_len = 40;
  Model m = MakeParams(c, 0.02f, 5);
  const std::vector<int32_t> tokens = Tokens(c, 2, 11);
  auto ref = reference::NaiveTrainStep(c, m.layout, m.p64, tokens, 2, 0.01, 0.001, true);
  double loss = 0;
  const std::vector<float> g = TrainerGrads(c, m, tokens, 2, Isa::kAuto, 2, 0.01, 0.001, &loss);
  EXPECT_NEAR(loss, ref.loss, 1e-5 * ref.loss);
  CompareGrads(m, g, ref.grad, 1e-4, "nano shapes");
}

TEST(GradCheck, BitwiseEqualForAnyThreadCount) {
  TrainModelConfig c = TinyConfig();
  c.ctx_len = 64;
  Model m = MakeParams(c, 0.05f, 2);
  const std::vector<int32_t> tokens = Tokens(c, 4, 8);
  double l1 = 0, l2 = 0, l3 = 0;
  const std::vector<float> g1 = TrainerGrads(c, m, tokens, 4, Isa::kAuto, 1, 0.01, 0.001, &l1);
  const std::vector<float> g2 = TrainerGrads(c, m, tokens, 4, Isa::kAuto, 2, 0.01, 0.001, &l2);
  const std::vector<float> g3 = TrainerGrads(c, m, tokens, 4, Isa::kAuto, 3, 0.01, 0.001, &l3);
  EXPECT_EQ(g1, g2);
  EXPECT_EQ(g1, g3);
  EXPECT_EQ(l1, l2);
}

}  // namespace
}  // namespace omnicoder
