// HugeBuffer: a large anonymous mapping backed by transparent huge pages when possible
// (MADV_HUGEPAGE), for weights copied out of the page cache: 2 MiB pages keep TLB misses
// and prefetcher stops at 4 KiB boundaries out of the streaming matmuls.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "base/status.h"

namespace omnicoder {

class HugeBuffer {
 public:
  HugeBuffer() = default;
  ~HugeBuffer();
  HugeBuffer(const HugeBuffer&) = delete;
  HugeBuffer& operator=(const HugeBuffer&) = delete;
  Status Allocate(size_t bytes);
  uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
  size_t mapped_ = 0;
};

// Reads [offset, offset + size) of a file into dst with pread, in chunks, dropping the
// page-cache copy of each chunk afterwards (so the file is not held twice in memory).
// progress(bytes_done) is called after each chunk when set.
Status ReadFileRange(const std::string& path, uint64_t offset, size_t size, uint8_t* dst,
                     void (*progress)(void*, size_t), void* progress_ctx);
// Asks the kernel to drop the file's clean cached pages (readahead beyond the ranges read
// included); pages still mapped by this process stay.
void DropFileCache(const std::string& path);

}  // namespace omnicoder
