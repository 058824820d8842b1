// GgufWriter: builds a GGUF v3 file (metadata + tensors) and writes it atomically.
//
// Tensor bytes come from a producer callback at write time, so a multi-GiB model can be
// written (e.g. quantized) one tensor at a time. The file goes through AtomicFile (a
// unique temp file renamed over `path` only after every byte was written and flushed):
// a full disk, a failing producer or a killed process never leaves a truncated file at
// `path`, and an input of the process or a non-regular file is never replaced.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "base/atomic_file.h"
#include "base/status.h"
#include "format/gguf.h"
#include "tensor/dtype.h"

namespace omnicoder {

class GgufWriter {
 public:
  // Fills exactly n_bytes at dst with the tensor's data.
  using TensorProducer = std::function<Status(uint8_t* dst, size_t n_bytes)>;

  explicit GgufWriter(uint32_t alignment = 32) : alignment_(alignment) {}

  void SetString(const std::string& key, const std::string& value);
  void SetUint32(const std::string& key, uint32_t value);
  void SetInt32(const std::string& key, int32_t value);
  void SetUint64(const std::string& key, uint64_t value);
  void SetFloat32(const std::string& key, float value);
  void SetBool(const std::string& key, bool value);
  void SetStringArray(const std::string& key, const std::vector<std::string>& values);
  void SetFloat32Array(const std::string& key, const std::vector<float>& values);
  void SetInt32Array(const std::string& key, const std::vector<int32_t>& values);
  // Copies a value read from another file (any type, arrays included).
  void CopyValue(const std::string& key, const GgufValue& value);

  // dims[0] is the row length (innermost). Fails if the shape does not fit the type.
  Status AddTensor(const std::string& name, DType type, const std::vector<int64_t>& dims, TensorProducer producer);
  // Convenience: copies `data` (must be the tensor's exact byte size).
  Status AddTensorBytes(const std::string& name, DType type, const std::vector<int64_t>& dims,
                        std::vector<uint8_t> data);

  Status WriteFile(const std::string& path) const;

 private:
  struct Kv {
    std::string key;
    std::vector<uint8_t> encoded;  // type id + value, as written after the key
  };
  struct Tensor {
    std::string name;
    DType type;
    std::vector<int64_t> dims;
    uint64_t n_bytes;
    TensorProducer producer;
  };
  void SetEncoded(const std::string& key, std::vector<uint8_t> encoded);
  std::vector<uint8_t> EncodeHeader() const;
  Status WriteTensors(AtomicFile* f) const;

  uint32_t alignment_;
  std::vector<Kv> kvs_;
  std::vector<Tensor> tensors_;
};

}  // namespace omnicoder
