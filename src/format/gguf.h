// GGUF container: parsed metadata and tensor directory of a memory-mapped file.
//
// Design goals: every size, offset and product from the file is checked before use, so
// a hostile file yields a Status naming the violation, never a crash; nothing is
// copied that can stay in the mapping (arrays and tensor data are views). Versions 2
// and 3 (little-endian) are read; v1 and big-endian files are rejected with a reason.
//
// Thread safety: a GgufFile is immutable after Parse and may be shared across threads.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/mapped_file.h"
#include "base/status.h"

namespace omnicoder {

enum class GgufType : uint32_t {
  kUint8 = 0,
  kInt8 = 1,
  kUint16 = 2,
  kInt16 = 3,
  kUint32 = 4,
  kInt32 = 5,
  kFloat32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kUint64 = 10,
  kInt64 = 11,
  kFloat64 = 12,
};
constexpr uint32_t kGgufTypeCount = 13;
const char* GgufTypeName(GgufType type);
// Size in bytes of a scalar element; 0 for string and array.
size_t GgufScalarSize(GgufType type);

// One metadata value. Scalars are decoded; strings are views into the file; arrays keep
// a pointer to their raw little-endian elements (strings arrays: pre-split views).
struct GgufValue {
  GgufType type = GgufType::kUint8;
  uint64_t u64 = 0;  // unsigned integers and bool
  int64_t i64 = 0;   // signed integers
  double f64 = 0.0;  // floats
  std::string_view str;
  // arrays
  GgufType elem_type = GgufType::kUint8;
  uint64_t count = 0;
  const uint8_t* raw = nullptr;           // numeric arrays: count * elem size bytes
  std::vector<std::string_view> strings;  // string arrays
};

struct GgufTensorInfo {
  std::string name;
  uint32_t type_id = 0;  // ggml type id as stored
  uint32_t n_dims = 0;
  int64_t dims[4] = {1, 1, 1, 1};  // dims[0] is the innermost (row length)
  uint64_t offset = 0;             // relative to the data section
  uint64_t n_bytes = 0;
  const uint8_t* data = nullptr;
  uint64_t n_elements() const { return static_cast<uint64_t>(dims[0]) * dims[1] * dims[2] * dims[3]; }
};

class GgufFile {
 public:
  // Maps and parses `path`.
  static Result<std::unique_ptr<GgufFile>> Open(const std::string& path);
  // Parses a mapping (e.g. a fuzzer's buffer); takes ownership of the MappedFile.
  static Result<std::unique_ptr<GgufFile>> Parse(std::unique_ptr<MappedFile> file);

  uint32_t version() const { return version_; }
  size_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }
  const MappedFile& file() const { return *file_; }

  const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return kvs_; }
  const GgufValue* Find(std::string_view key) const;
  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const GgufTensorInfo* FindTensor(std::string_view name) const;

  // Typed getters; each returns NotFound or CorruptFile (wrong type) with the key name.
  Result<uint64_t> GetUint(std::string_view key) const;  // any unsigned/signed>=0 integer
  Result<double> GetFloat(std::string_view key) const;   // f32/f64 (and integers)
  Result<std::string_view> GetString(std::string_view key) const;
  Result<bool> GetBool(std::string_view key) const;
  // With default when absent (still an error when present with a wrong type).
  Result<uint64_t> GetUintOr(std::string_view key, uint64_t def) const;
  Result<double> GetFloatOr(std::string_view key, double def) const;

 private:
  GgufFile() = default;
  std::unique_ptr<MappedFile> file_;
  uint32_t version_ = 0;
  size_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::vector<std::pair<std::string, GgufValue>> kvs_;
  std::map<std::string, size_t, std::less<>> kv_index_;
  std::vector<GgufTensorInfo> tensors_;
  std::map<std::string, size_t, std::less<>> tensor_index_;

  friend class GgufParser;
};

}  // namespace omnicoder
