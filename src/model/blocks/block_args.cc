// ActSlots and small row helpers shared by blocks.
#include "model/blocks/block_args.h"

#include "base/check.h"

namespace omnicoder {

void ActSlots::Bind(const ForwardContext& ctx, const WeightMatrix& w, LinearJob* job) {
  const ActFormat fmt = KernelFor(ctx, w.type).act;
  int slot = -1;
  for (int i = 0; i < used_; ++i) {
    if (fmt_[i] == fmt) slot = i;
  }
  if (slot < 0) {
    // Unreachable from a file: no block binds more than three matrices to one input
    // (q/k/v is the most), so at most three formats can be asked for.
    OC_CHECK_MSG(used_ < 3, "more than three act formats for one input");
    slot = used_++;
    fmt_[slot] = fmt;
    row_bytes_[slot] = PrepareAct(ctx, w.type, {x_, x_stride_, n_tokens_, n_}, buf_[slot]);
  }
  job->w = &w;
  job->act = buf_[slot];
  job->act_row_bytes = row_bytes_[slot];
  job->n_tokens = n_tokens_;
}

void Linear(const ForwardContext& ctx, const BlockArgs& b, const float* x, std::initializer_list<LinearOut> outs) {
  // Unreachable from a file or flag: the call sites in blocks/ pass one to three matrices
  // (q/k/v, gate/up, one output) that read the same input, and the loader checks every
  // weight's input width against the layer's config (model/weights.cc) before any forward.
  OC_CHECK_MSG(outs.size() >= 1 && outs.size() <= 3, "Linear takes one to three matrices");
  ForwardScratch& s = *b.scratch;
  const int n = outs.begin()->w.cols;
  ActSlots in(x, n, b.n_tokens, n, s.act_a.data(), s.act_b.data(), s.act_h.data());
  LinearJob jobs[3];
  int n_jobs = 0;
  for (const LinearOut& o : outs) {
    OC_CHECK_MSG(o.w.cols == n, "matrices of one Linear call must share their input width");
    LinearJob& job = jobs[n_jobs++];
    in.Bind(ctx, o.w, &job);
    job.y = o.y;
    job.y_stride = o.w.rows;
  }
  RunLinear(ctx, jobs, n_jobs);
}

void AddRows(const ForwardContext& ctx, float* y, const float* x, size_t n_total) {
  ctx.kernels->axpy(y, x, 1.0f, static_cast<int>(n_total));
}

void RmsNormRows(const ForwardContext& ctx, RmsNormWeights norm, const float* x, int n_rows, int n, float* y) {
  for (int r = 0; r < n_rows; ++r) {
    ctx.kernels->rms_norm(x + static_cast<size_t>(r) * n, norm.w, norm.eps, y + static_cast<size_t>(r) * n, n);
  }
}

}  // namespace omnicoder
