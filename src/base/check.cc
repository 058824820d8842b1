// Invariant failure: report and abort (the only place library code may stop the process).
#include "base/check.h"

#include <cstdio>
#include <cstdlib>

namespace omnicoder {

void CheckFailed(const char* file, int line, const char* expr, const char* msg) {
  std::fprintf(stderr, "omnicoder: internal check failed at %s:%d: %s%s%s\n", file, line, expr, msg ? " — " : "",
               msg ? msg : "");
  std::abort();
}

}  // namespace omnicoder
