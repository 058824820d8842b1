// LoadedModel: a mapped GGUF file with its config, bound weights and expert source.
// Immutable after load; sessions share it. Thread safety: read-only.
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

namespace omnicoder {

struct ModelLoadOptions {
  bool check_all_tensors = false;
  // false: copy tensor data into huge-page anonymous memory (fast matmuls, page cache
  // dropped behind the read); true: compute straight from the file mapping.
  bool use_mmap = false;
  std::function<void(float)> progress;  // fraction of tensor data read
  // Kernels the model will run on: matrices are repacked for the layouts they prefer.
  const KernelTable* kernels = nullptr;
};

struct LoadedModel {
  std::unique_ptr<GgufFile> file;
  ModelConfig config;
  ModelWeights weights;
  std::unique_ptr<ExpertSource> experts;
  HugeBuffer arena;  // tensor data when not using the mapping
};

Result<std::unique_ptr<LoadedModel>> LoadModelFromGguf(std::unique_ptr<GgufFile> file,
                                                       const ModelLoadOptions& options);

}  // namespace omnicoder
