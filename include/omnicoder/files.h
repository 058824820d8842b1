// Files as every OmniCoder command handles them: inputs are read only if they are regular
// files of bounded size and are protected from being overwritten; outputs are written
// atomically (unique temp file, fsync, rename) and never replace an input of the process
// or a non-regular file.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "omnicoder/status.h"

namespace omnicoder {

// Why `path` cannot be an output (before doing any work): an input of this process
// (same device and inode, whatever the spelling), a device/FIFO/folder, a missing or
// read-only folder.
Status CheckOutputFile(const std::string& path);

// A whole regular file of at most max_bytes, registered as an input of this process.
Result<std::string> ReadInputFile(const std::string& path, uint64_t max_bytes);

// An output written atomically: nothing appears under `path` until Commit succeeds; on
// any error (or destruction without Commit) the previous file is untouched.
class OutputFile {
 public:
  static Result<std::unique_ptr<OutputFile>> Create(const std::string& path);
  ~OutputFile();
  Status Write(const void* data, size_t n);
  Status Write(std::string_view s) { return Write(s.data(), s.size()); }
  Status Commit();

  struct Impl;

 private:
  explicit OutputFile(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Removes the temp files of outputs not yet committed. Async-signal-safe: call it from a
// SIGINT/SIGTERM handler before the process dies.
void RemovePendingOutputFiles();

// Threads a command may use: 4 x the cores available to this process (more only adds
// scheduling overhead; see ClampThreads).
int MaxUsefulThreads();

}  // namespace omnicoder
