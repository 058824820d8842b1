// LoadedModel: a mapped GGUF file with its config, bound weights and expert source.
//
// Weights are copied out of the page cache into a huge-page arena (or used in place with
// use_mmap). With a memory budget, only non-expert weights are copied and the experts
// are paged from disk into a pool sized by the MemoryPlan.
// Immutable after load (the pager's state aside); sessions share it.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "base/huge_buffer.h"
#include "base/status.h"
#include "format/gguf.h"
#include "kernels/kernel_table.h"
#include "model/expert_source.h"
#include "model/model_config.h"
#include "model/weights.h"
#include "runtime/expert_cache.h"
#include "runtime/memory_plan.h"

namespace omnicoder {

class ExpertPager;

struct PagingOptions {
  uint64_t mem_budget = 0;  // whole-process bytes; 0 = no budget, every expert resident
  int expert_slots = 0;     // > 0: page experts through exactly this many slots
  PagerPolicy policy = PagerPolicy::kLfu;
  bool prefetch = true;
  std::string routing_trace;  // record (token, layer, experts) here when set
  // The session the budget must leave room for.
  int ctx_len = 0;  // 0: DefaultCtxLen of the model
  int max_batch = 64;
  DType kv_type = DType::kF16;
  int n_threads = 1;
  // Test hook handed to the pager: a read of (layer, expert) fails when it returns non-ok.
  std::function<Status(int layer, int expert)> inject_read_error;
};

struct ModelLoadOptions {
  bool check_all_tensors = false;
  // false: copy tensor data into huge-page anonymous memory (fast matmuls, page cache
  // dropped behind the read); true: compute straight from the file mapping.
  bool use_mmap = false;
  std::function<void(float)> progress;  // fraction of tensor data read
  // Kernels the model will run on: matrices are repacked for the layouts they prefer.
  const KernelTable* kernels = nullptr;
  PagingOptions paging;
};

struct LoadedModel {
  std::unique_ptr<GgufFile> file;
  ModelConfig config;
  ModelWeights weights;
  std::unique_ptr<ExpertSource> experts;
  ExpertPager* pager = nullptr;               // experts as a pager, when paging
  std::unique_ptr<RoutingTraceWriter> trace;  // --routing-trace (Finish before exit)
  HugeBuffer arena;                           // tensor data copied out of the file
  bool has_plan = false;
  MemoryPlan plan;
};

Result<std::unique_ptr<LoadedModel>> LoadModelFromGguf(std::unique_ptr<GgufFile> file, const ModelLoadOptions& options);

}  // namespace omnicoder
