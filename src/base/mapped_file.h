// MappedFile: read-only view of a whole file (mmap) or of a caller's memory buffer.
//
// Thread safety: immutable after Open; data() may be read from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "base/status.h"

namespace omnicoder {

class MappedFile {
 public:
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  // Maps `path` read-only. An empty file maps to size 0 with a non-null data().
  // protect: register it as an input no output of this process may replace (false only
  // for files the caller means to replace, such as a checkpoint being resumed).
  static Result<std::unique_ptr<MappedFile>> Open(const std::string& path, bool protect = true);
  // Wraps memory owned by the caller, who keeps it alive longer than this object.
  static std::unique_ptr<MappedFile> FromBuffer(const void* data, size_t size, std::string name);

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

  // Hints the kernel that [offset, offset+size) will be read soon / sequentially.
  void AdviseWillNeed(size_t offset, size_t size) const;

 private:
  MappedFile() = default;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  bool owns_mapping_ = false;
  bool registered_ = false;  // an input no output may replace, until unmapped
  uint64_t dev_ = 0, ino_ = 0;
  std::string path_;
};

}  // namespace omnicoder
