// Status and Result<T>: how every input-driven failure is reported in OmniCoder.
//
// Contract: library code never throws and never exits. A function that can fail on
// bad input (files, requests, options) returns Status or Result<T>; the message is
// meant for a user and says what was wrong and, where possible, where.
#pragma once

#include <optional>
#include <string>
#include <utility>

namespace omnicoder {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,  // bad option or request
  kNotFound,         // file, tensor or key missing
  kIoError,          // the OS refused a read/write/map
  kCorruptFile,      // a file violates its format
  kUnsupported,      // valid but not (yet) handled: unknown arch, tensor type
  kOutOfMemory,      // an allocation or budget could not be met
  kInternal,         // a bug; should not happen
};

const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "corrupt file: tensor 'x' offset past end of file"
  std::string ToString() const;
  // Prefixes context to the message, keeping the code: "loading m.gguf: ...".
  Status WithContext(const std::string& context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) {
  return {StatusCode::kInvalidArgument, std::move(m)};
}
inline Status NotFound(std::string m) {
  return {StatusCode::kNotFound, std::move(m)};
}
inline Status IoError(std::string m) {
  return {StatusCode::kIoError, std::move(m)};
}
inline Status CorruptFile(std::string m) {
  return {StatusCode::kCorruptFile, std::move(m)};
}
inline Status Unsupported(std::string m) {
  return {StatusCode::kUnsupported, std::move(m)};
}
inline Status OutOfMemory(std::string m) {
  return {StatusCode::kOutOfMemory, std::move(m)};
}
inline Status Internal(std::string m) {
  return {StatusCode::kInternal, std::move(m)};
}

// A value or the Status explaining why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    if (status_.ok()) status_ = Status(StatusCode::kInternal, "Result built from an ok Status");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace omnicoder

#define OC_STATUS_CONCAT_INNER(a, b) a##b
#define OC_STATUS_CONCAT(a, b) OC_STATUS_CONCAT_INNER(a, b)

#define OC_RETURN_IF_ERROR(expr)                   \
  do {                                             \
    ::omnicoder::Status oc_status_tmp = (expr);    \
    if (!oc_status_tmp.ok()) return oc_status_tmp; \
  } while (0)

// lhs is a declaration ("auto x" or "T x"), so it cannot be parenthesized.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define OC_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return tmp.status();            \
  lhs = std::move(tmp).value()
// NOLINTEND(bugprone-macro-parentheses)

#define OC_ASSIGN_OR_RETURN(lhs, expr) OC_ASSIGN_OR_RETURN_IMPL(OC_STATUS_CONCAT(oc_result_, __LINE__), lhs, expr)
