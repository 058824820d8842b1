// The C API's handle types and its error plumbing (shared by the c_api*.cc files).
#pragma once

#include <cstdint>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "omnicoder/omnicoder.h"
#include "omnicoder/omnicoder_c.h"

struct oc_engine {
  std::unique_ptr<omnicoder::Engine> engine;
  std::string isa;
};
struct oc_model {
  std::unique_ptr<omnicoder::Model> model;
};
struct oc_session {
  std::unique_ptr<omnicoder::Session> session;
  std::vector<omnicoder::BatchToken> batch;  // reused by oc_session_decode
};
struct oc_sampler {
  std::unique_ptr<omnicoder::Sampler> sampler;
  int32_t vocab_size = 0;
};

namespace omnicoder::capi {

// Records the message for oc_last_error and returns the matching code.
oc_status Fail(oc_status code, const std::string& message);
oc_status FromStatus(const Status& status);
// A required pointer argument that is NULL.
oc_status NullArgument(const char* what);

// Runs body (returning oc_status) with every exception turned into an error: nothing
// unwinds into C.
template <typename F>
oc_status Guard(F&& body) noexcept {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return Fail(OC_ERR_OUT_OF_MEMORY, "out of memory");
  } catch (const std::exception& e) {
    return Fail(OC_ERR_INTERNAL, std::string("internal error: ") + e.what());
  } catch (...) {
    return Fail(OC_ERR_INTERNAL, "internal error");
  }
}

// The integer a caller stored in a C enum field. C allows any int there; reading it as the
// enum type in C++ is undefined when it names no enumerator, so it is read as its bytes.
template <typename E>
int32_t RawEnum(const E& field) {
  static_assert(sizeof(E) == sizeof(int32_t), "C enums are int-sized");
  int32_t v;
  std::memcpy(&v, &field, sizeof(v));
  return v;
}

// Copies bytes (plus a NUL when nul) into buf of capacity *len; *len becomes the size needed.
oc_status CopyOut(const std::string& bytes, bool nul, char* buf, size_t* len);

}  // namespace omnicoder::capi
