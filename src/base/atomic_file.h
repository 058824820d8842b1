// AtomicFile: the one way OmniCoder writes a file.
//
// Design goals: a reader never sees a partial file and a failed or interrupted write
// leaves the previous file untouched. Bytes go to a unique temp file (mkstemp) in the
// target's folder; Commit flushes, fsyncs and renames it over the target, then fsyncs
// the folder. An uncommitted AtomicFile removes its temp file; RemovePendingTempFiles
// does the same from a signal handler. Outputs are refused when they are not regular
// files (devices, FIFOs, folders) or when they are the same file (device + inode) as an
// input this process registered (models, prompts, traces: see RegisterInputFile).
// Non-goals: locking against other processes writing the same target.
//
// Thread safety: the input registry and the pending-temp list are safe to use from any
// thread; one AtomicFile is used by one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"

namespace omnicoder {

// Remembers the file at `path` (resolved by identity, not by name) as an input, so no
// output of this process may replace it. Missing files are ignored. Registrations are
// counted; UnregisterInput* drops one (a mapping unregisters when it is unmapped, so a
// deleted file's reused inode number is not mistaken for it).
void RegisterInputFile(const std::string& path);
void RegisterInputFd(int fd);
void UnregisterInput(uint64_t dev, uint64_t ino);
// True when `path` names (by device and inode) a registered input.
bool IsRegisteredInput(const std::string& path);

// Why `path` cannot be an output ("" if it can): an input of this process, not a regular
// file, a missing or non-writable folder. Commands call it before long work.
Status CheckOutputPath(const std::string& path);

// Unlinks every temp file not yet committed; async-signal-safe (for SIGINT/SIGTERM).
void RemovePendingTempFiles();

class AtomicFile {
 public:
  static Result<std::unique_ptr<AtomicFile>> Create(const std::string& path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  // Buffered; the first error sticks and is returned by every later call.
  Status Write(const void* data, size_t n);
  Status Write(std::string_view s) { return Write(s.data(), s.size()); }
  // Flush, fsync, rename over the target, fsync the folder. After an error the target is
  // unchanged and the temp file is gone.
  Status Commit();
  const std::string& path() const { return path_; }
  const std::string& temp_path() const { return temp_; }

 private:
  AtomicFile() = default;
  Status Flush();
  void Discard();
  std::string path_, temp_;
  int fd_ = -1;
  int pending_slot_ = -1;
  Status error_;
  std::unique_ptr<uint8_t[]> buf_;
  size_t buf_len_ = 0;
  unsigned mode_ = 0644;
};

// Writes `data` to `path` atomically.
Status WriteFileAtomically(const std::string& path, std::string_view data);

// Reads a whole regular file of at most max_bytes: FIFOs, devices and folders are
// refused without blocking (O_NONBLOCK), so an endless or hanging input is an error.
// protect: register it as an input no output of this process may replace.
Result<std::string> ReadRegularFile(const std::string& path, uint64_t max_bytes, bool protect = true);

}  // namespace omnicoder
