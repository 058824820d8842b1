// Linear layers: y = W x for batches of rows, on the weights' own block format.
//
// Inputs are first converted once to the weight type's activation format (PrepareAct)
// and can be shared by several matrices of the same format (q/k/v, gate/up). RunLinear
// executes several matrices in ONE parallel region, splitting their combined work.
#pragma once

#include <cstddef>
#include <cstdint>

#include "model/forward.h"

namespace omnicoder {

// Act format of a weight type on this table.
const MatMulKernel& KernelFor(const ForwardContext& ctx, DType weight_type);
// Converts the input rows into act rows at dst; returns the act row size in bytes.
struct ActInput {
  const float* x;   // n_tokens rows of n floats
  size_t x_stride;  // floats from one row to the next
  int n_tokens;
  int n;
};
size_t PrepareAct(const ForwardContext& ctx, DType weight_type, const ActInput& in, uint8_t* dst);
void RunLinear(const ForwardContext& ctx, const LinearJob* jobs, int n_jobs);

}  // namespace omnicoder
