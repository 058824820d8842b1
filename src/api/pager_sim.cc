// Public wrappers over the pager simulator and synthetic routing traces.
#include "api/api_impl.h"
#include "base/atomic_file.h"
#include "runtime/expert_cache.h"

namespace omnicoder {

Result<std::vector<PagerSimResult>> SimulatePagerTrace(const std::string& trace_path, int slots,
                                                       const std::vector<std::string>& policies,
                                                       uint64_t expert_bytes) {
  if (slots < 1 || slots > 1 << 20) return InvalidArgument("--slots must be in [1, 1048576]");
  OC_ASSIGN_OR_RETURN(RoutingTrace trace, ReadRoutingTrace(trace_path));
  std::vector<PagerSimResult> out;
  for (const std::string& name : policies) {
    OC_ASSIGN_OR_RETURN(EvictionPolicy policy, ParseEvictionPolicy(name));
    OC_ASSIGN_OR_RETURN(SimResult r, SimulatePager(trace, slots, policy, expert_bytes));
    out.push_back({name, r.accesses, r.misses, r.bytes});
  }
  return out;
}

Status WriteSyntheticTrace(const std::string& path, int tokens, int layers, int experts, int k, double zipf_s,
                           double stickiness, uint64_t seed) {
  if (tokens <= 0 || tokens > 100000000 || layers <= 0 || layers > 4096 || experts <= 0 || experts > 4096 || k <= 0 ||
      k > experts) {
    return InvalidArgument("a synthetic trace needs 1 <= tokens <= 100000000, 1 <= layers <= 4096, "
                           "1 <= experts <= 4096 and 1 <= k <= experts");
  }
  if (!(zipf_s >= 0 && zipf_s <= 10)) return InvalidArgument("--zipf must be in [0, 10]");
  if (!(stickiness >= 0 && stickiness <= 1)) return InvalidArgument("--stickiness must be in [0, 1]");
  OC_RETURN_IF_ERROR(CheckOutputPath(path));
  return WriteRoutingTrace(SyntheticTrace(tokens, layers, experts, k, zipf_s, stickiness, seed), path);
}

}  // namespace omnicoder
