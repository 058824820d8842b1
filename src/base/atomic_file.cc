// AtomicFile, the input registry and the pending temp-file list.
#include "base/atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <vector>

namespace omnicoder {

namespace {

constexpr size_t kBufferBytes = 1 << 20;

struct Identity {
  dev_t dev;
  ino_t ino;
  int count;
};

std::mutex& InputsMutex() {
  static std::mutex mu;
  return mu;
}
std::vector<Identity>& Inputs() {
  static std::vector<Identity> v;
  return v;
}

// Temp files not yet committed, as fixed slots a signal handler can read without locks.
constexpr int kPendingSlots = 64;
struct PendingSlot {
  std::atomic<bool> used{false};
  char path[PATH_MAX];
};
PendingSlot g_pending[kPendingSlots];

int ClaimPending(const std::string& path) {
  if (path.size() >= PATH_MAX) return -1;
  for (int i = 0; i < kPendingSlots; ++i) {
    bool expected = false;
    if (g_pending[i].used.load() || !g_pending[i].used.compare_exchange_strong(expected, true)) continue;
    std::memcpy(g_pending[i].path, path.c_str(), path.size() + 1);
    return i;
  }
  return -1;
}

void ReleasePending(int slot) {
  if (slot >= 0) g_pending[slot].used.store(false);
}

std::string Folder(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string Errno() {
  return std::strerror(errno);
}

// The file a write to `path` should replace: symlinks are followed so the link stays.
std::string ResolveTarget(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
    char buf[PATH_MAX];
    if (realpath(path.c_str(), buf)) return buf;
  }
  return path;
}

}  // namespace

namespace {

void Register(const struct stat& st) {
  std::lock_guard<std::mutex> lock(InputsMutex());
  for (Identity& id : Inputs()) {
    if (id.dev == st.st_dev && id.ino == st.st_ino) {
      ++id.count;
      return;
    }
  }
  Inputs().push_back({st.st_dev, st.st_ino, 1});
}

}  // namespace

void RegisterInputFd(int fd) {
  struct stat st;
  if (fstat(fd, &st) == 0) Register(st);
}

void RegisterInputFile(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) == 0) Register(st);
}

void UnregisterInput(uint64_t dev, uint64_t ino) {
  std::lock_guard<std::mutex> lock(InputsMutex());
  std::vector<Identity>& v = Inputs();
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i].dev == dev && v[i].ino == ino && --v[i].count == 0) {
      v.erase(v.begin() + static_cast<std::ptrdiff_t>(i));
      return;
    }
  }
}

bool IsRegisteredInput(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return false;
  std::lock_guard<std::mutex> lock(InputsMutex());
  for (const Identity& id : Inputs()) {
    if (id.dev == st.st_dev && id.ino == st.st_ino) return true;
  }
  return false;
}

Status CheckOutputPath(const std::string& path) {
  if (path.empty()) return InvalidArgument("output path is empty");
  struct stat st;
  if (stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return InvalidArgument("output '" + path + "' is a folder, not a file");
    if (!S_ISREG(st.st_mode)) {
      return InvalidArgument("output '" + path +
                             "' exists and is not a regular file (a device, FIFO or socket); "
                             "refusing to replace it");
    }
    if (IsRegisteredInput(path)) {
      return InvalidArgument("output '" + path +
                             "' is the same file as an input of this command; "
                             "refusing to overwrite it");
    }
  } else if (errno != ENOENT) {
    return IoError("cannot check output '" + path + "': " + Errno());
  }
  const std::string dir = Folder(ResolveTarget(path));
  if (stat(dir.c_str(), &st) != 0) return IoError("output folder '" + dir + "' does not exist: " + Errno());
  if (!S_ISDIR(st.st_mode)) return InvalidArgument("'" + dir + "' is not a folder");
  if (access(dir.c_str(), W_OK | X_OK) != 0) return IoError("cannot write in '" + dir + "': " + Errno());
  return Status::Ok();
}

void RemovePendingTempFiles() {
  for (PendingSlot& s : g_pending) {
    if (s.used.load()) unlink(s.path);
  }
}

Result<std::unique_ptr<AtomicFile>> AtomicFile::Create(const std::string& path) {
  OC_RETURN_IF_ERROR(CheckOutputPath(path));
  std::unique_ptr<AtomicFile> f(new AtomicFile());
  f->path_ = ResolveTarget(path);
  const std::string dir = Folder(f->path_);
  const size_t slash = f->path_.rfind('/');
  const std::string base = slash == std::string::npos ? f->path_ : f->path_.substr(slash + 1);
  std::string tmpl = dir + "/." + base + ".tmp.XXXXXX";
  f->fd_ = mkostemp(tmpl.data(), O_CLOEXEC);
  if (f->fd_ < 0) return IoError("cannot create a temp file in '" + dir + "': " + Errno());
  f->temp_ = tmpl;
  f->pending_slot_ = ClaimPending(f->temp_);
  struct stat st;
  if (stat(f->path_.c_str(), &st) == 0) {
    f->mode_ = st.st_mode & 07777;  // replacing: keep the old file's permissions
  } else {
    const mode_t mask = umask(0);
    umask(mask);
    f->mode_ = 0666 & ~mask;
  }
  f->buf_.reset(new uint8_t[kBufferBytes]);
  return f;
}

AtomicFile::~AtomicFile() {
  Discard();
}

void AtomicFile::Discard() {
  if (fd_ >= 0) {
    close(fd_);
    fd_ = -1;
  }
  if (!temp_.empty()) {
    unlink(temp_.c_str());
    temp_.clear();
  }
  ReleasePending(pending_slot_);
  pending_slot_ = -1;
}

Status AtomicFile::Flush() {
  size_t done = 0;
  while (done < buf_len_) {
    const ssize_t w = write(fd_, buf_.get() + done, buf_len_ - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      error_ = IoError("writing '" + path_ + "': " + (w < 0 ? Errno() : std::string("no progress")));
      return error_;
    }
    done += static_cast<size_t>(w);
  }
  buf_len_ = 0;
  return Status::Ok();
}

Status AtomicFile::Write(const void* data, size_t n) {
  if (!error_.ok()) return error_;
  if (fd_ < 0) return IoError("write to '" + path_ + "' after it was committed or discarded");
  const uint8_t* p = static_cast<const uint8_t*>(data);
  while (n > 0) {
    const size_t take = n < kBufferBytes - buf_len_ ? n : kBufferBytes - buf_len_;
    std::memcpy(buf_.get() + buf_len_, p, take);
    buf_len_ += take, p += take, n -= take;
    if (buf_len_ == kBufferBytes) OC_RETURN_IF_ERROR(Flush());
  }
  return Status::Ok();
}

Status AtomicFile::Commit() {
  if (!error_.ok()) {
    Discard();
    return error_;
  }
  if (fd_ < 0) return IoError("'" + path_ + "' was already committed or discarded");
  Status s = Flush();
  if (s.ok() && fchmod(fd_, mode_) != 0) s = IoError("setting permissions of '" + temp_ + "': " + Errno());
  if (s.ok() && fsync(fd_) != 0) s = IoError("flushing '" + path_ + "' to disk: " + Errno());
  if (s.ok()) {
    const int rc = close(fd_);
    fd_ = -1;
    if (rc != 0) s = IoError("closing '" + path_ + "': " + Errno());
  }
  // Re-check right before replacing: the target may have become an input or a device.
  if (s.ok()) s = CheckOutputPath(path_);
  if (s.ok() && rename(temp_.c_str(), path_.c_str()) != 0) {
    s = IoError("renaming '" + temp_ + "' to '" + path_ + "': " + Errno());
  }
  if (!s.ok()) {
    Discard();
    return s;
  }
  temp_.clear();
  ReleasePending(pending_slot_);
  pending_slot_ = -1;
  const int dfd = open(Folder(path_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    fsync(dfd);  // best effort: the rename is durable once the folder is
    close(dfd);
  }
  return Status::Ok();
}

Status WriteFileAtomically(const std::string& path, std::string_view data) {
  OC_ASSIGN_OR_RETURN(std::unique_ptr<AtomicFile> f, AtomicFile::Create(path));
  OC_RETURN_IF_ERROR(f->Write(data));
  return f->Commit();
}

Result<std::string> ReadRegularFile(const std::string& path, uint64_t max_bytes, bool protect) {
  const int fd = open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return NotFound("cannot open '" + path + "': no such file");
    return IoError("cannot open '" + path + "': " + Errno());
  }
  struct stat st;
  std::string data;
  Status s;
  if (fstat(fd, &st) != 0) {
    s = IoError("cannot stat '" + path + "': " + Errno());
  } else if (S_ISDIR(st.st_mode)) {
    s = InvalidArgument("'" + path + "' is a folder, not a file");
  } else if (!S_ISREG(st.st_mode)) {
    s = InvalidArgument("'" + path + "' is not a regular file (a device, FIFO or socket)");
  } else if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    s = InvalidArgument("'" + path + "' is larger than the limit of " + std::to_string(max_bytes) + " bytes");
  } else {
    if (protect) Register(st);
    data.resize(static_cast<size_t>(st.st_size));
    size_t done = 0;
    while (s.ok() && done < data.size()) {
      const ssize_t r = read(fd, data.data() + done, data.size() - done);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) s = IoError("reading '" + path + "': " + Errno());
      if (r == 0) data.resize(done);  // the file shrank while it was read
      done += r > 0 ? static_cast<size_t>(r) : 0;
      if (r == 0) break;
    }
  }
  close(fd);
  if (!s.ok()) return s;
  return data;
}

}  // namespace omnicoder
