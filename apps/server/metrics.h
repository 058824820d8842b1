// /metrics in Prometheus' text format: HTTP answers by status, requests, tokens, speed,
// slots, queue, expert pager and resident memory.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "apps/server/scheduler.h"
#include "omnicoder/omnicoder.h"

namespace omnicoder::server {

struct HttpCounters {
  std::atomic<uint64_t> rejected{0};  // 503: queue full
  void Count(int status) {
    std::lock_guard<std::mutex> lock(mu);
    ++by_status[status];
  }
  std::map<int, uint64_t> Snapshot() const {
    std::lock_guard<std::mutex> lock(mu);
    return by_status;
  }

 private:
  mutable std::mutex mu;
  std::map<int, uint64_t> by_status;
};

// model and scheduler are null while the model loads.
std::string MetricsText(const HttpCounters& http, const Model* model, const Scheduler* scheduler);

// Resident set size of this process (0 if unknown).
uint64_t ProcessResidentBytes();

}  // namespace omnicoder::server
