// OC_CHECK / OC_DCHECK: abort on broken invariants (never on bad input; that is Status).
// Every use says in a comment why no model file, flag or API call can reach it.
#pragma once

namespace omnicoder {
[[noreturn]] void CheckFailed(const char* file, int line, const char* expr, const char* msg);
}  // namespace omnicoder

#define OC_CHECK(cond)                                                                              \
  do {                                                                                              \
    if (__builtin_expect(!(cond), 0)) ::omnicoder::CheckFailed(__FILE__, __LINE__, #cond, nullptr); \
  } while (0)

#define OC_CHECK_MSG(cond, msg)                                                                 \
  do {                                                                                          \
    if (__builtin_expect(!(cond), 0)) ::omnicoder::CheckFailed(__FILE__, __LINE__, #cond, msg); \
  } while (0)

#if !defined(NDEBUG) || defined(OC_ENABLE_DCHECK)
#define OC_DCHECK(cond) OC_CHECK(cond)
#else
#define OC_DCHECK(cond) \
  do {                  \
  } while (0)
#endif
