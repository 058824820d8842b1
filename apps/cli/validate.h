// Checks of CLI input at the edge: every option is parsed strictly and range-checked with
// a message that names the valid range; stdout write errors and signals are handled here.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace omnicoder::cli {

// threads < 0 is an error; more than MaxUsefulThreads() is capped with a message.
bool CheckThreads(int* threads, const char* flag);
// "-1" (random) or an integer in [0, 2^64 - 1].
bool ParseSeed(const std::string& text, int64_t* seed_or_minus_one, uint64_t* seed);
// Decimal digits only, in [lo, hi].
bool ParseUint(const std::string& text, uint64_t lo, uint64_t hi, uint64_t* out);
// "1,2,3" or whitespace-separated: decimal ids, no signs, no empty items.
bool ParseTokenIds(const std::string& text, std::vector<int32_t>* out, std::string* error);
// A prompt/token file: a regular file of at most 64 MiB (prints the reason on failure).
bool ReadTextInput(const std::string& path, const char* what, std::string* out);
// Flushes stdout; on a write error prints the reason and returns 1, else rc.
int FinishStdout(int rc);
// SIGINT/SIGTERM: pending output temp files are removed; with `graceful`, the first signal
// only sets Interrupted() (run finishes its token and prints statistics), a second kills.
void InstallSignalHandlers(bool graceful);
bool Interrupted();

}  // namespace omnicoder::cli
