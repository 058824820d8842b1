// `omnicoder chat` driven through a pipe: replies stream, Ctrl-C (SIGINT) stops a reply
// and the program keeps going, /clear and /exit work, EOF quits cleanly.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "tests/common/shell.h"

namespace omnicoder::testing {
namespace {

const std::string kBin = std::string(OC_BIN_DIR) + "/omnicoder";
const std::string kNano = std::string(OC_SOURCE_DIR) + "/models/omnicoder-nano.gguf";

std::string Slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

size_t Count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

TEST(ChatCli, PipedConversationWithClearAndExit) {
  ShellOutput o = RunShell("printf 'import os\\n/clear\\ndef f():\\n/exit\\n' | " + kBin + " chat -m " + kNano +
                           " -n 12 --temp 0 -t 1 2>&1");
  EXPECT_EQ(o.code, 0) << o.out;
  EXPECT_EQ(Count(o.out, "> "), 4u) << o.out;  // three prompts answered, the fourth read /exit
  EXPECT_NE(o.out.find("(a new conversation)"), std::string::npos) << o.out;
  o = RunShell("printf 'import os\\n' | " + kBin + " chat -m " + kNano + " -n 4 --temp 0 -t 1 2>&1");
  EXPECT_EQ(o.code, 0) << "EOF ends the chat: " << o.out;
  o = RunShell(kBin + " chat -m " + kNano + " --temp nan < /dev/null 2>&1");
  EXPECT_EQ(o.code, 2) << o.out;
}

TEST(ChatCli, CtrlCStopsTheReplyNotTheProgram) {
  ASSERT_EQ(RunShell("mkdir -p " + std::string(OC_WORK_DIR)).code, 0);
  const std::string out = std::string(OC_WORK_DIR) + "/chat-ctrl-c.txt";
  std::remove(out.c_str());  // a previous run's file would look like this run's output
  int in[2];
  ASSERT_EQ(pipe(in), 0);
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(in[0], STDIN_FILENO);
    close(in[1]);
    FILE* f = std::fopen(out.c_str(), "w");
    if (!f) _exit(126);
    dup2(fileno(f), STDOUT_FILENO);
    dup2(fileno(f), STDERR_FILENO);
    // The reference kernels keep a 400-token reply going long enough to interrupt it.
    execl(kBin.c_str(), kBin.c_str(), "chat", "-m", kNano.c_str(), "--isa", "ref", "-t", "1", "-n", "400", "--temp",
          "0", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(in[0]);
  auto say = [&](const std::string& s) { ASSERT_EQ(write(in[1], s.data(), s.size()), static_cast<ssize_t>(s.size())); };
  auto wait_for = [&](auto pred, double seconds) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < until) {
      if (pred(Slurp(out))) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  };
  say("Write a long Python module.\n");
  ASSERT_TRUE(wait_for(
      [](const std::string& s) { return s.find("> ") != std::string::npos && s.size() > s.find("> ") + 40; }, 60))
      << Slurp(out);
  kill(pid, SIGINT);
  ASSERT_TRUE(wait_for([](const std::string& s) { return s.find("[stopped]") != std::string::npos; }, 20))
      << Slurp(out);
  int status = 0;
  EXPECT_EQ(waitpid(pid, &status, WNOHANG), 0) << "SIGINT ended the program";
  say("import os\n");  // the next turn works
  ASSERT_TRUE(wait_for([](const std::string& s) { return Count(s, "> ") >= 3; }, 120)) << Slurp(out);
  kill(pid, SIGINT);  // at the prompt: a fresh prompt, not an exit
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(waitpid(pid, &status, WNOHANG), 0);
  say("/exit\n");
  close(in[1]);
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << Slurp(out);
}

}  // namespace
}  // namespace omnicoder::testing
