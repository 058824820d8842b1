// Running a shell command from a test and capturing what it prints.
#pragma once

#include <string>

namespace omnicoder::testing {

struct ShellOutput {
  int code = -1;    // exit status (-1: killed by a signal or not started)
  std::string out;  // stdout (append 2>&1 to the command for stderr too)
};

ShellOutput RunShell(const std::string& cmd);

}  // namespace omnicoder::testing
