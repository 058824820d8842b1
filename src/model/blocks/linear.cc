// Linear layer dispatch: act preparation and multi-matrix parallel regions.
#include "model/blocks/linear.h"

#include "base/check.h"
#include "threading/thread_pool.h"

namespace omnicoder {

namespace {
constexpr int64_t kRowGrain = 16;

// Row of `job` at which work offset w of the combined axis falls, rounded up to kRowGrain:
// the same function for both ends of a range, so ranges partition every job's rows.
int64_t RowAt(const LinearJob& job, int64_t job_start, int64_t w) {
  const int64_t rel = w - job_start;
  if (rel <= 0) return 0;
  int64_t r = (rel + job.n_tokens - 1) / job.n_tokens;
  r = (r + kRowGrain - 1) / kRowGrain * kRowGrain;
  return r < job.w->rows ? r : job.w->rows;
}

// Calls fn(job, r0, r1) for each job whose rows [r0, r1) (r0 < r1) meet the work range
// [a, b) of the combined axis, in job order, until fn returns false.
template <class Fn>
void ForJobRows(const LinearJob* jobs, int n_jobs, int64_t a, int64_t b, Fn&& fn) {
  int64_t start = 0;
  for (int j = 0; j < n_jobs && start < b; ++j) {
    const LinearJob& job = jobs[j];
    const int64_t job_start = start;
    start += int64_t{job.w->rows} * job.n_tokens;
    if (start <= a) continue;
    const int64_t r0 = RowAt(job, job_start, a), r1 = RowAt(job, job_start, b);
    if (r0 < r1 && !fn(job, r0, r1)) return;
  }
}

uint64_t JobsKey(const LinearJob* jobs, int n_jobs) {
  uint64_t h = static_cast<uint64_t>(n_jobs);
  for (int j = 0; j < n_jobs; ++j) {
    h = (h ^ reinterpret_cast<uintptr_t>(jobs[j].w->data)) * 0x9E3779B97F4A7C15ull;
    h ^= h >> 29;
  }
  return h;
}

// Records this call in the step's trace (where each worker's share of its weights starts)
// and hands the workers their share of the call that followed this one in the step
// before, when that call's matrices were the same two steps running.
void TraceAndHint(const ForwardContext& ctx, const LinearJob* jobs, int n_jobs, int64_t total, int64_t grain) {
  LinearTrace& tr = *ctx.trace;
  ThreadPool& pool = *ctx.pool;
  const int n_threads = pool.size();
  const size_t stride = tr.calls.empty() ? 0 : tr.shares.size() / tr.calls.size();
  const int k = tr.n;
  if (static_cast<size_t>(k) >= tr.calls.size() || static_cast<size_t>(n_threads) > stride) {
    for (int t = 1; t < n_threads; ++t) pool.SetIdlePrefetch(t, nullptr, 0);
    return;
  }
  // The call after k in the step before (after its last call: the step's first).
  const int next = k + 1 < tr.prev_n ? k + 1 : 0;
  const bool predict = tr.prev_n > 0 && tr.calls[static_cast<size_t>(next)].stable;
  for (int t = 1; t < n_threads; ++t) {
    const LinearTrace::Share& sh = tr.shares[static_cast<size_t>(next) * stride + static_cast<size_t>(t)];
    pool.SetIdlePrefetch(t, predict ? sh.p : nullptr, predict ? sh.bytes : 0);
  }
  LinearTrace::Call& call = tr.calls[static_cast<size_t>(k)];
  const uint64_t key = JobsKey(jobs, n_jobs);
  call.stable = k < tr.prev_n && call.key == key;
  call.key = key;
  const int64_t n_grains = (total + grain - 1) / grain;
  for (int t = 1; t < n_threads; ++t) {
    int64_t g0, g1;
    SplitRange(n_grains, 1, n_threads, t, &g0, &g1);
    const int64_t a = g0 * grain, b = g1 * grain < total ? g1 * grain : total;
    LinearTrace::Share& sh = tr.shares[static_cast<size_t>(k) * stride + static_cast<size_t>(t)];
    sh = {};
    // The worker starts on the first rows of its share (ParallelForBalanced).
    ForJobRows(jobs, n_jobs, a, b, [&](const LinearJob& job, int64_t r0, int64_t r1) {
      sh.p = job.w->data + static_cast<size_t>(r0) * job.w->row_bytes;
      sh.bytes = static_cast<size_t>(r1 - r0) * job.w->row_bytes;
      return false;
    });
  }
  tr.n = k + 1;
}
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
  // Runs the rows of work range [a, b) (bounds through RowAt: the pieces partition rows).
  auto run_range = [&](int64_t a, int64_t b) {
    ForJobRows(jobs, n_jobs, a, b, [&](const LinearJob& job, int64_t r0, int64_t r1) {
      MatMulArgs args;
      args.w = job.w->data;
      args.w_row_bytes = job.w->row_bytes;
      args.x = job.act;
      args.x_row_bytes = job.act_row_bytes;
      args.y = job.y;
      args.y_stride = job.y_stride;
      args.in_dim = job.w->cols;
      args.n_tokens = job.n_tokens;
      args.prefetch_nta = ctx.kernels->decode_prefetch_nta;
      const MatMulKernel& k = KernelFor(ctx, job.w->type);
      (job.w->layout == WeightLayout::kInterleaved8 ? k.matmul_x8 : k.matmul)(args, static_cast<int>(r0),
                                                                              static_cast<int>(r1));
      return true;
    });
  };
  // Pieces of at least a row grain of the job with the fewest tokens, each thread's share
  // claimed front to back (one stream of weights per thread), the unclaimed back of a
  // slower thread's share taken by a faster one. On a 2-vCPU Zen 5 VM, against one static
  // half per thread: the pool's waits 16 -> 7 % of a Q4_0 decode's samples (MoE 10 -> 5 %),
  // Q4_0 decode +5-6 % (medians of alternating runs); 16 pieces handed round in turn
  // instead made decode 8 % slower (docs/BENCHMARKS.md, tenth sitting).
  int min_tokens = jobs[0].n_tokens;
  for (int j = 1; j < n_jobs; ++j) min_tokens = jobs[j].n_tokens < min_tokens ? jobs[j].n_tokens : min_tokens;
  const int64_t grain = kRowGrain * (min_tokens > 0 ? min_tokens : 1);
  if (ctx.trace) TraceAndHint(ctx, jobs, n_jobs, total, grain);
  ctx.pool->ParallelForBalanced(total, grain, [&](int64_t a, int64_t b, int) { run_range(a, b); });
}

}  // namespace omnicoder
