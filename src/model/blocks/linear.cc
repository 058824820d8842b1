// Linear layer dispatch: act preparation and multi-matrix parallel regions.
#include "model/blocks/linear.h"

#include "base/check.h"
#include "threading/thread_pool.h"

namespace omnicoder {

namespace {
constexpr int64_t kRowGrain = 16;
}  // namespace

const MatMulKernel& KernelFor(const ForwardContext& ctx, DType weight_type) {
  const MatMulKernel& k = ctx.kernels->matmul[static_cast<uint32_t>(weight_type)];
  // Unreachable from a file: the loader admits only weight types (IsWeightType in
  // model/weights.cc), and every kernel table level fills all of them from ref.
  OC_CHECK_MSG(k.matmul != nullptr, "weight type without a matmul kernel passed the loader");
  return k;
}

size_t PrepareAct(const ForwardContext& ctx, DType weight_type, const ActInput& in, uint8_t* dst) {
  const float* x = in.x;
  const size_t x_stride = in.x_stride;
  const int n_tokens = in.n_tokens, n = in.n;
  const MatMulKernel& k = KernelFor(ctx, weight_type);
  const size_t row_bytes = ActRowBytes(k.act, n);
  if (n_tokens < 4) {
    for (int t = 0; t < n_tokens; ++t) k.quantize_act(x + t * x_stride, dst + t * row_bytes, n);
    return row_bytes;
  }
  ctx.pool->ParallelFor(n_tokens, 1, [&](int64_t b, int64_t e, int) {
    for (int64_t t = b; t < e; ++t) k.quantize_act(x + t * x_stride, dst + t * row_bytes, n);
  });
  return row_bytes;
}

void RunLinear(const ForwardContext& ctx, const LinearJob* jobs, int n_jobs) {
  // Work of job j (rows * tokens) occupies [start_j, start_j + work_j) of one combined
  // axis; each thread walks the jobs with a running offset, so any number of jobs works
  // without a table (a prompt batch can route to every expert of a 128-expert layer).
  int64_t total = 0;
  for (int j = 0; j < n_jobs; ++j) total += int64_t{jobs[j].w->rows} * jobs[j].n_tokens;
  if (total == 0) return;
  const int n_threads = ctx.pool->size();
  // Runs the rows of work range [a, b); row bounds round up to kRowGrain, the same function
  // for both ends, so the pieces partition every job's rows.
  auto run_range = [&](int64_t a, int64_t b) {
    int64_t start = 0;
    for (int j = 0; j < n_jobs && start < b; ++j) {
      const LinearJob& job = jobs[j];
      const int64_t job_start = start;
      start += int64_t{job.w->rows} * job.n_tokens;
      if (start <= a) continue;
      // Row boundary for a work offset: the same function for both ends keeps a partition.
      auto row_at = [&](int64_t w) -> int64_t {
        int64_t rel = w - job_start;
        if (rel <= 0) return 0;
        int64_t r = (rel + job.n_tokens - 1) / job.n_tokens;
        r = (r + kRowGrain - 1) / kRowGrain * kRowGrain;
        return r < job.w->rows ? r : job.w->rows;
      };
      const int64_t r0 = row_at(a), r1 = row_at(b);
      if (r0 >= r1) continue;
      MatMulArgs args;
      args.w = job.w->data;
      args.w_row_bytes = job.w->row_bytes;
      args.x = job.act;
      args.x_row_bytes = job.act_row_bytes;
      args.y = job.y;
      args.y_stride = job.y_stride;
      args.in_dim = job.w->cols;
      args.n_tokens = job.n_tokens;
      const MatMulKernel& k = KernelFor(ctx, job.w->type);
      (job.w->layout == WeightLayout::kInterleaved8 ? k.matmul_x8 : k.matmul)(args, static_cast<int>(r0),
                                                                              static_cast<int>(r1));
    }
  };
  if (n_threads == 1) {
    run_range(0, total);
    return;
  }
  // Pieces of at least a row grain of the job with the fewest tokens, each thread's share
  // claimed front to back (one stream of weights per thread), the unclaimed back of a
  // slower thread's share taken by a faster one. On a 2-vCPU Zen 5 VM, against one static
  // half per thread: the pool's waits 16 -> 7 % of a Q4_0 decode's samples (MoE 10 -> 5 %),
  // Q4_0 decode +5-6 % (medians of alternating runs); 16 pieces handed round in turn
  // instead made decode 8 % slower (docs/BENCHMARKS.md, tenth sitting).
  int min_tokens = jobs[0].n_tokens;
  for (int j = 1; j < n_jobs; ++j) min_tokens = jobs[j].n_tokens < min_tokens ? jobs[j].n_tokens : min_tokens;
  ctx.pool->ParallelForBalanced(total, kRowGrain * (min_tokens > 0 ? min_tokens : 1),
                                [&](int64_t a, int64_t b, int) { run_range(a, b); });
}

}  // namespace omnicoder
