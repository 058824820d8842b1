// Naive full-model forward pass: the test oracle for the engine's forward loop.
//
// Written independently of src/model: reads the GGUF with the format layer, dequantizes
// every weight to f32 up front, and evaluates a token sequence from scratch with plain
// loops in double precision (no KV cache, no activation quantization, no threads).
// Supports the same architectures as the engine. Slow by design; tiny models only.
#pragma once

#include <string>
#include <vector>

#include "omnicoder/status.h"

namespace omnicoder::reference {

// Logits of the last token after evaluating `tokens` from position 0.
Result<std::vector<float>> NaiveLogits(const std::string& gguf_path, const std::vector<int32_t>& tokens);

// Logits of token ends[i] - 1 for each i: the last-token logits of each prefix
// tokens[0, ends[i]) (the oracle is causal), from one evaluation of the whole sequence.
// Every end must be in [1, tokens.size()].
Result<std::vector<std::vector<float>>> NaiveLogitsAt(const std::string& gguf_path, const std::vector<int32_t>& tokens,
                                                      const std::vector<int>& ends);

}  // namespace omnicoder::reference
