// Text <-> enum for the option types of omnicoder/types.h (used at the edges only).
#include <string>

#include "omnicoder/types.h"

namespace omnicoder {

namespace {

template <typename E, size_t N>
Result<E> ParseName(std::string_view text, const char* what, const char* const (&names)[N]) {
  for (size_t i = 0; i < N; ++i) {
    if (text == names[i]) return static_cast<E>(i);
  }
  std::string list;
  for (size_t i = 0; i < N; ++i) list += std::string(i ? ", " : "") + names[i];
  return InvalidArgument("unknown " + std::string(what) + " '" + std::string(text) + "' (one of: " + list + ")");
}

template <typename E, size_t N>
const char* NameOf(E value, const char* const (&names)[N]) {
  size_t i = static_cast<size_t>(value);
  return i < N ? names[i] : "?";
}

// Indexed by the enum's value.
constexpr const char* kIsaNames[] = {"auto", "ref", "avx2", "avx512", "neon", "amx"};
constexpr const char* kPolicyNames[] = {"lfu", "lru2", "lru", "min"};
constexpr const char* kKvNames[] = {"f16", "f32"};

}  // namespace

Result<Isa> ParseIsa(std::string_view text) {
  return ParseName<Isa>(text, "ISA", kIsaNames);
}
const char* IsaName(Isa isa) {
  return NameOf(isa, kIsaNames);
}
Result<PagerPolicy> ParsePagerPolicy(std::string_view text) {
  return ParseName<PagerPolicy>(text, "pager policy", kPolicyNames);
}
const char* PagerPolicyName(PagerPolicy policy) {
  return NameOf(policy, kPolicyNames);
}
Result<KvType> ParseKvType(std::string_view text) {
  return ParseName<KvType>(text, "KV cache type", kKvNames);
}
const char* KvTypeName(KvType type) {
  return NameOf(type, kKvNames);
}

}  // namespace omnicoder
