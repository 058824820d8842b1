// Dense SwiGLU FFN.
#include "model/blocks/ffn.h"

namespace omnicoder {

void FfnBlock(const ForwardContext& ctx, const BlockArgs& b, const FfnWeights& w, const float* xn, float* out) {
  const ModelConfig& c = *b.config;
  ForwardScratch& s = *b.scratch;
  const int T = b.n_tokens, ffn = w.gate.rows;
  float* h1 = s.h1.as<float>();
  float* h3 = s.h3.as<float>();
  ActSlots in(xn, c.dim, T, c.dim, s.act_a.data(), s.act_b.data(), s.act_h.data());
  LinearJob jobs[2];
  in.Bind(ctx, w.gate, &jobs[0]);
  in.Bind(ctx, w.up, &jobs[1]);
  jobs[0].y = h1, jobs[0].y_stride = ffn;
  jobs[1].y = h3, jobs[1].y_stride = ffn;
  RunLinear(ctx, jobs, 2);
  ctx.kernels->silu_mul(h1, h3, T * ffn);
  ActSlots hid(h1, ffn, T, ffn, s.act_a.data(), s.act_b.data(), s.act_h.data());
  LinearJob down;
  hid.Bind(ctx, w.down, &down);
  down.y = out;
  down.y_stride = c.dim;
  RunLinear(ctx, &down, 1);
}

}  // namespace omnicoder
