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
  if (params_.top_k <= 0 || static_cast<size_t>(params_.top_k) >= n) return SampleAll(n);
  std::partial_sort(begin, begin + params_.top_k, begin + n, ByLogitDesc<Candidate, Candidate>);
  n = static_cast<size_t>(params_.top_k);
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

// Without top-k every token is a candidate. Sorting the whole vocabulary (150k tokens:
// about 9 ms) is not needed: for top-p and min-p the candidates are sorted in growing
// chunks only as far as the kept set reaches (a few dozen for real distributions; the
// kept set is the one a full sort gives, and a kept set that is a sorted prefix is sampled
// exactly as the top-k path does). When nothing is cut, the token is drawn by walking the
// candidates in array order: the same distribution, O(vocabulary), but a given seed picks
// a different token than a walk in sorted order would.
void TokenSampler::SortTo(size_t k, size_t n) {
  k = std::min(k, n);
  if (k <= sorted_) return;
  auto begin = candidates_.begin();
  std::partial_sort(begin + static_cast<long>(sorted_), begin + static_cast<long>(k), begin + static_cast<long>(n),
                    ByLogitDesc<Candidate, Candidate>);
  sorted_ = k;
}

int32_t TokenSampler::SampleAll(size_t n) {
  sorted_ = 0;
  SortTo(1, n);
  const float max = candidates_[0].logit;
  auto grow = [&](size_t i) {
    if (i >= sorted_) SortTo(std::max<size_t>(64, sorted_ * 4), n);
  };
  // Probabilities at temperature 1 for top-p and min-p.
  double sum1 = 0.0;
  const bool cut = params_.top_p < 1.0f || params_.min_p > 0.0f;
  for (size_t i = 0; cut && i < n; ++i) sum1 += std::exp(candidates_[i].logit - max);
  auto p1 = [&](size_t i) { return static_cast<float>(std::exp(candidates_[i].logit - max) / sum1); };
  size_t keep = n;
  if (params_.top_p < 1.0f) {
    double cum = 0.0;
    for (size_t i = 0; i < n; ++i) {
      grow(i);
      cum += p1(i);
      if (cum >= params_.top_p) {
        keep = i + 1;
        break;
      }
    }
  }
  if (params_.min_p > 0.0f) {
    const float threshold = p1(0) * params_.min_p;
    size_t k = 1;
    for (; k < keep; ++k) {
      grow(k);
      if (p1(k) < threshold) break;
    }
    keep = k;
  }
  return DrawKept(keep, n, max);
}

// Draws among the first `keep` candidates (the kept set) at the temperature.
int32_t TokenSampler::DrawKept(size_t keep, size_t n, float max) {
  if (keep <= sorted_) {  // a sorted prefix: exactly the top-k path's arithmetic
    SoftmaxCandidates(keep, params_.temperature);
    const double u = Uniform(rng_);
    double cum = 0.0;
    for (size_t i = 0; i < keep; ++i) {
      cum += candidates_[i].p;
      if (u < cum) return candidates_[i].id;
    }
    return candidates_[keep - 1].id;
  }
  const float t = params_.temperature;
  double sum = 0.0;
  for (size_t i = 0; i < keep; ++i) sum += std::exp((candidates_[i].logit - max) / t);
  const double u = Uniform(rng_);
  double cum = 0.0;
  if (keep == n) {  // nothing cut: any fixed order draws from the same distribution
    for (size_t i = 0; i < n; ++i) {
      cum += static_cast<float>(std::exp((candidates_[i].logit - max) / t) / sum);
      if (u < cum) return candidates_[i].id;
    }
    return candidates_[n - 1].id;
  }
  for (size_t i = 0; i < keep; ++i) {
    if (i >= sorted_) SortTo(std::max<size_t>(64, sorted_ * 4), n);
    cum += static_cast<float>(std::exp((candidates_[i].logit - max) / t) / sum);
    if (u < cum) return candidates_[i].id;
  }
  SortTo(keep, n);
  return candidates_[keep - 1].id;
}

}  // namespace omnicoder
