// LoadedModel: a mapped GGUF file with its config, bound weights and expert source.
// Immutable after load; sessions share it. Thread safety: read-only.
#pragma once

#include <memory>
#include <string>

#include "base/status.h"
#include "format/gguf.h"
#include "model/expert_source.h"
#include "model/model_config.h"
#include "model/weights.h"

namespace omnicoder {

struct ModelLoadOptions {
  bool check_all_tensors = false;
};

struct LoadedModel {
  std::unique_ptr<GgufFile> file;
  ModelConfig config;
  ModelWeights weights;
  std::unique_ptr<ExpertSource> experts;
};

Result<std::unique_ptr<LoadedModel>> LoadModelFromGguf(std::unique_ptr<GgufFile> file,
                                                       const ModelLoadOptions& options);

}  // namespace omnicoder
