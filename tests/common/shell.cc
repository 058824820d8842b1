#include "tests/common/shell.h"

#include <sys/wait.h>

#include <array>
#include <cstdio>

namespace omnicoder::testing {

ShellOutput RunShell(const std::string& cmd) {
  ShellOutput o;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return o;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) o.out.append(buf.data(), n);
  const int st = pclose(p);
  o.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return o;
}

}  // namespace omnicoder::testing
