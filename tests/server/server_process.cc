#include "tests/server/server_process.h"

#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

namespace omnicoder::testing {

ServerProcess::ServerProcess(const std::vector<std::string>& args, const std::vector<std::string>& env) {
  static int counter = 0;
  log_path_ =
      std::string(OC_WORK_DIR) + "/server-" + std::to_string(getpid()) + "-" + std::to_string(counter++) + ".log";
  std::system(("mkdir -p " + std::string(OC_WORK_DIR)).c_str());
  std::vector<std::string> argv_s = {std::string(OC_BIN_DIR) + "/omnicoder", "serve"};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  pid_ = fork();
  if (pid_ == 0) {
    FILE* f = std::fopen(log_path_.c_str(), "w");
    if (f) {
      dup2(fileno(f), STDERR_FILENO);
      dup2(fileno(f), STDOUT_FILENO);
    }
    for (const std::string& e : env) putenv(const_cast<char*>(e.c_str()));
    std::vector<char*> argv;
    for (std::string& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  // "listening on http://HOST:PORT" (no std::regex: GCC 12 warns inside it at -O1).
  auto find_port = [](const std::string& text) {
    const std::string key = "listening on http://";
    const size_t at = text.find(key);
    if (at == std::string::npos) return 0;
    const size_t colon = text.find(':', at + key.size());
    if (colon == std::string::npos) return 0;
    int port = 0;
    for (size_t i = colon + 1; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i) {
      port = port * 10 + (text[i] - '0');
    }
    return port;
  };
  for (int i = 0; i < 600; ++i) {  // up to 60 s
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    if (port_ == 0) port_ = find_port(log());
    if (port_ > 0) {
      httplib::Client c("127.0.0.1", port_);
      auto r = c.Get("/health");
      if (r && r->status == 200) return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  port_ = 0;
}

ServerProcess::~ServerProcess() {
  Stop();
}

std::string ServerProcess::log() const {
  std::ifstream f(log_path_);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

int ServerProcess::Stop() {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  int status = 0;
  for (int i = 0; i < 200; ++i) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return -1;
}

long long ServerProcess::ResidentBytes() const {
  std::ifstream f("/proc/" + std::to_string(pid_) + "/statm");
  long long total = 0, resident = 0;
  if (!(f >> total >> resident)) return 0;
  return resident * sysconf(_SC_PAGESIZE);
}

}  // namespace omnicoder::testing
