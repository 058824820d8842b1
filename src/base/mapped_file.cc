// mmap-backed MappedFile.
#include "base/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/atomic_file.h"

namespace omnicoder {

namespace {
const uint8_t kEmpty[1] = {0};
}

MappedFile::~MappedFile() {
  if (owns_mapping_ && size_ > 0) munmap(const_cast<uint8_t*>(data_), size_);
  if (registered_) UnregisterInput(dev_, ino_);
}

Result<std::unique_ptr<MappedFile>> MappedFile::Open(const std::string& path, bool protect) {
  // O_NONBLOCK: opening a FIFO must not block waiting for a writer (it is refused below).
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) return NotFound("cannot open '" + path + "': no such file");
    return IoError("cannot open '" + path + "': " + std::strerror(err));
  }
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return IoError("cannot stat '" + path + "': " + std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return InvalidArgument("'" + path + "' is not a regular file");
  }
  std::unique_ptr<MappedFile> file(new MappedFile());
  if (protect) {  // no output of this process may replace a file it maps
    RegisterInputFd(fd);
    file->registered_ = true;
    file->dev_ = st.st_dev;
    file->ino_ = st.st_ino;
  }
  file->path_ = path;
  file->size_ = static_cast<size_t>(st.st_size);
  if (file->size_ == 0) {
    file->data_ = kEmpty;
    ::close(fd);
    return file;
  }
  void* p = mmap(nullptr, file->size_, PROT_READ, MAP_SHARED, fd, 0);
  int err = errno;
  ::close(fd);
  if (p == MAP_FAILED) return IoError("cannot map '" + path + "': " + std::strerror(err));
  file->data_ = static_cast<const uint8_t*>(p);
  file->owns_mapping_ = true;
  return file;
}

std::unique_ptr<MappedFile> MappedFile::FromBuffer(const void* data, size_t size, std::string name) {
  std::unique_ptr<MappedFile> file(new MappedFile());
  file->data_ = size ? static_cast<const uint8_t*>(data) : kEmpty;
  file->size_ = size;
  file->path_ = std::move(name);
  return file;
}

void MappedFile::AdviseWillNeed(size_t offset, size_t size) const {
  if (!owns_mapping_ || offset >= size_) return;
  long page = sysconf(_SC_PAGESIZE);
  size_t begin = offset / page * page;
  size_t end = offset + size < size_ ? offset + size : size_;
  madvise(const_cast<uint8_t*>(data_) + begin, end - begin, MADV_WILLNEED);
}

}  // namespace omnicoder
