// Shared CLI plumbing: engine/model creation with a progress bar, file reading, memory stats.
#pragma once

#include <memory>
#include <string>

#include "apps/cli/commands.h"
#include "omnicoder/omnicoder.h"

namespace omnicoder::cli {

std::unique_ptr<Engine> MakeEngine(const CommonOptions& o);  // prints the error, null on failure
// `planned` is the session the memory budget must leave room for (may be null).
std::unique_ptr<Model> LoadModelOrPrint(Engine& engine, const CommonOptions& o, bool vocab_only,
                                        const SessionOptions* planned = nullptr);
// Prints the pager counters to stderr (when the model pages experts).
void PrintPagerStats(const Model& model, int tokens);
// An engine, a model loaded on it and one session: what run, bench and logits need.
struct Loaded {
  std::unique_ptr<Engine> engine;
  std::unique_ptr<Model> model;
  std::unique_ptr<Session> session;
};
// Prints the error and returns false when any step fails.
bool LoadForEval(const CommonOptions& o, const SessionOptions& session_options, Loaded* out);
bool ReadFileToString(const std::string& path, std::string* out);
// Resident set size of this process in bytes (0 if unknown).
uint64_t ResidentBytes();
uint64_t PeakResidentBytes();
void PrintError(const std::string& what, const Status& s);

}  // namespace omnicoder::cli
