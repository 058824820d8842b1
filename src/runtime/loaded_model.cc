// Model loading: config, weights, the weight arena, and the expert source (resident or paged).
#include "runtime/loaded_model.h"

#include <algorithm>

#include "base/atomic_file.h"
#include "base/strings.h"
#include "model/forward.h"
#include "runtime/expert_pager.h"
#include "runtime/kv_cache.h"

namespace omnicoder {

namespace {

constexpr uint64_t kTensorAlign = 64;

struct ProgressCtx {
  const ModelLoadOptions* options;
  uint64_t done_before;  // bytes of earlier reads
  uint64_t total;
};

void Progress(void* c, size_t done) {
  const ProgressCtx* p = static_cast<const ProgressCtx*>(c);
  if (p->options->progress) {
    p->options->progress(static_cast<float>(p->done_before + done) / static_cast<float>(p->total));
  }
}

// Whether each GGUF tensor holds expert weights (any expert matrix points into it).
std::vector<bool> ExpertTensors(const GgufFile& f, const ModelWeights& w) {
  std::vector<const uint8_t*> ptrs;
  for (const auto& layer : w.experts) {
    for (const FfnWeights& e : layer) ptrs.insert(ptrs.end(), {e.gate.data, e.up.data, e.down.data});
  }
  std::sort(ptrs.begin(), ptrs.end());
  std::vector<bool> is_expert(f.tensors().size(), false);
  for (size_t i = 0; i < f.tensors().size(); ++i) {
    const GgufTensorInfo& t = f.tensors()[i];
    auto it = std::lower_bound(ptrs.begin(), ptrs.end(), t.data);
    is_expert[i] = it != ptrs.end() && *it < t.data + t.n_bytes;
  }
  return is_expert;
}

uint64_t Align(uint64_t n) {
  return (n + kTensorAlign - 1) / kTensorAlign * kTensorAlign;
}

// Copies the whole tensor data section into the arena (every expert resident).
Status CopyAll(LoadedModel* m, const ModelLoadOptions& o) {
  const MappedFile& mf = m->file->file();
  const size_t size = mf.size() - m->file->data_offset();
  if (size == 0) return Status::Ok();
  OC_RETURN_IF_ERROR(m->arena.Allocate(size));
  ProgressCtx ctx{&o, 0, size};
  OC_RETURN_IF_ERROR(ReadFileRange(mf.path(), m->file->data_offset(), size, m->arena.data(), &Progress, &ctx));
  const uint8_t* begin = mf.data() + m->file->data_offset();
  RebaseWeights(&m->weights, begin, begin + size, m->arena.data());
  if (o.kernels) InterleaveWeights(&m->weights, *o.kernels);
  DropFileCache(mf.path());
  return Status::Ok();
}

// Copies only the tensors that are not experts (the experts stay on disk for the pager).
Status CopyNonExperts(LoadedModel* m, const std::vector<bool>& is_expert, uint64_t total, const ModelLoadOptions& o) {
  OC_RETURN_IF_ERROR(m->arena.Allocate(total));
  const MappedFile& mf = m->file->file();
  uint64_t off = 0;
  for (size_t i = 0; i < is_expert.size(); ++i) {
    const GgufTensorInfo& t = m->file->tensors()[i];
    if (is_expert[i] || t.n_bytes == 0) continue;
    ProgressCtx ctx{&o, off, total};
    OC_RETURN_IF_ERROR(
        ReadFileRange(mf.path(), m->file->data_offset() + t.offset, t.n_bytes, m->arena.data() + off, &Progress, &ctx));
    RebaseWeights(&m->weights, t.data, t.data + t.n_bytes, m->arena.data() + off);
    off += Align(t.n_bytes);
  }
  if (o.kernels) InterleaveWeights(&m->weights, *o.kernels, /*include_experts=*/false);
  DropFileCache(mf.path());
  return Status::Ok();
}

Status SetUpExperts(LoadedModel* m, const ModelLoadOptions& o, int n_slots) {
  const PagingOptions& po = o.paging;
  if (n_slots > 0) {
    PagerOptions p;
    p.path = m->file->file().path();
    p.n_slots = n_slots;
    p.policy = po.policy;
    p.prefetch = po.prefetch;
    p.kernels = o.kernels;
    p.inject_read_error = po.inject_read_error;
    OC_ASSIGN_OR_RETURN(std::unique_ptr<ExpertPager> pager,
                        ExpertPager::Create(m->config, m->weights.experts, m->file->file().data(), p));
    m->pager = pager.get();
    m->experts = std::move(pager);
  } else {
    m->experts = std::make_unique<ResidentExpertSource>(&m->weights.experts);
  }
  if (!po.routing_trace.empty()) {
    if (!m->config.HasMoe()) {
      return InvalidArgument("--routing-trace records expert routing, and this model has no MoE layers");
    }
    OC_ASSIGN_OR_RETURN(m->trace, RoutingTraceWriter::Open(po.routing_trace, m->config.n_layers, m->config.MaxExperts(),
                                                           m->config.MaxExpertsActive()));
    m->experts = std::make_unique<TracingExpertSource>(std::move(m->experts), m->trace.get());
  }
  return Status::Ok();
}

// Budget mode: plan, then copy the resident part and page the rest.
Status LoadWithBudget(LoadedModel* m, const ModelLoadOptions& o) {
  const PagingOptions& po = o.paging;
  if (o.use_mmap)
    return InvalidArgument("--mmap cannot be combined with a memory budget (the page cache is not budgeted)");
  const ModelConfig& c = m->config;
  MemoryPlanInput in;
  in.budget = po.mem_budget;
  in.baseline = CurrentRssBytes();
  const std::vector<bool> is_expert = ExpertTensors(*m->file, m->weights);
  for (size_t i = 0; i < is_expert.size(); ++i) {
    if (!is_expert[i]) in.non_expert += Align(m->file->tensors()[i].n_bytes);
  }
  const int ctx = po.ctx_len > 0 ? po.ctx_len : DefaultCtxLen(c.ctx_len);
  KvOptions kvo;
  kvo.seq_ctx = ctx;
  kvo.type = po.kv_type;
  kvo.max_batch = po.max_batch;
  in.session =
      KvCache::BytesFor(c, kvo) + ForwardScratchBytes(c, po.max_batch, ctx, po.n_threads) + 4ull * c.vocab_size;
  if (c.HasMoe()) {
    in.slot_bytes = ExpertPager::SlotBytes(m->weights.experts, m->file->file().data());
    in.experts_per_token = c.MaxExpertsActive();
    for (const LayerSpec& l : c.layers) in.total_experts += l.n_experts;
  }
  in.prefetch = po.prefetch;
  if (po.mem_budget == 0) {  // explicit slot count: plan with a budget that fits them exactly
    in.budget = in.baseline + in.non_expert + in.session + kMemoryReserveBytes + in.slot_bytes * po.expert_slots;
  }
  OC_ASSIGN_OR_RETURN(m->plan, PlanMemory(in));
  if (po.expert_slots > 0) {
    m->plan.n_slots = std::min(po.expert_slots, in.total_experts);
    m->plan.all_resident = false;
    m->plan.prefetch = po.prefetch && PrefetchFits(m->plan.n_slots, in.experts_per_token);
  }
  m->has_plan = true;
  if (m->plan.all_resident) {
    OC_RETURN_IF_ERROR(CopyAll(m, o));
    return SetUpExperts(m, o, 0);
  }
  OC_RETURN_IF_ERROR(CopyNonExperts(m, is_expert, in.non_expert, o));
  return SetUpExperts(m, o, m->plan.n_slots);
}

}  // namespace

Result<std::unique_ptr<LoadedModel>> LoadModelFromGguf(std::unique_ptr<GgufFile> file,
                                                       const ModelLoadOptions& options) {
  auto m = std::make_unique<LoadedModel>();
  m->file = std::move(file);
  OC_ASSIGN_OR_RETURN(m->config, ReadModelConfig(*m->file));
  WeightLoadOptions wo;
  wo.check_all_tensors = options.check_all_tensors;
  OC_ASSIGN_OR_RETURN(m->weights, LoadModelWeights(*m->file, m->config, wo));
  const PagingOptions& po = options.paging;
  if (!po.routing_trace.empty()) OC_RETURN_IF_ERROR(CheckOutputPath(po.routing_trace));  // before any work
  if (po.expert_slots > 0 && m->config.HasMoe() && po.expert_slots < m->config.MaxExpertsActive()) {
    return InvalidArgument(StrFormat(
        "--expert-slots %d is fewer than the %d experts a token uses in one layer; use "
        "at least %d (%d or more lets the pager prefetch)",
        po.expert_slots, m->config.MaxExpertsActive(), m->config.MaxExpertsActive(), 2 * m->config.MaxExpertsActive()));
  }
  if (options.paging.mem_budget > 0 || (options.paging.expert_slots > 0 && m->config.HasMoe())) {
    OC_RETURN_IF_ERROR(LoadWithBudget(m.get(), options));
    return m;
  }
  if (!options.use_mmap) OC_RETURN_IF_ERROR(CopyAll(m.get(), options));
  OC_RETURN_IF_ERROR(SetUpExperts(m.get(), options, 0));
  return m;
}

}  // namespace omnicoder
