// Shared test helpers: tiny models generated in the build tree, engine logits, comparisons.
#pragma once

#include <string>
#include <vector>

#include "omnicoder/omnicoder.h"
#include "tensor/dtype.h"

namespace omnicoder::testing {

std::unique_ptr<Engine> TestEngine(int threads);

// Path of tiny-<arch> model with matrices in `type` (generated once per test process).
std::string TinyModelPath(const std::string& arch, DType type = DType::kF32);

struct EvalOptions {
  int threads = 2;
  KvType kv_type = KvType::kF32;
  Isa isa = Isa::kAuto;
  int batch = 64;
  int ctx_len = 128;
  int expert_slots = 0;  // > 0: page experts through this many slots
  bool use_mmap = false;
};
// Last-token logits from the engine (empty and a test failure on error).
std::vector<float> EngineLogitsWith(const std::string& path, const std::vector<int32_t>& tokens,
                                    const EvalOptions& options);
// The same for each prompt, each in a fresh session of one loaded model (the model is
// loaded once; an error leaves that prompt's logits and the rest empty).
std::vector<std::vector<float>> EngineLogitsEach(const std::string& path,
                                                 const std::vector<std::vector<int32_t>>& prompts,
                                                 const EvalOptions& options);

// Last-token logits from the engine.
std::vector<float> EngineLogits(const std::string& path, const std::vector<int32_t>& tokens, int threads = 1,
                                KvType kv_type = KvType::kF32, Isa isa = Isa::kAuto, int batch = 64);

std::vector<double> LogSoftmax(const std::vector<float>& logits);
// Max |a - b| of log-softmax over b's top-k tokens.
double MaxTopKLogProbDiff(const std::vector<float>& a, const std::vector<float>& b, int k = 10);
// KL(p_b || p_a) of the two softmax distributions (b is the reference).
double KlDivergence(const std::vector<float>& a, const std::vector<float>& b);
int Argmax(const std::vector<float>& v);
// Gap between the largest and second-largest value.
double Top2Gap(const std::vector<float>& v);
std::vector<int32_t> TestTokens(int n, uint32_t seed = 3);

}  // namespace omnicoder::testing
