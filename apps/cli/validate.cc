// CLI input checks, stdout errors and signal handling.
#include "apps/cli/validate.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>

#include "omnicoder/files.h"

namespace omnicoder::cli {

namespace {

std::atomic<bool> g_interrupted{false};

void OnTerminate(int sig) {
  RemovePendingOutputFiles();
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

void OnGraceful(int sig) {
  if (g_interrupted.exchange(true)) OnTerminate(sig);  // second signal: stop now
}

}  // namespace

bool CheckThreads(int* threads, const char* flag) {
  if (*threads < 0) {
    std::fprintf(stderr, "omnicoder: %s must be >= 0 (0 = one per core), got %d\n", flag, *threads);
    return false;
  }
  const int max = MaxUsefulThreads();
  if (*threads > max) {
    std::fprintf(stderr, "omnicoder: %s %d is more than 4 threads per available core; using %d\n", flag, *threads, max);
    *threads = max;
  }
  return true;
}

bool ParseUint(const std::string& text, uint64_t lo, uint64_t hi, uint64_t* out) {
  if (text.empty() || text.size() > 20) return false;
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  if (v < lo || v > hi) return false;
  *out = v;
  return true;
}

bool ParseSeed(const std::string& text, int64_t* seed_or_minus_one, uint64_t* seed) {
  if (text == "-1") {
    *seed_or_minus_one = -1;
    return true;
  }
  if (!ParseUint(text, 0, UINT64_MAX, seed)) {
    std::fprintf(stderr,
                 "omnicoder: -s/--seed must be -1 (random) or an integer in [0, 18446744073709551615], "
                 "got '%s'\n",
                 text.c_str());
    return false;
  }
  *seed_or_minus_one = 0;
  return true;
}

bool ParseTokenIds(const std::string& text, std::vector<int32_t>* out, std::string* error) {
  out->clear();
  size_t i = 0;
  const size_t n = text.size();
  auto space = [](char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; };
  while (i < n) {
    while (i < n && space(text[i])) ++i;
    if (i == n) break;
    size_t j = i;
    while (j < n && text[j] != ',' && !space(text[j])) ++j;
    uint64_t v = 0;
    if (!ParseUint(text.substr(i, j - i), 0, INT32_MAX, &v)) {
      *error = "'" + text.substr(i, j - i).substr(0, 24) + "' is not a token id (a decimal number in [0, 2147483647])";
      return false;
    }
    out->push_back(static_cast<int32_t>(v));
    while (j < n && space(text[j])) ++j;
    if (j < n && text[j] == ',') {
      ++j;
      size_t k = j;
      while (k < n && space(text[k])) ++k;
      if (k == n || text[k] == ',') {
        *error = "a comma is not followed by a token id";
        return false;
      }
    }
    i = j;
  }
  if (out->empty()) {
    *error = "no token ids given";
    return false;
  }
  return true;
}

bool ReadTextInput(const std::string& path, const char* what, std::string* out) {
  Result<std::string> r = ReadInputFile(path, 64ull << 20);
  if (!r.ok()) {
    std::fprintf(stderr, "omnicoder: cannot read %s: %s\n", what, r.status().message().c_str());
    return false;
  }
  *out = std::move(r).value();
  return true;
}

int FinishStdout(int rc) {
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
    const int err = errno;
    std::fprintf(stderr, "omnicoder: writing to standard output failed: %s\n", err ? std::strerror(err) : "I/O error");
    return rc == 0 ? 1 : rc;
  }
  return rc;
}

void InstallSignalHandlers(bool graceful) {
  std::signal(SIGINT, graceful ? OnGraceful : OnTerminate);
  std::signal(SIGTERM, graceful ? OnGraceful : OnTerminate);
}

bool Interrupted() {
  return g_interrupted.load();
}

}  // namespace omnicoder::cli
