// Model loading: config, weights, resident expert source.
#include "runtime/loaded_model.h"

namespace omnicoder {

Result<std::unique_ptr<LoadedModel>> LoadModelFromGguf(std::unique_ptr<GgufFile> file,
                                                       const ModelLoadOptions& options) {
  auto m = std::make_unique<LoadedModel>();
  OC_ASSIGN_OR_RETURN(m->config, ReadModelConfig(*file));
  WeightLoadOptions wo;
  wo.check_all_tensors = options.check_all_tensors;
  OC_ASSIGN_OR_RETURN(m->weights, LoadModelWeights(*file, m->config, wo));
  m->experts = std::make_unique<ResidentExpertSource>(&m->weights.experts);
  m->file = std::move(file);
  return m;
}

}  // namespace omnicoder
