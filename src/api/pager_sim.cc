// Public wrappers over the pager simulator and synthetic routing traces.
#include "api/api_impl.h"
#include "runtime/expert_cache.h"

namespace omnicoder {

Result<std::vector<PagerSimResult>> SimulatePagerTrace(const std::string& trace_path, int slots,
                                                       const std::vector<std::string>& policies,
                                                       uint64_t expert_bytes) {
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
  if (tokens <= 0 || layers <= 0 || experts <= 0 || k <= 0 || k > experts) {
    return InvalidArgument("synthetic trace needs tokens, layers, experts > 0 and 0 < k <= experts");
  }
  if (zipf_s < 0 || stickiness < 0 || stickiness > 1) return InvalidArgument("zipf >= 0 and 0 <= stickiness <= 1");
  return WriteRoutingTrace(SyntheticTrace(tokens, layers, experts, k, zipf_s, stickiness, seed), path);
}

}  // namespace omnicoder
