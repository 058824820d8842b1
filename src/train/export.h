// Export of trained parameters as a GGUF llama model (Mixtral tensor names for MoE),
// loadable by OmniCoder and llama.cpp.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "tensor/dtype.h"
#include "train/params.h"

namespace omnicoder {

class GgufFile;

// type: F32, F16 or BF16 for matrices (norms stay F32). Tokenizer metadata (every
// "tokenizer." key) is copied from `tokenizer`.
Status ExportGguf(const TrainConfig& c, const std::vector<ParamTensor>& layout, const float* params,
                  const GgufFile& tokenizer, DType type, const std::string& path);

}  // namespace omnicoder
