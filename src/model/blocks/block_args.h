// Arguments shared by every block function, and the activation-slot helper.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>

#include "model/blocks/linear.h"
#include "model/forward.h"

namespace omnicoder {

struct BlockArgs {
  const ModelConfig* config = nullptr;
  int layer_idx = 0;
  int n_tokens = 0;              // T
  const int32_t* pos = nullptr;  // [T] position of each token
  const int32_t* seq = nullptr;  // [T] sequence of each token
  ForwardScratch* scratch = nullptr;
};

// One input (T rows of n floats) prepared lazily in up to three act formats.
class ActSlots {
 public:
  ActSlots(const float* x, size_t x_stride, int n_tokens, int n, uint8_t* b0, uint8_t* b1, uint8_t* b2)
      : x_(x), x_stride_(x_stride), n_tokens_(n_tokens), n_(n), buf_{b0, b1, b2} {}
  // Act rows for `w`'s format (prepared on first use); fills the job's act fields.
  void Bind(const ForwardContext& ctx, const WeightMatrix& w, LinearJob* job);

 private:
  const float* x_;
  size_t x_stride_;
  int n_tokens_, n_;
  uint8_t* buf_[3];
  ActFormat fmt_[3] = {};
  size_t row_bytes_[3] = {};
  int used_ = 0;
};

// One product of a Linear call: y = w x, rows of w.rows floats.
struct LinearOut {
  const WeightMatrix& w;
  float* y;
};
// y_i[t] = W_i x[t] for the block's T tokens (x: T contiguous rows of W_i.cols floats), every
// matrix in one parallel region; matrices of one act format share the converted input.
// Linear(ctx, b, xn, {{w.gate, h1}, {w.up, h3}}) reads as h1 = W_gate xn, h3 = W_up xn.
void Linear(const ForwardContext& ctx, const BlockArgs& b, const float* x, std::initializer_list<LinearOut> outs);

// y[t] += x[t] for T rows of n (contiguous).
void AddRows(const ForwardContext& ctx, float* y, const float* x, size_t n_total);
// An RMSNorm's weight [n] and epsilon.
struct RmsNormWeights {
  const float* w;
  float eps;
};
// RMSNorm of each of n_rows rows of n (stride n); y may be x.
void RmsNormRows(const ForwardContext& ctx, RmsNormWeights norm, const float* x, int n_rows, int n, float* y);

}  // namespace omnicoder
