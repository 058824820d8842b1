// Logging: the library never prints; it hands lines to a sink the application sets.
//
// Thread safety: Log() may be called from any thread; the sink must tolerate that.
#pragma once

#include <functional>
#include <string>

namespace omnicoder {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

using LogSink = std::function<void(LogLevel, const std::string&)>;

class Logger {
 public:
  Logger() = default;
  explicit Logger(LogSink sink) : sink_(std::move(sink)) {}
  void Log(LogLevel level, const std::string& line) const {
    if (sink_) sink_(level, line);
  }
  void Info(const std::string& line) const { Log(LogLevel::kInfo, line); }
  void Warn(const std::string& line) const { Log(LogLevel::kWarn, line); }

 private:
  LogSink sink_;
};

}  // namespace omnicoder
