// UTF-8 helpers and the GPT-2 byte <-> unicode mapping used by byte-level BPE.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace omnicoder {

// Length of the UTF-8 sequence starting with `lead` (1 for continuation/invalid bytes),
// exactly as llama.cpp splits text into symbols.
int Utf8SeqLen(uint8_t lead);
void AppendUtf8(uint32_t cp, std::string* out);
// GPT-2 byte-level encoding: every byte becomes one printable code point.
std::string ByteEncode(std::string_view bytes);
// Inverse of ByteEncode for one token's text; characters outside the map are kept as-is.
std::string ByteDecode(std::string_view text);

}  // namespace omnicoder
