// Evaluation of a run's latest checkpoint: the whole of each validation set, and how the
// router spreads tokens over the experts of every layer.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "omnicoder/types.h"
#include "train/ops.h"
#include "train/train_config.h"

namespace omnicoder {

// Reads c.out_dir's checkpoint without taking the run's lock (checkpoints are replaced by
// rename, so a running trainer never shows a partial one).
Result<TrainEvaluation> EvaluateRun(const TrainConfig& c, TrainContext& ctx);

}  // namespace omnicoder
