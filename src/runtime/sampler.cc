// TokenSampler implementation.
#include "runtime/sampler.h"

#include <algorithm>
#include <cmath>

namespace omnicoder {

namespace {

bool ByLogitDesc(const auto& a, const auto& b) {
  return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
}

// Uniform double in [0, 1) from 53 random bits.
double Uniform(std::mt19937_64& rng) {
  return static_cast<double>(rng() >> 11) * (1.0 / 9007199254740992.0);
}

}  // namespace

TokenSampler::TokenSampler(const SamplerOptions& params, int vocab_size)
    : params_(params), vocab_size_(vocab_size), rng_(params.seed) {
  candidates_.resize(vocab_size);
  penalized_.resize(vocab_size);
  history_.resize(params_.repeat_last_n > 0 ? params_.repeat_last_n : 0);
}

void TokenSampler::Reset() {
  rng_.seed(params_.seed);
  history_pos_ = history_len_ = 0;
}

void TokenSampler::Accept(int32_t token) {
  if (history_.empty()) return;
  history_[history_pos_] = token;
  history_pos_ = (history_pos_ + 1) % history_.size();
  history_len_ = std::min(history_len_ + 1, history_.size());
}

const float* TokenSampler::Penalized(const float* logits) {
  if (params_.repeat_penalty == 1.0f || history_len_ == 0) return logits;
  std::copy(logits, logits + vocab_size_, penalized_.begin());
  // Each distinct token in the window is penalized once (as llama.cpp does).
  for (size_t i = 0; i < history_len_; ++i) {
    const int32_t t = history_[i];
    if (t < 0 || t >= vocab_size_) continue;
    bool seen_before = false;
    for (size_t j = 0; j < i && !seen_before; ++j) seen_before = history_[j] == t;
    if (seen_before) continue;
    float& v = penalized_[t];
    v = v <= 0.0f ? v * params_.repeat_penalty : v / params_.repeat_penalty;
  }
  return penalized_.data();
}

void TokenSampler::SoftmaxCandidates(size_t n, float temperature) {
  const float max = candidates_[0].logit;
  double sum = 0.0;
  for (size_t i = 0; i < n; ++i) {
    candidates_[i].p = std::exp((candidates_[i].logit - max) / temperature);
    sum += candidates_[i].p;
  }
  for (size_t i = 0; i < n; ++i) candidates_[i].p = static_cast<float>(candidates_[i].p / sum);
}

// top-p then min-p on the candidates' probabilities (sorted, descending); returns the kept count.
size_t TokenSampler::Truncate(size_t n) const {
  if (params_.top_p < 1.0f) {
    double cum = 0.0;
    for (size_t i = 0; i < n; ++i) {
      cum += candidates_[i].p;
      if (cum >= params_.top_p) {
        n = i + 1;
        break;
      }
    }
  }
  if (params_.min_p > 0.0f) {
    const float threshold = candidates_[0].p * params_.min_p;
    size_t keep = 1;
    while (keep < n && candidates_[keep].p >= threshold) ++keep;
    n = keep;
  }
  return n;
}

int32_t TokenSampler::Sample(const float* logits) {
  const float* l = Penalized(logits);
  if (params_.temperature <= 0.0f) {
    int32_t best = 0;
    for (int32_t i = 1; i < vocab_size_; ++i) {
      if (l[i] > l[best]) best = i;
    }
    return best;
  }
  size_t n = static_cast<size_t>(vocab_size_);
  for (size_t i = 0; i < n; ++i) candidates_[i] = {static_cast<int32_t>(i), l[i], 0.0f};
  auto begin = candidates_.begin();
  if (params_.top_k > 0 && static_cast<size_t>(params_.top_k) < n) {
    std::partial_sort(begin, begin + params_.top_k, begin + n, ByLogitDesc<Candidate, Candidate>);
    n = static_cast<size_t>(params_.top_k);
  } else {
    std::sort(begin, begin + n, ByLogitDesc<Candidate, Candidate>);
  }
  SoftmaxCandidates(n, 1.0f);
  n = Truncate(n);
  SoftmaxCandidates(n, params_.temperature);
  const double u = Uniform(rng_);
  double cum = 0.0;
  for (size_t i = 0; i < n; ++i) {
    cum += candidates_[i].p;
    if (u < cum) return candidates_[i].id;
  }
  return candidates_[n - 1].id;
}

}  // namespace omnicoder
