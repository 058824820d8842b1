// HugeBuffer and chunked file reads.
#include "base/huge_buffer.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/strings.h"

namespace omnicoder {

namespace {
constexpr size_t kHugePage = size_t{2} << 20;
constexpr size_t kReadChunk = size_t{64} << 20;
}  // namespace

HugeBuffer::~HugeBuffer() {
  if (data_) munmap(data_, mapped_);
}

Status HugeBuffer::Allocate(size_t bytes) {
  if (data_) munmap(data_, mapped_);
  data_ = nullptr;
  size_ = mapped_ = 0;
  const size_t rounded = (bytes + kHugePage - 1) / kHugePage * kHugePage;
  if (rounded == 0) return Status::Ok();
  void* p = mmap(nullptr, rounded, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return OutOfMemory("cannot map " + HumanBytes(bytes) + ": " + std::strerror(errno));
  madvise(p, rounded, MADV_HUGEPAGE);  // best effort
  data_ = static_cast<uint8_t*>(p);
  size_ = bytes;
  mapped_ = rounded;
  return Status::Ok();
}

Status ReadFileRange(const std::string& path, uint64_t offset, size_t size, uint8_t* dst,
                     void (*progress)(void*, size_t), void* progress_ctx) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return IoError("cannot open '" + path + "': " + std::strerror(errno));
  // No readahead: it would cache file pages beyond this range that nobody drops.
  posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM);
  size_t done = 0;
  while (done < size) {
    const size_t want = size - done < kReadChunk ? size - done : kReadChunk;
    size_t got = 0;
    while (got < want) {
      const ssize_t n = pread(fd, dst + done + got, want - got, static_cast<off_t>(offset + done + got));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        const int err = n < 0 ? errno : 0;
        ::close(fd);
        return IoError(StrFormat("reading '%s' at offset %llu: %s", path.c_str(),
                                 static_cast<unsigned long long>(offset) + done + got,
                                 err ? std::strerror(err) : "unexpected end of file"));
      }
      got += static_cast<size_t>(n);
    }
    posix_fadvise(fd, static_cast<off_t>(offset + done), static_cast<off_t>(want), POSIX_FADV_DONTNEED);
    done += want;
    if (progress) progress(progress_ctx, done);
  }
  ::close(fd);
  return Status::Ok();
}

void DropFileCache(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  ::close(fd);
}

}  // namespace omnicoder
