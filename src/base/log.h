// Logging: the library never prints; it hands lines to a sink the application sets.
//
// Thread safety: Log() may be called from any thread; the sink must tolerate that.
#pragma once

#include <functional>
#include <string>

#include "omnicoder/types.h"

namespace omnicoder {

using LogSink = std::function<void(LogSeverity, const std::string&)>;

class Logger {
 public:
  Logger() = default;
  explicit Logger(LogSink sink) : sink_(std::move(sink)) {}
  void Log(LogSeverity level, const std::string& line) const {
    if (sink_) sink_(level, line);
  }
  void Info(const std::string& line) const { Log(LogSeverity::kInfo, line); }
  void Warn(const std::string& line) const { Log(LogSeverity::kWarning, line); }

 private:
  LogSink sink_;
};

}  // namespace omnicoder
