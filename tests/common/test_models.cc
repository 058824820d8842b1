// Shared test helpers.
#include "tests/common/test_models.h"

#include <gtest/gtest.h>

#include <errno.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <mutex>

#include "tools/test_model.h"

namespace omnicoder::testing {

std::unique_ptr<Engine> TestEngine(int threads) {
  EngineOptions eo;
  eo.n_threads = threads;
  return std::move(Engine::Create(eo).value());
}

std::string TinyModelPath(const std::string& arch, DType type) {
  static std::mutex mu;
  static std::map<std::string, std::string> made;
  std::lock_guard<std::mutex> lock(mu);
  const std::string key = arch + "-" + GetDTypeTraits(type).name;
  auto it = made.find(key);
  if (it != made.end()) return it->second;
  TestModelSpec spec = TestModelPreset("tiny-" + arch).value();
  spec.type = spec.output_type = spec.embd_type = type;
  // One file per test binary: ctest runs binaries in parallel.
  const std::string path = std::string(OC_WORK_DIR "_") + program_invocation_short_name + "_tiny-" + key + ".gguf";
  Status s = WriteTestModel(spec, path, 2);
  EXPECT_TRUE(s.ok()) << s.ToString();
  made[key] = path;
  return path;
}

std::vector<std::vector<float>> EngineLogitsEach(const std::string& path,
                                                 const std::vector<std::vector<int32_t>>& prompts,
                                                 const EvalOptions& o) {
  std::vector<std::vector<float>> out(prompts.size());
  EngineOptions eo;
  eo.n_threads = o.threads;
  eo.isa = o.isa;
  auto engine = Engine::Create(eo);
  EXPECT_TRUE(engine.ok()) << engine.status().ToString();
  if (!engine.ok()) return out;
  LoadOptions lo;
  lo.expert_slots = o.expert_slots;
  lo.use_mmap = o.use_mmap;
  lo.planned_ctx_len = o.ctx_len;
  lo.planned_batch = o.batch;
  lo.planned_kv_type = o.kv_type;
  auto model = Model::Load(*engine.value(), path, lo);
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  if (!model.ok()) return out;
  SessionOptions so;
  so.ctx_len = o.ctx_len;
  so.kv_type = o.kv_type;
  so.batch = o.batch;
  so.allow_beyond_trained_ctx = true;  // tests size the cache for their longest input
  for (size_t i = 0; i < prompts.size(); ++i) {
    auto session = Session::Create(*engine.value(), *model.value(), so);
    EXPECT_TRUE(session.ok()) << session.status().ToString();
    if (!session.ok()) return out;
    Status s = session.value()->Eval(prompts[i]);
    EXPECT_TRUE(s.ok()) << s.ToString();
    if (!s.ok()) return out;
    const float* l = session.value()->Logits();
    out[i].assign(l, l + session.value()->vocab_size());
  }
  return out;
}

std::vector<float> EngineLogitsWith(const std::string& path, const std::vector<int32_t>& tokens, const EvalOptions& o) {
  return std::move(EngineLogitsEach(path, {tokens}, o)[0]);
}

std::vector<float> EngineLogits(const std::string& path, const std::vector<int32_t>& tokens, int threads,
                                KvType kv_type, Isa isa, int batch) {
  EvalOptions o;
  o.threads = threads;
  o.kv_type = kv_type;
  o.isa = isa;
  o.batch = batch;
  return EngineLogitsWith(path, tokens, o);
}

std::vector<double> LogSoftmax(const std::vector<float>& logits) {
  double mx = -1e300;
  for (float v : logits) mx = std::max(mx, static_cast<double>(v));
  double sum = 0;
  for (float v : logits) sum += std::exp(v - mx);
  std::vector<double> out(logits.size());
  for (size_t i = 0; i < logits.size(); ++i) out[i] = logits[i] - mx - std::log(sum);
  return out;
}

double MaxTopKLogProbDiff(const std::vector<float>& a, const std::vector<float>& b, int k) {
  std::vector<double> la = LogSoftmax(a), lb = LogSoftmax(b);
  std::vector<int> idx(b.size());
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = static_cast<int>(i);
  std::partial_sort(idx.begin(), idx.begin() + k, idx.end(), [&](int x, int y) { return lb[x] > lb[y]; });
  double m = 0;
  for (int i = 0; i < k; ++i) m = std::max(m, std::fabs(la[idx[i]] - lb[idx[i]]));
  return m;
}

double KlDivergence(const std::vector<float>& a, const std::vector<float>& b) {
  std::vector<double> la = LogSoftmax(a), lb = LogSoftmax(b);
  double kl = 0;
  for (size_t i = 0; i < la.size(); ++i) kl += std::exp(lb[i]) * (lb[i] - la[i]);
  return kl;
}

int Argmax(const std::vector<float>& v) {
  return static_cast<int>(std::max_element(v.begin(), v.end()) - v.begin());
}

double Top2Gap(const std::vector<float>& v) {
  std::vector<float> s = v;
  std::partial_sort(s.begin(), s.begin() + 2, s.end(), std::greater<float>());
  return s[0] - s[1];
}

std::vector<int32_t> TestTokens(int n, uint32_t seed) {
  std::vector<int32_t> t;
  uint32_t x = seed * 2654435761u + 1;
  for (int i = 0; i < n; ++i) {
    x = x * 1664525u + 1013904223u;
    t.push_back(static_cast<int32_t>(3 + (x >> 8) % 500));
  }
  return t;
}

}  // namespace omnicoder::testing
