// Direct-I/O read bandwidth of a file: T threads read disjoint 1 MiB-aligned chunks with
// O_DIRECT (no page cache), as the expert pager does; prints one JSON line.
//   build/bin/diobw FILE [threads=4] [chunk_mib=2] [max_gib=2]
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s FILE [threads] [chunk_mib] [max_gib]\n", argv[0]);
    return 2;
  }
  const int threads = argc > 2 ? std::atoi(argv[2]) : 4;
  const size_t chunk = static_cast<size_t>(argc > 3 ? std::atoi(argv[3]) : 2) << 20;
  const double max_gib = argc > 4 ? std::atof(argv[4]) : 2.0;
  const int fd = open(argv[1], O_RDONLY | O_DIRECT);
  struct stat st {};
  if (fd < 0 || fstat(fd, &st) != 0) {
    std::perror("open");
    return 1;
  }
  size_t size = static_cast<size_t>(st.st_size) / chunk * chunk;
  size = std::min(size, static_cast<size_t>(max_gib * (1ull << 30)) / chunk * chunk);
  std::atomic<size_t> next{0}, total{0};
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      void* buf = nullptr;
      if (posix_memalign(&buf, 4096, chunk) != 0) return;
      for (size_t off; (off = next.fetch_add(chunk)) < size;) {
        const ssize_t n = pread(fd, buf, chunk, static_cast<off_t>(off));
        if (n > 0) total += static_cast<size_t>(n);
      }
      std::free(buf);
    });
  }
  for (std::thread& t : pool) t.join();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("{\"threads\": %d, \"chunk_mib\": %zu, \"bytes\": %zu, \"gbs\": %.3f}\n", threads, chunk >> 20,
              total.load(), total.load() / s / 1e9);
  close(fd);
  return 0;
}
