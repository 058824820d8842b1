// Private definitions behind the public pimpl classes.
#pragma once

#include <memory>

#include "base/log.h"
#include "format/gguf.h"
#include "kernels/kernel_table.h"
#include "omnicoder/omnicoder.h"
#include "runtime/loaded_model.h"
#include "runtime/session.h"
#include "threading/thread_pool.h"
#include "tokenizer/tokenizer.h"

namespace omnicoder {

struct Engine::Impl {
  std::unique_ptr<ThreadPool> pool;
  const KernelTable* kernels = nullptr;
  Logger logger;
};

struct Model::Impl {
  ModelInfo info;
  std::unique_ptr<GgufFile> vocab_file;  // vocab-only models keep their file here
  std::unique_ptr<LoadedModel> loaded;   // null for vocab-only
  std::unique_ptr<Tokenizer> tokenizer;
};

struct Session::Impl {
  std::unique_ptr<SessionState> state;
  std::vector<BatchEntry> batch;  // reused: Decode's conversion allocates only when it grows
};

// The library's own way into the public classes' private parts.
struct ApiAccess {
  static Engine::Impl& Of(Engine& engine) { return *engine.impl_; }
  static Model::Impl& Of(Model& model) { return *model.impl_; }
  static const Model::Impl& Of(const Model& model) { return *model.impl_; }
  static Session::Impl& Of(Session& session) { return *session.impl_; }
};

// Reads tokenizer.ggml.* metadata into plain data for the tokenizer layer.
Result<VocabData> ReadVocabData(const GgufFile& file);

}  // namespace omnicoder
