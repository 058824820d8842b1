// SHA-256 (FIPS 180-4), incremental: content hashes for corpora, tokenizers and checkpoints.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace omnicoder {

class Sha256 {
 public:
  Sha256();
  void Update(const void* data, size_t n);
  // The digest as 64 lowercase hex characters; the object must not be updated after.
  std::string HexDigest();
  void Digest(uint8_t out[32]);

 private:
  void Block(const uint8_t* p);
  uint32_t h_[8];
  uint8_t buf_[64];
  size_t buf_len_ = 0;
  uint64_t total_ = 0;
};

std::string Sha256Hex(std::string_view data);

}  // namespace omnicoder
