// Synthetic models of the architectures with their own tensor sets: deepseek2 (MLA,
// leading dense layers, shared experts) and gpt-oss (sinks, biases, sliding windows,
// MXFP4 experts). Internal to the test model generator.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "tools/test_model.h"

namespace omnicoder {

class GgufWriter;

struct TensorPlan {
  std::string name;
  std::vector<int64_t> dims;  // {cols, rows[, n]}
  DType type;
  float scale;  // values: offset + scale * U(-1, 1)
  float offset;
};

// "tiny-deepseek2" (V2-Lite style: plain q, softmax, YaRN), "tiny-deepseek3" (q LoRA,
// sigmoid with selection bias, groups, normalized and scaled weights), "tiny-gpt-oss".
Result<TestModelSpec> ArchPreset(const std::string& name, TestModelSpec base);
std::vector<TensorPlan> PlanArchTensors(const TestModelSpec& s);
// Metadata beyond the generic keys (overrides them where the arch differs).
void SetArchMetadata(const TestModelSpec& s, GgufWriter* w);

}  // namespace omnicoder
