// GGUF parser: validates the header, metadata and tensor directory of a mapped file.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "base/checked_math.h"
#include "base/strings.h"
#include "format/gguf.h"
#include "tensor/dtype.h"

namespace omnicoder {

namespace {

constexpr uint32_t kGgufMagic = 0x46554747;  // "GGUF" little-endian
constexpr uint64_t kMaxStringBytes = uint64_t{1} << 30;
constexpr size_t kMaxTensorNameBytes = 64;  // same limit as ggml (GGML_MAX_NAME)
constexpr uint32_t kMaxDims = 4;

}  // namespace

const char* GgufTypeName(GgufType type) {
  static const char* kNames[] = {"uint8", "int8",   "uint16", "int16",  "uint32", "int32",  "float32",
                                 "bool",  "string", "array",  "uint64", "int64",  "float64"};
  uint32_t t = static_cast<uint32_t>(type);
  return t < kGgufTypeCount ? kNames[t] : "invalid";
}

size_t GgufScalarSize(GgufType type) {
  switch (type) {
    case GgufType::kUint8:
    case GgufType::kInt8:
    case GgufType::kBool:
      return 1;
    case GgufType::kUint16:
    case GgufType::kInt16:
      return 2;
    case GgufType::kUint32:
    case GgufType::kInt32:
    case GgufType::kFloat32:
      return 4;
    case GgufType::kUint64:
    case GgufType::kInt64:
    case GgufType::kFloat64:
      return 8;
    case GgufType::kString:
    case GgufType::kArray:
      return 0;
  }
  return 0;
}

// Cursor over the mapping; every read is bounds-checked and records what was being read.
class GgufParser {
 public:
  explicit GgufParser(GgufFile* out) : out_(out), p_(out->file_->data()), size_(out->file_->size()) {}

  Status Run();

 private:
  Status Need(uint64_t n, const char* what) {
    if (n > size_ - pos_) {
      return CorruptFile(StrFormat("truncated file: %s needs %llu bytes at offset %llu but only %llu remain", what,
                                   static_cast<unsigned long long>(n), static_cast<unsigned long long>(pos_),
                                   static_cast<unsigned long long>(size_ - pos_)));
    }
    return Status::Ok();
  }
  template <typename T>
  Status Read(T* v, const char* what) {
    OC_RETURN_IF_ERROR(Need(sizeof(T), what));
    std::memcpy(v, p_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return Status::Ok();
  }
  Status ReadString(std::string_view* s, const char* what);
  Status ReadValue(GgufType type, GgufValue* v, const std::string& key, int depth);
  Status ReadArray(GgufValue* v, const std::string& key, int depth);
  // An integer is kept both as u64 and i64 (sign-extended), a float as f64.
  template <typename T>
  Status ReadScalar(GgufValue* v, const char* what) {
    T x;
    OC_RETURN_IF_ERROR(Read(&x, what));
    if constexpr (std::is_floating_point_v<T>) {
      v->f64 = x;
    } else {
      // Signed types sign-extend into both views (an i8 of -1 reads back as -1 as i64).
      v->u64 = static_cast<uint64_t>(x);  // NOLINT(bugprone-signed-char-misuse)
      v->i64 = static_cast<int64_t>(x);   // NOLINT(bugprone-signed-char-misuse)
    }
    return Status::Ok();
  }
  Status ReadHeader(uint64_t* n_tensors, uint64_t* n_kv);
  Status ReadTensorInfo(GgufTensorInfo* t);
  Status FinishTensors();

  GgufFile* out_;
  const uint8_t* p_;
  uint64_t size_;
  uint64_t pos_ = 0;
};

Status GgufParser::ReadString(std::string_view* s, const char* what) {
  uint64_t len = 0;
  OC_RETURN_IF_ERROR(Read(&len, what));
  if (len > kMaxStringBytes || len > size_ - pos_) {
    return CorruptFile(StrFormat("%s at offset %llu declares length %llu, longer than the %llu bytes left in the file",
                                 what, static_cast<unsigned long long>(pos_ - 8), static_cast<unsigned long long>(len),
                                 static_cast<unsigned long long>(size_ - pos_)));
  }
  *s = std::string_view(reinterpret_cast<const char*>(p_ + pos_), len);
  pos_ += len;
  return Status::Ok();
}

Status GgufParser::ReadValue(GgufType type, GgufValue* v, const std::string& key, int depth) {
  v->type = type;
  switch (type) {
    case GgufType::kUint8:
      return ReadScalar<uint8_t>(v, "uint8 value");
    case GgufType::kInt8:
      return ReadScalar<int8_t>(v, "int8 value");
    case GgufType::kUint16:
      return ReadScalar<uint16_t>(v, "uint16 value");
    case GgufType::kInt16:
      return ReadScalar<int16_t>(v, "int16 value");
    case GgufType::kUint32:
      return ReadScalar<uint32_t>(v, "uint32 value");
    case GgufType::kInt32:
      return ReadScalar<int32_t>(v, "int32 value");
    case GgufType::kUint64:
      return ReadScalar<uint64_t>(v, "uint64 value");
    case GgufType::kInt64:
      return ReadScalar<int64_t>(v, "int64 value");
    case GgufType::kFloat32:
      return ReadScalar<float>(v, "float32 value");
    case GgufType::kFloat64:
      return ReadScalar<double>(v, "float64 value");
    case GgufType::kBool: {
      uint8_t x;
      OC_RETURN_IF_ERROR(Read(&x, "bool value"));
      if (x > 1) return CorruptFile(StrFormat("key '%s': bool value %u is not 0 or 1", key.c_str(), x));
      v->u64 = x;
      return Status::Ok();
    }
    case GgufType::kString:
      return ReadString(&v->str, "string value");
    case GgufType::kArray:
      return ReadArray(v, key, depth);
  }
  return CorruptFile(StrFormat("key '%s': unknown value type %u", key.c_str(), static_cast<uint32_t>(type)));
}

Status GgufParser::ReadArray(GgufValue* v, const std::string& key, int depth) {
  if (depth > 0) return Unsupported("key '" + key + "': nested arrays are not supported");
  uint32_t et = 0;
  OC_RETURN_IF_ERROR(Read(&et, "array element type"));
  if (et >= kGgufTypeCount) {
    return CorruptFile(StrFormat("key '%s': unknown array element type %u", key.c_str(), et));
  }
  v->elem_type = static_cast<GgufType>(et);
  OC_RETURN_IF_ERROR(Read(&v->count, "array length"));
  if (v->elem_type == GgufType::kArray) return Unsupported("key '" + key + "': nested arrays are not supported");
  if (v->elem_type == GgufType::kString) {
    // each string takes at least its 8-byte length: bound the count before reserving
    if (v->count > (size_ - pos_) / 8) {
      return CorruptFile(StrFormat("key '%s': string array of %llu elements cannot fit in the %llu bytes left",
                                   key.c_str(), static_cast<unsigned long long>(v->count),
                                   static_cast<unsigned long long>(size_ - pos_)));
    }
    v->strings.resize(v->count);
    for (uint64_t i = 0; i < v->count; ++i) {
      OC_RETURN_IF_ERROR(ReadString(&v->strings[i], "string array element"));
    }
    return Status::Ok();
  }
  uint64_t bytes = 0;
  if (!CheckedMul(v->count, GgufScalarSize(v->elem_type), &bytes) || bytes > size_ - pos_) {
    return CorruptFile(StrFormat("key '%s': array of %llu %s elements is longer than the file", key.c_str(),
                                 static_cast<unsigned long long>(v->count), GgufTypeName(v->elem_type)));
  }
  v->raw = p_ + pos_;
  pos_ += bytes;
  return Status::Ok();
}

Status GgufParser::ReadHeader(uint64_t* n_tensors, uint64_t* n_kv) {
  uint32_t magic = 0;
  OC_RETURN_IF_ERROR(Read(&magic, "magic"));
  if (magic != kGgufMagic) {
    return CorruptFile(StrFormat("not a GGUF file: magic is 0x%08x, expected 0x%08x ('GGUF')", magic, kGgufMagic));
  }
  OC_RETURN_IF_ERROR(Read(&out_->version_, "version"));
  if (out_->version_ == 1)
    return Unsupported("GGUF version 1 is obsolete; re-convert the model (versions 2 and 3 are read)");
  if ((out_->version_ & 0xffff) == 0 && out_->version_ != 0) {
    return Unsupported("big-endian GGUF files are not supported");
  }
  if (out_->version_ != 2 && out_->version_ != 3) {
    return Unsupported(StrFormat("GGUF version %u is not supported (2 and 3 are)", out_->version_));
  }
  OC_RETURN_IF_ERROR(Read(n_tensors, "tensor count"));
  OC_RETURN_IF_ERROR(Read(n_kv, "metadata count"));
  // Each kv needs >= 8+4 bytes and each tensor >= 8+4+4+8 bytes: reject impossible counts now.
  uint64_t left = size_ - pos_;
  if (*n_kv > left / 12) {
    return CorruptFile(StrFormat("metadata count %llu cannot fit in a %llu-byte file",
                                 static_cast<unsigned long long>(*n_kv), static_cast<unsigned long long>(size_)));
  }
  if (*n_tensors > left / 24) {
    return CorruptFile(StrFormat("tensor count %llu cannot fit in a %llu-byte file",
                                 static_cast<unsigned long long>(*n_tensors), static_cast<unsigned long long>(size_)));
  }
  return Status::Ok();
}

Status GgufParser::ReadTensorInfo(GgufTensorInfo* t) {
  std::string_view name;
  OC_RETURN_IF_ERROR(ReadString(&name, "tensor name"));
  t->name.assign(name);
  if (name.empty()) return CorruptFile("tensor with an empty name");
  if (name.size() >= kMaxTensorNameBytes) {
    return CorruptFile(StrFormat("tensor name %s is %zu bytes; the limit is %zu", QuoteForMessage(name).c_str(),
                                 name.size(), kMaxTensorNameBytes - 1));
  }
  const std::string qname = QuoteForMessage(name);
  OC_RETURN_IF_ERROR(Read(&t->n_dims, "tensor dimension count"));
  if (t->n_dims == 0 || t->n_dims > kMaxDims) {
    return CorruptFile(
        StrFormat("tensor %s has %u dimensions; 1 to %u are allowed", qname.c_str(), t->n_dims, kMaxDims));
  }
  uint64_t n_elements = 1;
  for (uint32_t d = 0; d < t->n_dims; ++d) {
    uint64_t dim = 0;
    OC_RETURN_IF_ERROR(Read(&dim, "tensor dimension"));
    if (dim == 0 || dim > static_cast<uint64_t>(INT64_MAX)) {
      return CorruptFile(
          StrFormat("tensor %s dimension %u is %llu", qname.c_str(), d, static_cast<unsigned long long>(dim)));
    }
    if (!CheckedMul(n_elements, dim, &n_elements) || n_elements > static_cast<uint64_t>(INT64_MAX)) {
      return CorruptFile(StrFormat("tensor %s: the product of its dimensions overflows", qname.c_str()));
    }
    t->dims[d] = static_cast<int64_t>(dim);
  }
  OC_RETURN_IF_ERROR(Read(&t->type_id, "tensor type"));
  const DTypeTraits* traits = FindDTypeTraits(t->type_id);
  if (traits == nullptr) {
    return Unsupported(StrFormat("tensor %s has tensor type id %u, which this build does not know (%s)", qname.c_str(),
                                 t->type_id, DTypeIdDescription(t->type_id)));
  }
  if (t->dims[0] % traits->block_size != 0) {
    return CorruptFile(StrFormat("tensor %s: row length %lld is not a multiple of the %s block size %d", qname.c_str(),
                                 static_cast<long long>(t->dims[0]), traits->name, traits->block_size));
  }
  uint64_t n_blocks = n_elements / traits->block_size;
  if (!CheckedMul(n_blocks, traits->block_bytes, &t->n_bytes)) {
    return CorruptFile(StrFormat("tensor %s: byte size overflows", qname.c_str()));
  }
  OC_RETURN_IF_ERROR(Read(&t->offset, "tensor offset"));
  return Status::Ok();
}

Status GgufParser::FinishTensors() {
  uint64_t align = out_->alignment_;
  uint64_t data_offset = (pos_ + align - 1) / align * align;
  if (data_offset > size_) {
    if (!out_->tensors_.empty()) return CorruptFile("file ends before its tensor data section");
    data_offset = size_;
  }
  out_->data_offset_ = data_offset;
  uint64_t data_size = size_ - data_offset;
  std::vector<std::pair<uint64_t, size_t>> order;
  order.reserve(out_->tensors_.size());
  for (size_t i = 0; i < out_->tensors_.size(); ++i) {
    GgufTensorInfo& t = out_->tensors_[i];
    const std::string qname = QuoteForMessage(t.name);
    if (t.offset % align != 0) {
      return CorruptFile(StrFormat("tensor %s offset %llu is not a multiple of the alignment %llu", qname.c_str(),
                                   static_cast<unsigned long long>(t.offset), static_cast<unsigned long long>(align)));
    }
    uint64_t end = 0;
    if (!CheckedAdd(t.offset, t.n_bytes, &end) || end > data_size) {
      return CorruptFile(
          StrFormat("tensor %s data [%llu, +%llu) runs past the end of the file (data section is %llu bytes)",
                    qname.c_str(), static_cast<unsigned long long>(t.offset),
                    static_cast<unsigned long long>(t.n_bytes), static_cast<unsigned long long>(data_size)));
    }
    t.data = p_ + data_offset + t.offset;
    order.emplace_back(t.offset, i);
  }
  std::sort(order.begin(), order.end());
  for (size_t k = 1; k < order.size(); ++k) {
    const GgufTensorInfo& a = out_->tensors_[order[k - 1].second];
    const GgufTensorInfo& b = out_->tensors_[order[k].second];
    if (a.offset + a.n_bytes > b.offset && a.n_bytes > 0 && b.n_bytes > 0) {
      return CorruptFile("tensors " + QuoteForMessage(a.name) + " and " + QuoteForMessage(b.name) +
                         " overlap in the file");
    }
  }
  return Status::Ok();
}

Status GgufParser::Run() {
  uint64_t n_tensors = 0, n_kv = 0;
  OC_RETURN_IF_ERROR(ReadHeader(&n_tensors, &n_kv));
  out_->kvs_.reserve(n_kv);
  for (uint64_t i = 0; i < n_kv; ++i) {
    std::string_view key;
    OC_RETURN_IF_ERROR(ReadString(&key, "metadata key"));
    std::string skey(key);
    if (out_->kv_index_.count(skey)) return CorruptFile("duplicate metadata key " + QuoteForMessage(key));
    uint32_t type = 0;
    OC_RETURN_IF_ERROR(Read(&type, "metadata value type"));
    if (type >= kGgufTypeCount) {
      return CorruptFile(StrFormat("metadata key %s has unknown value type %u", QuoteForMessage(key).c_str(), type));
    }
    GgufValue value;
    OC_RETURN_IF_ERROR(ReadValue(static_cast<GgufType>(type), &value, skey, 0));
    out_->kv_index_.emplace(skey, out_->kvs_.size());
    out_->kvs_.emplace_back(std::move(skey), std::move(value));
  }
  if (const GgufValue* a = out_->Find("general.alignment")) {
    if (a->type != GgufType::kUint32 && a->type != GgufType::kUint64 && a->type != GgufType::kInt32) {
      return CorruptFile("general.alignment must be an unsigned integer");
    }
    uint64_t align = a->u64;
    if (align == 0 || (align & (align - 1)) != 0 || align > (1u << 20)) {
      return CorruptFile(StrFormat("general.alignment %llu is not a power of two up to 1 MiB",
                                   static_cast<unsigned long long>(align)));
    }
    out_->alignment_ = static_cast<size_t>(align);
  }
  out_->tensors_.resize(n_tensors);
  for (uint64_t i = 0; i < n_tensors; ++i) {
    OC_RETURN_IF_ERROR(ReadTensorInfo(&out_->tensors_[i]));
    const std::string& name = out_->tensors_[i].name;
    if (!out_->tensor_index_.emplace(name, i).second) {
      return CorruptFile("duplicate tensor name " + QuoteForMessage(name));
    }
  }
  return FinishTensors();
}

Result<std::unique_ptr<GgufFile>> GgufFile::Parse(std::unique_ptr<MappedFile> file) {
  std::unique_ptr<GgufFile> g(new GgufFile());
  g->file_ = std::move(file);
  GgufParser parser(g.get());
  Status s = parser.Run();
  if (!s.ok()) return s.WithContext(g->file_->path());
  return g;
}

Result<std::unique_ptr<GgufFile>> GgufFile::Open(const std::string& path) {
  OC_ASSIGN_OR_RETURN(std::unique_ptr<MappedFile> file, MappedFile::Open(path));
  return Parse(std::move(file));
}

}  // namespace omnicoder
