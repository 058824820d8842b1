// Sampler: turns logits into a token — greedy, or repetition penalty, top-k, top-p,
// min-p and temperature (llama.cpp's default order) then a seeded draw.
//
// Deterministic: the same seed, options and logits give the same tokens on any machine
// (own uniform-double conversion, no std distribution). No allocation per call.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "omnicoder/types.h"

namespace omnicoder {

class TokenSampler {
 public:
  TokenSampler(const SamplerOptions& params, int vocab_size);
  int32_t Sample(const float* logits);
  // Records a token (prompt or generated) for the repetition penalty window.
  void Accept(int32_t token);
  void Reset();

 private:
  struct Candidate {
    int32_t id;
    float logit;
    float p;
  };
  const float* Penalized(const float* logits);
  void SoftmaxCandidates(size_t n, float temperature);
  size_t Truncate(size_t n) const;
  int32_t SampleAll(size_t n);
  int32_t DrawKept(size_t keep, size_t n, float max);
  void SortTo(size_t k, size_t n);  // candidates_[0, k) sorted and the largest of [0, n)
  SamplerOptions params_;
  int vocab_size_;
  std::mt19937_64 rng_;
  std::vector<Candidate> candidates_;
  std::vector<int32_t> history_;  // ring of the last repeat_last_n tokens
  size_t history_pos_ = 0;
  size_t history_len_ = 0;
  std::vector<float> penalized_;
  size_t sorted_ = 0;  // SampleAll: how much of candidates_ is sorted
};

}  // namespace omnicoder
