// Public file helpers over base/atomic_file.
#include "omnicoder/files.h"

#include <sched.h>

#include <thread>

#include "base/atomic_file.h"

namespace omnicoder {

Status CheckOutputFile(const std::string& path) {
  return CheckOutputPath(path);
}

Result<std::string> ReadInputFile(const std::string& path, uint64_t max_bytes) {
  return ReadRegularFile(path, max_bytes, /*protect=*/true);
}

struct OutputFile::Impl {
  std::unique_ptr<AtomicFile> file;
};

OutputFile::OutputFile(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
OutputFile::~OutputFile() = default;

Result<std::unique_ptr<OutputFile>> OutputFile::Create(const std::string& path) {
  auto impl = std::make_unique<Impl>();
  OC_ASSIGN_OR_RETURN(impl->file, AtomicFile::Create(path));
  return std::unique_ptr<OutputFile>(new OutputFile(std::move(impl)));
}

Status OutputFile::Write(const void* data, size_t n) {
  return impl_->file->Write(data, n);
}
Status OutputFile::Commit() {
  return impl_->file->Commit();
}

void RemovePendingOutputFiles() {
  RemovePendingTempFiles();
}

int MaxUsefulThreads() {
  cpu_set_t set;
  int cores = 0;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) cores = CPU_COUNT(&set);
  if (cores <= 0) cores = static_cast<int>(std::thread::hardware_concurrency());
  return 4 * (cores > 0 ? cores : 1);
}

}  // namespace omnicoder
