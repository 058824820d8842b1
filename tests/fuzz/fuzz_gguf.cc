// libFuzzer target: GGUF parsing and everything that validates a parsed file
// (model config, weight binding, tokenizer metadata). Must never crash or hang.
#include <cstddef>
#include <cstdint>

#include "api/api_impl.h"
#include "format/gguf.h"
#include "model/model_config.h"
#include "model/weights.h"

using namespace omnicoder;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto file = GgufFile::Parse(MappedFile::FromBuffer(data, size, "fuzz"));
  if (!file.ok()) return 0;
  const GgufFile& f = *file.value();
  for (const auto& [key, value] : f.metadata()) {
    (void)f.GetUint(key);
    (void)f.GetFloat(key);
    (void)f.GetString(key);
  }
  auto config = ReadModelConfig(f);
  if (config.ok()) (void)LoadModelWeights(f, config.value(), WeightLoadOptions{true});
  auto vocab = ReadVocabData(f);
  if (vocab.ok()) {
    auto tok = Tokenizer::Create(std::move(vocab).value());
    if (tok.ok()) (void)tok.value()->Encode("hello world <s> 123", true, true);
  }
  return 0;
}
