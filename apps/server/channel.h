// What the scheduler sends a waiting HTTP handler about one request, and the channel it
// goes through (one producer: the scheduler thread; one consumer: the handler).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace omnicoder::server {

enum class FinishReason { kNone, kStop, kLength, kError };
const char* FinishReasonName(FinishReason reason);  // "stop", "length", "error"

struct TokenLogprob {
  int32_t token = 0;
  float logprob = 0;
  std::vector<std::pair<int32_t, float>> top;  // most likely tokens, best first
};

struct StreamEvent {
  std::string text;                    // new text, safe to send (whole UTF-8, no stop string)
  std::vector<TokenLogprob> logprobs;  // the tokens behind it (when asked for)
  FinishReason finish = FinishReason::kNone;
  std::string error;                                                // with kError
  int prompt_tokens = 0, completion_tokens = 0, cached_tokens = 0;  // usage, on the last event
};

class RequestChannel {
 public:
  void Push(StreamEvent event) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      events_.push_back(std::move(event));
    }
    cv_.notify_one();
  }
  // Waits up to `wait` for the next event; false when none came.
  bool Pop(StreamEvent* out, std::chrono::milliseconds wait) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_for(lock, wait, [&] { return !events_.empty(); })) return false;
    *out = std::move(events_.front());
    events_.pop_front();
    return true;
  }
  // The client went away: the scheduler frees the request's slot at its next step.
  void Cancel() { cancelled_.store(true, std::memory_order_relaxed); }
  bool cancelled() const { return cancelled_.load(std::memory_order_relaxed); }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<StreamEvent> events_;
  std::atomic<bool> cancelled_{false};
};

}  // namespace omnicoder::server
