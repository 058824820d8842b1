// GgufFile lookups and typed metadata getters.
#include "base/strings.h"
#include "format/gguf.h"

namespace omnicoder {

namespace {

bool IsInteger(GgufType t) {
  switch (t) {
    case GgufType::kUint8:
    case GgufType::kInt8:
    case GgufType::kUint16:
    case GgufType::kInt16:
    case GgufType::kUint32:
    case GgufType::kInt32:
    case GgufType::kUint64:
    case GgufType::kInt64:
      return true;
    default:
      return false;
  }
}
bool IsSigned(GgufType t) {
  return t == GgufType::kInt8 || t == GgufType::kInt16 || t == GgufType::kInt32 || t == GgufType::kInt64;
}

Status WrongType(std::string_view key, const GgufValue& v, const char* want) {
  return CorruptFile(StrFormat("metadata key '%.*s' is %s, expected %s", static_cast<int>(key.size()), key.data(),
                               GgufTypeName(v.type), want));
}

Status Missing(std::string_view key) {
  return NotFound(StrFormat("metadata key '%.*s' is missing", static_cast<int>(key.size()), key.data()));
}

}  // namespace

const GgufValue* GgufFile::Find(std::string_view key) const {
  auto it = kv_index_.find(key);
  return it == kv_index_.end() ? nullptr : &kvs_[it->second].second;
}

const GgufTensorInfo* GgufFile::FindTensor(std::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

Result<uint64_t> GgufFile::GetUint(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (!v) return Missing(key);
  if (!IsInteger(v->type)) return WrongType(key, *v, "an integer");
  if (IsSigned(v->type) && v->i64 < 0) {
    return CorruptFile(StrFormat("metadata key '%.*s' is negative (%lld)", static_cast<int>(key.size()), key.data(),
                                 static_cast<long long>(v->i64)));
  }
  return v->u64;
}

Result<double> GgufFile::GetFloat(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (!v) return Missing(key);
  if (v->type == GgufType::kFloat32 || v->type == GgufType::kFloat64) return v->f64;
  if (IsInteger(v->type)) return IsSigned(v->type) ? static_cast<double>(v->i64) : static_cast<double>(v->u64);
  return WrongType(key, *v, "a number");
}

Result<std::string_view> GgufFile::GetString(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (!v) return Missing(key);
  if (v->type != GgufType::kString) return WrongType(key, *v, "a string");
  return v->str;
}

Result<bool> GgufFile::GetBool(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (!v) return Missing(key);
  if (v->type != GgufType::kBool) return WrongType(key, *v, "a bool");
  return v->u64 != 0;
}

Result<uint64_t> GgufFile::GetUintOr(std::string_view key, uint64_t def) const {
  if (!Find(key)) return def;
  return GetUint(key);
}

Result<double> GgufFile::GetFloatOr(std::string_view key, double def) const {
  if (!Find(key)) return def;
  return GetFloat(key);
}

}  // namespace omnicoder
