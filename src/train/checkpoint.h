// Training checkpoints: everything a run needs to continue bit-exactly.
//
// Format: "OCCKPT01", u64 header length, header text ("key value" lines: step, data
// position, RNG state, float count, hashes of the config, tokenizer, data and parameter
// layout, elapsed seconds), then params, Adam m and v as little-endian f32, then the
// SHA-256 of all preceding bytes (32 bytes). Written through AtomicFile, so a kill at
// any moment leaves the previous checkpoint intact; a damaged file fails its SHA-256.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"

namespace omnicoder {

struct CheckpointHeader {
  int step = 0;               // optimizer steps completed
  int64_t data_position = 0;  // training sequences consumed
  uint64_t rng_state = 0;
  uint64_t n_floats = 0;
  std::string config_sha256, tokenizer_sha256, data_sha256, layout_sha256;
  double elapsed_seconds = 0;  // training time so far (all sittings)
};

struct CheckpointBuffers {
  float* params;
  float* m;
  float* v;
  uint64_t n_floats;
};

Status SaveCheckpoint(const std::string& path, const CheckpointHeader& header, const CheckpointBuffers& b);
// Reads the header only (to decide whether a run can resume).
Result<CheckpointHeader> ReadCheckpointHeader(const std::string& path);
// Verifies the SHA-256 and fills the buffers (n_floats must match).
Result<CheckpointHeader> LoadCheckpoint(const std::string& path, const CheckpointBuffers& b);

}  // namespace omnicoder

namespace omnicoder {
// SHA-256 of the params, m and v payload of a checkpoint (not its header).
Result<std::string> CheckpointStateSha256(const std::string& path);
}  // namespace omnicoder
