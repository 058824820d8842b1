// Starts `omnicoder serve --port 0 ...` as a child process for a test, learns its port
// from what it prints, and stops it with SIGTERM (checking that it exits cleanly).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace omnicoder::testing {

class ServerProcess {
 public:
  // args follow "serve"; the model and --port 0 are the caller's. Waits until /health
  // answers 200 (or the process dies: ok() is then false and log() says why).
  explicit ServerProcess(const std::vector<std::string>& args, const std::vector<std::string>& env = {});
  ~ServerProcess();
  bool ok() const { return port_ > 0; }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  std::string log() const;  // what the server printed so far
  // SIGTERM, then the exit status (-1 if it had to be killed after 20 s).
  int Stop();
  // Resident set size of the server from /proc (0 if unknown).
  long long ResidentBytes() const;

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  std::string log_path_;
};

}  // namespace omnicoder::testing
