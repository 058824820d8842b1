// Small non-cryptographic hashes used for deterministic seeding (weights, data order, FIM
// splits): changing either changes every trained and generated model, so they are fixed.
#pragma once

#include <cstdint>
#include <string_view>

namespace omnicoder {

// splitmix64's finalizer: a well-mixed 64-bit value from a counter or seed.
inline uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// FNV-1a's step and prime with offset basis 1469598103934665603 (not FNV's standard
// 14695981039346656037: a digit short, as first written). Kept as is: it seeds the
// weights of the trained and generated models, which must stay reproducible.
inline uint64_t NameHash64(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

}  // namespace omnicoder
