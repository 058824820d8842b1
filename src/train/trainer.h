// The training loop: data, micro-batches, AdamW, checkpoints, evaluation, time budget.
//
// A run lives in config.out_dir: checkpoint.ckpt (atomic, see checkpoint.h) and
// train-log.tsv (one line per step, rewritten atomically with each checkpoint). Starting
// a run whose folder holds a checkpoint of the same config, tokenizer and data resumes
// it; 2N steps straight and N + (kill, resume) + N give the same bits.
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "base/status.h"
#include "train/ops.h"
#include "train/train_config.h"

namespace omnicoder {

struct TrainRunOptions {
  double time_budget_seconds = 0;                    // this sitting; 0: none
  int max_steps = 0;                                 // stop after this step count (total); 0: config.total_steps
  const std::atomic<bool>* stop = nullptr;           // set (e.g. by SIGINT): checkpoint and return
  std::function<void(const std::string&)> progress;  // one status line per step
};

struct TrainResult {
  int step = 0;           // steps completed
  bool finished = false;  // reached total_steps
  bool resumed = false;
  double elapsed_seconds = 0;
  double last_loss = 0;
};

// Hash of the fields that decide the numbers (not paths or bookkeeping).
std::string TrainConfigSha256(const TrainConfig& c);

Result<TrainResult> RunTraining(const TrainConfig& c, const TrainRunOptions& options, TrainContext& ctx);

}  // namespace omnicoder
