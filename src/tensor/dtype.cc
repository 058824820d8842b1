// The DType traits table.
#include "tensor/dtype.h"

#include <cctype>

#include "base/check.h"
#include "tensor/blocks.h"
#include "tensor/quant.h"

namespace omnicoder {

namespace {

#define OC_ROW(T, NAME, BS, BYTES, QUANT) \
  { DType::k##T, NAME, BS, BYTES, QUANT, &Dequantize##T, &Quantize##T }

const DTypeTraits kTraits[] = {
    OC_ROW(F32, "F32", 1, 4, false),
    OC_ROW(F16, "F16", 1, 2, false),
    OC_ROW(BF16, "BF16", 1, 2, false),
    OC_ROW(Q4_0, "Q4_0", kQK, sizeof(BlockQ4_0), true),
    OC_ROW(Q4_1, "Q4_1", kQK, sizeof(BlockQ4_1), true),
    OC_ROW(Q5_0, "Q5_0", kQK, sizeof(BlockQ5_0), true),
    OC_ROW(Q5_1, "Q5_1", kQK, sizeof(BlockQ5_1), true),
    OC_ROW(Q8_0, "Q8_0", kQK, sizeof(BlockQ8_0), true),
    OC_ROW(Q8_1, "Q8_1", kQK, sizeof(BlockQ8_1), true),
    OC_ROW(Q4_K, "Q4_K", kQKK, sizeof(BlockQ4_K), true),
    OC_ROW(Q5_K, "Q5_K", kQKK, sizeof(BlockQ5_K), true),
    OC_ROW(Q6_K, "Q6_K", kQKK, sizeof(BlockQ6_K), true),
    OC_ROW(Q8_K, "Q8_K", kQKK, sizeof(BlockQ8_K), true),
    OC_ROW(MXFP4, "MXFP4", kQK, sizeof(BlockMxfp4), true),
};

#undef OC_ROW

}  // namespace

const DTypeTraits* FindDTypeTraits(uint32_t id) {
  for (const DTypeTraits& t : kTraits) {
    if (static_cast<uint32_t>(t.type) == id) return &t;
  }
  return nullptr;
}

const DTypeTraits& GetDTypeTraits(DType type) {
  const DTypeTraits* t = FindDTypeTraits(static_cast<uint32_t>(type));
  // Unreachable from a file: the GGUF reader refuses type ids without traits
  // (FindDTypeTraits), so every DType value in the program has a row here.
  OC_CHECK_MSG(t != nullptr, "DType without traits");
  return *t;
}

const char* DTypeIdDescription(uint32_t id) {
  // ggml ids we know of but do not implement, so the message can name them.
  switch (id) {
    case 4:
    case 5:
      return "Q4_2/Q4_3, removed from ggml";
    case 10:
      return "Q2_K, not supported";
    case 11:
      return "Q3_K, not supported";
    case 16:
    case 17:
    case 18:
    case 19:
    case 20:
    case 21:
    case 22:
    case 23:
    case 29:
      return "an IQ type, not supported";
    case 24:
    case 25:
    case 26:
    case 27:
      return "an integer type, not supported for weights";
    case 28:
      return "F64, not supported";
    default:
      break;
  }
  if (FindDTypeTraits(id)) return "supported";
  return "unknown";
}

bool ParseDType(std::string_view name, DType* out) {
  for (const DTypeTraits& t : kTraits) {
    std::string_view tn(t.name);
    if (tn.size() != name.size()) continue;
    bool same = true;
    for (size_t i = 0; i < tn.size() && same; ++i) {
      same = std::toupper(static_cast<unsigned char>(name[i])) == tn[i];
    }
    if (same) {
      *out = t.type;
      return true;
    }
  }
  return false;
}

}  // namespace omnicoder
