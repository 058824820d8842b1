// Public wrappers over the pager simulator and synthetic routing traces.
#include "api/api_impl.h"
#include "base/atomic_file.h"
#include "runtime/expert_cache.h"

namespace omnicoder {

Result<std::vector<PagerSimResult>> SimulatePagerTrace(const std::string& trace_path, int slots,
                                                       const std::vector<PagerPolicy>& policies,
                                                       uint64_t expert_bytes) {
  if (slots < 1 || slots > 1 << 20) return InvalidArgument("--slots must be in [1, 1048576]");
  OC_ASSIGN_OR_RETURN(RoutingTrace trace, ReadRoutingTrace(trace_path));
  std::vector<PagerSimResult> out;
  for (const PagerPolicy policy : policies) {
    OC_ASSIGN_OR_RETURN(SimResult r, SimulatePager(trace, slots, policy, expert_bytes));
    out.push_back({policy, r.accesses, r.misses, r.bytes});
  }
  return out;
}

Status WriteSyntheticTrace(const std::string& path, const SyntheticTraceOptions& o) {
  if (o.n_tokens <= 0 || o.n_tokens > 100000000 || o.n_layers <= 0 || o.n_layers > 4096 || o.n_experts <= 0 ||
      o.n_experts > 4096 || o.k <= 0 || o.k > o.n_experts) {
    return InvalidArgument(
        "a synthetic trace needs 1 <= tokens <= 100000000, 1 <= layers <= 4096, "
        "1 <= experts <= 4096 and 1 <= k <= experts");
  }
  if (!(o.zipf_s >= 0 && o.zipf_s <= 10)) return InvalidArgument("--zipf must be in [0, 10]");
  if (!(o.stickiness >= 0 && o.stickiness <= 1)) return InvalidArgument("--stickiness must be in [0, 1]");
  OC_RETURN_IF_ERROR(CheckOutputPath(path));
  return WriteRoutingTrace(SyntheticTrace(o), path);
}

}  // namespace omnicoder
