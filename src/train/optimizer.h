// AdamW with global-norm gradient clipping and a warmup + cosine learning-rate schedule
// that depends only on the step (so a resumed run follows the same curve).
#pragma once

#include <cstddef>
#include <vector>

#include "train/params.h"

namespace omnicoder {

class ThreadPool;

// Learning rate of optimizer step `step` (0-based): linear warmup to lr over
// warmup_steps, then cosine decay to lr * min_lr_ratio at total_steps.
double LearningRate(const TrainConfig& c, int step);

// Global L2 norm of the gradients (fixed summation order: per tensor in layout order,
// elements in order, in double).
double GradNorm(const std::vector<ParamTensor>& layout, const float* grads);

// One AdamW update at `step` (0-based; bias correction uses step + 1). Gradients are
// scaled by clip = min(1, grad_clip / norm) first. Decoupled weight decay on tensors
// marked decay.
struct OptimizerState {
  float* params;
  const float* grads;
  float* m;  // first moments
  float* v;  // second moments
};
void AdamWStep(const TrainConfig& c, const std::vector<ParamTensor>& layout, int step, double grad_norm,
               ThreadPool& pool, const OptimizerState& state);

}  // namespace omnicoder
