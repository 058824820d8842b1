// GgufWriter implementation.
#include "format/gguf_writer.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "base/checked_math.h"
#include "base/strings.h"

namespace omnicoder {

namespace {

template <typename T>
void Put(std::vector<uint8_t>* out, T v) {
  const uint8_t* p = reinterpret_cast<const uint8_t*>(&v);
  out->insert(out->end(), p, p + sizeof(T));
}

void PutString(std::vector<uint8_t>* out, const std::string& s) {
  Put<uint64_t>(out, s.size());
  out->insert(out->end(), s.begin(), s.end());
}

void PutType(std::vector<uint8_t>* out, GgufType t) {
  Put<uint32_t>(out, static_cast<uint32_t>(t));
}

// Encodes one scalar of `type` from a decoded GgufValue.
void PutScalar(std::vector<uint8_t>* out, GgufType type, const GgufValue& v) {
  switch (type) {
    case GgufType::kUint8:
      Put<uint8_t>(out, static_cast<uint8_t>(v.u64));
      break;
    case GgufType::kInt8:
      Put<int8_t>(out, static_cast<int8_t>(v.i64));
      break;
    case GgufType::kUint16:
      Put<uint16_t>(out, static_cast<uint16_t>(v.u64));
      break;
    case GgufType::kInt16:
      Put<int16_t>(out, static_cast<int16_t>(v.i64));
      break;
    case GgufType::kUint32:
      Put<uint32_t>(out, static_cast<uint32_t>(v.u64));
      break;
    case GgufType::kInt32:
      Put<int32_t>(out, static_cast<int32_t>(v.i64));
      break;
    case GgufType::kUint64:
      Put<uint64_t>(out, v.u64);
      break;
    case GgufType::kInt64:
      Put<int64_t>(out, v.i64);
      break;
    case GgufType::kFloat32:
      Put<float>(out, static_cast<float>(v.f64));
      break;
    case GgufType::kFloat64:
      Put<double>(out, v.f64);
      break;
    case GgufType::kBool:
      Put<uint8_t>(out, v.u64 ? 1 : 0);
      break;
    case GgufType::kString:
      PutString(out, std::string(v.str));
      break;
    case GgufType::kArray:
      break;
  }
}

}  // namespace

void GgufWriter::SetEncoded(const std::string& key, std::vector<uint8_t> encoded) {
  for (Kv& kv : kvs_) {
    if (kv.key == key) {
      kv.encoded = std::move(encoded);
      return;
    }
  }
  kvs_.push_back({key, std::move(encoded)});
}

void GgufWriter::SetString(const std::string& key, const std::string& value) {
  std::vector<uint8_t> e;
  PutType(&e, GgufType::kString);
  PutString(&e, value);
  SetEncoded(key, std::move(e));
}

#define OC_SCALAR_SETTER(NAME, CTYPE, GTYPE)                   \
  void GgufWriter::NAME(const std::string& key, CTYPE value) { \
    std::vector<uint8_t> e;                                    \
    PutType(&e, GTYPE);                                        \
    Put<CTYPE>(&e, value);                                     \
    SetEncoded(key, std::move(e));                             \
  }
OC_SCALAR_SETTER(SetUint32, uint32_t, GgufType::kUint32)
OC_SCALAR_SETTER(SetInt32, int32_t, GgufType::kInt32)
OC_SCALAR_SETTER(SetUint64, uint64_t, GgufType::kUint64)
OC_SCALAR_SETTER(SetFloat32, float, GgufType::kFloat32)
#undef OC_SCALAR_SETTER

void GgufWriter::SetBool(const std::string& key, bool value) {
  std::vector<uint8_t> e;
  PutType(&e, GgufType::kBool);
  Put<uint8_t>(&e, value ? 1 : 0);
  SetEncoded(key, std::move(e));
}

void GgufWriter::SetStringArray(const std::string& key, const std::vector<std::string>& values) {
  std::vector<uint8_t> e;
  PutType(&e, GgufType::kArray);
  PutType(&e, GgufType::kString);
  Put<uint64_t>(&e, values.size());
  for (const std::string& s : values) PutString(&e, s);
  SetEncoded(key, std::move(e));
}

void GgufWriter::SetFloat32Array(const std::string& key, const std::vector<float>& values) {
  std::vector<uint8_t> e;
  PutType(&e, GgufType::kArray);
  PutType(&e, GgufType::kFloat32);
  Put<uint64_t>(&e, values.size());
  for (float v : values) Put<float>(&e, v);
  SetEncoded(key, std::move(e));
}

void GgufWriter::SetInt32Array(const std::string& key, const std::vector<int32_t>& values) {
  std::vector<uint8_t> e;
  PutType(&e, GgufType::kArray);
  PutType(&e, GgufType::kInt32);
  Put<uint64_t>(&e, values.size());
  for (int32_t v : values) Put<int32_t>(&e, v);
  SetEncoded(key, std::move(e));
}

void GgufWriter::CopyValue(const std::string& key, const GgufValue& value) {
  std::vector<uint8_t> e;
  PutType(&e, value.type);
  if (value.type != GgufType::kArray) {
    PutScalar(&e, value.type, value);
  } else {
    PutType(&e, value.elem_type);
    Put<uint64_t>(&e, value.count);
    if (value.elem_type == GgufType::kString) {
      for (std::string_view s : value.strings) PutString(&e, std::string(s));
    } else {
      size_t bytes = value.count * GgufScalarSize(value.elem_type);
      e.insert(e.end(), value.raw, value.raw + bytes);
    }
  }
  SetEncoded(key, std::move(e));
}

Status GgufWriter::AddTensor(const std::string& name, DType type, const std::vector<int64_t>& dims,
                             TensorProducer producer) {
  if (dims.empty() || dims.size() > 4) return InvalidArgument("tensor '" + name + "': 1 to 4 dimensions");
  const DTypeTraits& traits = GetDTypeTraits(type);
  uint64_t n = 1;
  for (int64_t d : dims) {
    if (d <= 0 || !CheckedMul(n, static_cast<uint64_t>(d), &n)) {
      return InvalidArgument("tensor '" + name + "': bad dimensions");
    }
  }
  if (dims[0] % traits.block_size != 0) {
    return InvalidArgument(StrFormat("tensor '%s': row length %lld is not a multiple of the %s block size %d",
                                     name.c_str(), static_cast<long long>(dims[0]), traits.name, traits.block_size));
  }
  for (const Tensor& t : tensors_) {
    if (t.name == name) return InvalidArgument("duplicate tensor name '" + name + "'");
  }
  tensors_.push_back({name, type, dims, n / traits.block_size * traits.block_bytes, std::move(producer)});
  return Status::Ok();
}

Status GgufWriter::AddTensorBytes(const std::string& name, DType type, const std::vector<int64_t>& dims,
                                  std::vector<uint8_t> data) {
  auto shared = std::make_shared<std::vector<uint8_t>>(std::move(data));
  OC_RETURN_IF_ERROR(AddTensor(name, type, dims, [shared, name](uint8_t* dst, size_t n) {
    if (n != shared->size()) return InvalidArgument("tensor '" + name + "': data size does not match its shape");
    std::memcpy(dst, shared->data(), n);
    return Status::Ok();
  }));
  return Status::Ok();
}

std::vector<uint8_t> GgufWriter::EncodeHeader() const {
  std::vector<uint8_t> header;
  Put<uint32_t>(&header, 0x46554747);
  Put<uint32_t>(&header, 3);
  Put<uint64_t>(&header, tensors_.size());
  Put<uint64_t>(&header, kvs_.size() + (alignment_ != 32 ? 1 : 0));
  for (const Kv& kv : kvs_) {
    PutString(&header, kv.key);
    header.insert(header.end(), kv.encoded.begin(), kv.encoded.end());
  }
  if (alignment_ != 32) {
    PutString(&header, "general.alignment");
    PutType(&header, GgufType::kUint32);
    Put<uint32_t>(&header, alignment_);
  }
  uint64_t offset = 0;
  for (const Tensor& t : tensors_) {
    PutString(&header, t.name);
    Put<uint32_t>(&header, static_cast<uint32_t>(t.dims.size()));
    for (int64_t d : t.dims) Put<uint64_t>(&header, static_cast<uint64_t>(d));
    Put<uint32_t>(&header, static_cast<uint32_t>(t.type));
    Put<uint64_t>(&header, offset);
    offset = (offset + t.n_bytes + alignment_ - 1) / alignment_ * alignment_;
  }
  header.resize((header.size() + alignment_ - 1) / alignment_ * alignment_, 0);
  return header;
}

Status GgufWriter::WriteTensors(AtomicFile* f) const {
  std::vector<uint8_t> buf;
  static const uint8_t kZeros[64] = {};
  for (const Tensor& t : tensors_) {
    buf.assign(t.n_bytes, 0);
    OC_RETURN_IF_ERROR(t.producer(buf.data(), buf.size()).WithContext("tensor '" + t.name + "'"));
    OC_RETURN_IF_ERROR(f->Write(buf.data(), buf.size()));
    for (uint64_t pad = (alignment_ - t.n_bytes % alignment_) % alignment_; pad > 0;) {
      const size_t n = pad < sizeof(kZeros) ? pad : sizeof(kZeros);
      OC_RETURN_IF_ERROR(f->Write(kZeros, n));
      pad -= n;
    }
  }
  return Status::Ok();
}

Status GgufWriter::WriteFile(const std::string& path) const {
  const std::vector<uint8_t> header = EncodeHeader();
  OC_ASSIGN_OR_RETURN(std::unique_ptr<AtomicFile> f, AtomicFile::Create(path));
  OC_RETURN_IF_ERROR(f->Write(header.data(), header.size()));
  OC_RETURN_IF_ERROR(WriteTensors(f.get()));
  return f->Commit();
}

}  // namespace omnicoder
