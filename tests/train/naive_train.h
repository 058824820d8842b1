// Naive double-precision training oracle: loss and gradients of the llama (dense or
// Mixtral MoE) model with plain per-token loops, written independently of src/train
// (only the parameter layout, i.e. tensor names and offsets, is shared).
//
// loss = mean next-token cross-entropy + per MoE layer (balance * E * sum_i f_i P_i +
//        z * mean_t logsumexp_t^2), f_i = fraction of (token, rank) slots routed to i,
//        P_i = mean router probability of i. Slow by design; tiny and small configs only.
#pragma once

#include <cstdint>
#include <vector>

#include "train/params.h"

namespace omnicoder::reference {

struct NaiveTrainResult {
  double loss = 0;
  std::vector<double> grad;         // same layout as the parameters (empty if not asked)
  std::vector<int32_t> selections;  // every router choice, in order (to detect flips)
};

NaiveTrainResult NaiveTrainStep(const TrainModelConfig& c, const std::vector<ParamTensor>& layout,
                                const std::vector<double>& params, const std::vector<int32_t>& tokens, int n_seqs,
                                double balance_coef, double z_coef, bool want_grad);

}  // namespace omnicoder::reference
