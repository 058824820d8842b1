// AdamW, clipping and the schedule.
#include "train/optimizer.h"

#include <cmath>

#include "threading/thread_pool.h"

namespace omnicoder {

double LearningRate(const TrainConfig& c, int step) {
  if (c.warmup_steps > 0 && step < c.warmup_steps) return c.lr * (step + 1.0) / c.warmup_steps;
  const double span = std::max(1, c.total_steps - c.warmup_steps);
  const double progress = std::min(1.0, (step - c.warmup_steps) / span);
  const double cosine = 0.5 * (1.0 + std::cos(3.141592653589793 * progress));
  return c.lr * (c.min_lr_ratio + (1.0 - c.min_lr_ratio) * cosine);
}

double GradNorm(const std::vector<ParamTensor>& layout, const float* grads) {
  double total = 0;
  for (const ParamTensor& t : layout) {
    const float* g = grads + t.offset;
    double s = 0;
    for (size_t i = 0; i < t.size; ++i) s += static_cast<double>(g[i]) * g[i];
    total += s;
  }
  return std::sqrt(total);
}

void AdamWStep(const TrainConfig& c, const std::vector<ParamTensor>& layout, int step, double grad_norm,
               ThreadPool& pool, const OptimizerState& state) {
  float *params = state.params, *m = state.m, *v = state.v;
  const float* grads = state.grads;
  const double lr = LearningRate(c, step);
  const double clip = (c.grad_clip > 0 && grad_norm > c.grad_clip) ? c.grad_clip / grad_norm : 1.0;
  const double bc1 = 1.0 - std::pow(static_cast<double>(c.beta1), step + 1);
  const double bc2 = 1.0 - std::pow(static_cast<double>(c.beta2), step + 1);
  const float b1 = c.beta1, b2 = c.beta2;
  const float step_size = static_cast<float>(lr / bc1);
  const float inv_sqrt_bc2 = static_cast<float>(1.0 / std::sqrt(bc2));
  const float eps = c.adam_eps;
  const float fclip = static_cast<float>(clip);
  for (const ParamTensor& t : layout) {
    const float decay = t.decay ? static_cast<float>(1.0 - lr * c.weight_decay) : 1.0f;
    float* p = params + t.offset;
    const float* g = grads + t.offset;
    float* mt = m + t.offset;
    float* vt = v + t.offset;
    pool.ParallelFor(static_cast<int64_t>(t.size), 4096, [&](int64_t b, int64_t e, int) {
      for (int64_t i = b; i < e; ++i) {
        const float gi = g[i] * fclip;
        mt[i] = b1 * mt[i] + (1.0f - b1) * gi;
        vt[i] = b2 * vt[i] + (1.0f - b2) * gi * gi;
        p[i] = p[i] * decay - step_size * mt[i] / (std::sqrt(vt[i]) * inv_sqrt_bc2 + eps);
      }
    });
  }
}

}  // namespace omnicoder
