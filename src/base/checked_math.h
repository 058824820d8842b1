// Overflow-checked size arithmetic for parsers (every product of untrusted sizes goes here).
#pragma once

#include <cstdint>

namespace omnicoder {

// Returns false on overflow; *out is then unspecified.
inline bool CheckedMul(uint64_t a, uint64_t b, uint64_t* out) {
  return !__builtin_mul_overflow(a, b, out);
}
inline bool CheckedAdd(uint64_t a, uint64_t b, uint64_t* out) {
  return !__builtin_add_overflow(a, b, out);
}

}  // namespace omnicoder
