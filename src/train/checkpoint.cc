// Checkpoint writing and reading.
#include "train/checkpoint.h"

#include <cstring>
#include <memory>
#include <sstream>

#include "base/atomic_file.h"
#include "base/mapped_file.h"
#include "base/sha256.h"
#include "base/strings.h"

namespace omnicoder {

namespace {

constexpr char kMagic[8] = {'O', 'C', 'C', 'K', 'P', 'T', '0', '1'};

std::string HeaderText(const CheckpointHeader& h) {
  return StrFormat(
      "step %d\ndata_position %lld\nrng_state %llu\nn_floats %llu\nconfig_sha256 %s\ntokenizer_sha256 %s\n"
      "data_sha256 %s\nlayout_sha256 %s\nelapsed_seconds %.3f\n",
      h.step, static_cast<long long>(h.data_position), static_cast<unsigned long long>(h.rng_state),
      static_cast<unsigned long long>(h.n_floats), h.config_sha256.c_str(), h.tokenizer_sha256.c_str(),
      h.data_sha256.c_str(), h.layout_sha256.c_str(), h.elapsed_seconds);
}

Result<CheckpointHeader> ParseHeader(const std::string& text, const std::string& path) {
  CheckpointHeader h;
  std::istringstream in(text);
  std::string key, value;
  int seen = 0;
  while (in >> key >> value) {
    ++seen;
    if (key == "step")
      h.step = std::atoi(value.c_str());
    else if (key == "data_position")
      h.data_position = std::strtoll(value.c_str(), nullptr, 10);
    else if (key == "rng_state")
      h.rng_state = std::strtoull(value.c_str(), nullptr, 10);
    else if (key == "n_floats")
      h.n_floats = std::strtoull(value.c_str(), nullptr, 10);
    else if (key == "config_sha256")
      h.config_sha256 = value;
    else if (key == "tokenizer_sha256")
      h.tokenizer_sha256 = value;
    else if (key == "data_sha256")
      h.data_sha256 = value;
    else if (key == "layout_sha256")
      h.layout_sha256 = value;
    else if (key == "elapsed_seconds")
      h.elapsed_seconds = std::strtod(value.c_str(), nullptr);
    else
      --seen;
  }
  if (seen != 9 || h.step < 0 || h.data_position < 0) return CorruptFile("checkpoint '" + path + "' has a bad header");
  return h;
}

struct Parsed {
  std::unique_ptr<MappedFile> map;
  CheckpointHeader header;
  size_t payload_offset = 0;
};

Result<Parsed> Open(const std::string& path) {
  Parsed p;
  OC_ASSIGN_OR_RETURN(p.map, MappedFile::Open(path, /*protect=*/false));
  const uint8_t* d = p.map->data();
  const size_t n = p.map->size();
  uint64_t header_len = 0;
  if (n < 16 + 32 || std::memcmp(d, kMagic, 8) != 0)
    return CorruptFile("'" + path + "' is not an omnicoder checkpoint");
  std::memcpy(&header_len, d + 8, 8);
  if (header_len > n - 16 - 32) return CorruptFile("checkpoint '" + path + "' is truncated");
  OC_ASSIGN_OR_RETURN(p.header, ParseHeader(std::string(reinterpret_cast<const char*>(d + 16), header_len), path));
  p.payload_offset = 16 + header_len;
  const uint64_t want = p.payload_offset + p.header.n_floats * 3 * sizeof(float) + 32;
  if (p.header.n_floats > (n / 12) || want != n) return CorruptFile("checkpoint '" + path + "' has the wrong size");
  return p;
}

}  // namespace

Status SaveCheckpoint(const std::string& path, const CheckpointHeader& header, const CheckpointBuffers& b) {
  CheckpointHeader h = header;
  h.n_floats = b.n_floats;
  const std::string text = HeaderText(h);
  const uint64_t len = text.size();
  OC_ASSIGN_OR_RETURN(std::unique_ptr<AtomicFile> f, AtomicFile::Create(path));
  Sha256 hash;
  auto put = [&](const void* p, size_t n) {
    hash.Update(p, n);
    return f->Write(p, n);
  };
  OC_RETURN_IF_ERROR(put(kMagic, 8));
  OC_RETURN_IF_ERROR(put(&len, 8));
  OC_RETURN_IF_ERROR(put(text.data(), text.size()));
  for (const float* buf : {b.params, b.m, b.v}) OC_RETURN_IF_ERROR(put(buf, b.n_floats * sizeof(float)));
  uint8_t digest[32];
  hash.Digest(digest);
  OC_RETURN_IF_ERROR(f->Write(digest, 32));
  return f->Commit();
}

Result<CheckpointHeader> ReadCheckpointHeader(const std::string& path) {
  OC_ASSIGN_OR_RETURN(Parsed p, Open(path));
  return p.header;
}

Result<CheckpointHeader> LoadCheckpoint(const std::string& path, const CheckpointBuffers& b) {
  OC_ASSIGN_OR_RETURN(Parsed p, Open(path));
  if (p.header.n_floats != b.n_floats) {
    return InvalidArgument("checkpoint '" + path + "' holds a model of another size");
  }
  const uint8_t* d = p.map->data();
  const size_t body = p.map->size() - 32;
  Sha256 hash;
  hash.Update(d, body);
  uint8_t digest[32];
  hash.Digest(digest);
  if (std::memcmp(digest, d + body, 32) != 0) return CorruptFile("checkpoint '" + path + "' fails its SHA-256 check");
  const size_t bytes = b.n_floats * sizeof(float);
  std::memcpy(b.params, d + p.payload_offset, bytes);
  std::memcpy(b.m, d + p.payload_offset + bytes, bytes);
  std::memcpy(b.v, d + p.payload_offset + 2 * bytes, bytes);
  return p.header;
}

}  // namespace omnicoder

namespace omnicoder {

Result<std::string> CheckpointStateSha256(const std::string& path) {
  OC_ASSIGN_OR_RETURN(Parsed p, Open(path));
  Sha256 h;
  h.Update(p.map->data() + p.payload_offset, p.header.n_floats * 3 * sizeof(float));
  return h.HexDigest();
}

}  // namespace omnicoder
