// Dense SwiGLU FFN.
#include "model/blocks/ffn.h"

namespace omnicoder {

void FfnBlock(const ForwardContext& ctx, const BlockArgs& b, const FfnWeights& w, const float* xn, float* out) {
  ForwardScratch& s = *b.scratch;
  const int T = b.n_tokens, ffn = w.gate.rows;
  float* h1 = s.h1.as<float>();
  float* h3 = s.h3.as<float>();
  Linear(ctx, b, xn, {{w.gate, h1}, {w.up, h3}});
  ctx.kernels->silu_mul(h1, h3, T * ffn);  // h1 = silu(h1) * h3
  Linear(ctx, b, h1, {{w.down, out}});
}

}  // namespace omnicoder
