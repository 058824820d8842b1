// ExpertPager implementation: slot bookkeeping under one mutex, one I/O thread.
#include "runtime/expert_pager.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "base/check.h"
#include "base/strings.h"
#include "kernels/repack.h"
#include "runtime/memory_plan.h"

namespace omnicoder {

namespace {

constexpr uint64_t kAlign = 4096;        // O_DIRECT offset/size/buffer alignment
constexpr uint64_t kChunk = 2ull << 20;  // read size: several in flight per expert

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

uint64_t ExpertPager::SlotBytes(const std::vector<std::vector<FfnWeights>>& experts, const uint8_t* base) {
  uint64_t max_bytes = 0;
  for (const auto& layer : experts) {
    for (const FfnWeights& e : layer) {
      uint64_t total = 0;
      for (const WeightMatrix* m : {&e.gate, &e.up, &e.down}) {
        const uint64_t off = static_cast<uint64_t>(m->data - base);
        const uint64_t begin = off / kAlign * kAlign, end = (off + m->bytes() + kAlign - 1) / kAlign * kAlign;
        total += end - begin;
      }
      max_bytes = std::max(max_bytes, total);
    }
  }
  return max_bytes;
}

Result<std::unique_ptr<ExpertPager>> ExpertPager::Create(const ModelConfig& config,
                                                         const std::vector<std::vector<FfnWeights>>& experts,
                                                         const uint8_t* base, const PagerOptions& o) {
  std::unique_ptr<ExpertPager> p(new ExpertPager());
  p->experts_ = &experts;
  p->file_base_ = base;
  p->options_ = o;
  p->n_layers_ = config.n_layers;
  p->n_experts_ = config.MaxExperts();
  p->k_ = config.MaxExpertsActive();
  for (const LayerSpec& l : config.layers) p->total_experts_ += l.n_experts;
  if (o.n_slots < p->k_) {
    return InvalidArgument(
        StrFormat("the expert pool needs at least %d slots (one layer's experts), got %d", p->k_, o.n_slots));
  }
  p->slot_bytes_ = SlotBytes(experts, base);
  p->regions_.resize(experts.size());
  for (size_t l = 0; l < experts.size(); ++l) {
    for (const FfnWeights& e : experts[l]) {
      std::vector<Region> rs;
      uint64_t slot_off = 0;
      for (const WeightMatrix* m : {&e.gate, &e.up, &e.down}) {
        const uint64_t off = static_cast<uint64_t>(m->data - base);
        const uint64_t begin = off / kAlign * kAlign, end = (off + m->bytes() + kAlign - 1) / kAlign * kAlign;
        rs.push_back({begin, end - begin, off - begin, slot_off});
        slot_off += end - begin;
      }
      p->regions_[l].push_back(rs);
    }
  }
  OC_RETURN_IF_ERROR(p->pool_.Allocate(p->slot_bytes_ * static_cast<uint64_t>(o.n_slots)));
  p->fd_ = ::open(o.path.c_str(), O_RDONLY | O_CLOEXEC | O_DIRECT);
  p->direct_io_ = p->fd_ >= 0;
  if (p->fd_ < 0) p->fd_ = ::open(o.path.c_str(), O_RDONLY | O_CLOEXEC);  // e.g. tmpfs: no O_DIRECT
  if (p->fd_ < 0) return IoError("cannot open '" + o.path + "' for expert reads: " + std::strerror(errno));
  if (o.policy == PagerPolicy::kMin) {
    return InvalidArgument("eviction policy 'min' needs the future; it exists only in pager-sim");
  }
  p->prefetch_ = o.prefetch && PrefetchFits(o.n_slots, p->k_);
  p->max_concurrent_ = p->prefetch_ ? o.n_slots - p->k_ : o.n_slots;
  p->slots_ = ExpertSlots(o.n_slots, p->n_layers_ * p->n_experts_, o.policy);
  p->info_.resize(o.n_slots);
  p->jobs_.resize(o.n_slots);
  p->predicted_.assign(static_cast<size_t>(p->n_layers_) * p->k_, -1);
  for (int i = 0; i < std::max(1, o.io_threads); ++i) {
    p->io_threads_.emplace_back([raw = p.get()] { raw->IoLoop(); });
  }
  return p;
}

ExpertPager::~ExpertPager() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  work_cv_.notify_all();
  for (std::thread& t : io_threads_) t.join();
  if (fd_ >= 0) ::close(fd_);
}

Status ExpertPager::ReadChunk(const Chunk& c) {
  const Job& job = jobs_[c.slot];  // key and regions do not change while chunks are queued
  const int layer = job.key / n_experts_, expert = job.key % n_experts_;
  const Region& r = regions_[layer][expert][c.region];
  const WeightMatrix* mats[3] = {&(*experts_)[layer][expert].gate, &(*experts_)[layer][expert].up,
                                 &(*experts_)[layer][expert].down};
  const uint64_t need_total = r.skip + mats[c.region]->bytes();
  const uint64_t need = need_total > c.offset ? std::min(c.bytes, need_total - c.offset) : 0;
  uint8_t* dst = pool_.data() + static_cast<uint64_t>(c.slot) * slot_bytes_ + r.slot_offset + c.offset;
  uint64_t got = 0;
  while (got < need) {
    const ssize_t n = pread(fd_, dst + got, c.bytes - got, static_cast<off_t>(r.aligned_offset + c.offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return IoError(StrFormat("reading expert %d of layer %d from '%s': %s", expert, layer, options_.path.c_str(),
                               n < 0 ? std::strerror(errno) : "the file is shorter than its tensors (truncated?)"));
    }
    got += static_cast<uint64_t>(n);
  }
  return Status::Ok();
}

Status ExpertPager::FinishExpert(int slot, int key, FfnWeights* out) {
  const int layer = key / n_experts_, expert = key % n_experts_;
  if (options_.inject_read_error) OC_RETURN_IF_ERROR(options_.inject_read_error(layer, expert));
  uint8_t* dst = pool_.data() + static_cast<uint64_t>(slot) * slot_bytes_;
  const FfnWeights& loc = (*experts_)[layer][expert];
  const WeightMatrix* mats[3] = {&loc.gate, &loc.up, &loc.down};
  WeightMatrix* outs[3] = {&out->gate, &out->up, &out->down};
  for (int i = 0; i < 3; ++i) {
    const Region& r = regions_[layer][expert][i];
    *outs[i] = *mats[i];
    outs[i]->data = dst + r.slot_offset + r.skip;
    outs[i]->layout = WeightLayout::kRows;
    const MatMulKernel& k = options_.kernels->matmul[static_cast<uint32_t>(outs[i]->type)];
    if (k.prefer_x8 && CanInterleave8(outs[i]->type, outs[i]->rows, outs[i]->cols)) {
      Interleave8(outs[i]->type, const_cast<uint8_t*>(outs[i]->data), outs[i]->rows, outs[i]->row_bytes);
      outs[i]->layout = WeightLayout::kInterleaved8;
    }
  }
  return Status::Ok();
}

void ExpertPager::Enqueue(int slot, int key, bool prefetch) {
  Job& job = jobs_[slot];
  job = Job();
  job.key = key;
  job.prefetch = prefetch;
  std::deque<Chunk>& q = prefetch ? prefetches_ : demand_;
  const auto& regions = regions_[key / n_experts_][key % n_experts_];
  for (int i = 0; i < static_cast<int>(regions.size()); ++i) {
    for (uint64_t off = 0; off < regions[i].read_bytes; off += kChunk) {
      q.push_back({slot, i, off, std::min(kChunk, regions[i].read_bytes - off)});
      ++job.chunks_left;
    }
  }
}

void ExpertPager::Promote(int slot) {
  for (auto it = prefetches_.begin(); it != prefetches_.end();) {
    if (it->slot == slot) {
      demand_.push_back(*it);
      it = prefetches_.erase(it);
    } else {
      ++it;
    }
  }
}

void ExpertPager::IoLoop() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    work_cv_.wait(lock, [this] { return stop_ || !demand_.empty() || !prefetches_.empty(); });
    if (stop_) return;
    std::deque<Chunk>& q = demand_.empty() ? prefetches_ : demand_;
    const Chunk chunk = q.front();
    q.pop_front();
    if (reads_in_flight_++ == 0) busy_since_ = Now();
    lock.unlock();
    Status s = ReadChunk(chunk);
    lock.lock();
    if (--reads_in_flight_ == 0) counters_.read_seconds += Now() - busy_since_;
    Job& job = jobs_[chunk.slot];
    counters_.bytes_read += chunk.bytes;
    if (!s.ok() && job.error.ok()) job.error = s;
    if (--job.chunks_left > 0) continue;
    // The expert's last chunk: repack (outside the lock) and publish.
    const int key = job.key;
    const bool prefetch = job.prefetch;
    Status err = job.error;
    lock.unlock();
    FfnWeights w;
    if (err.ok()) err = FinishExpert(chunk.slot, key, &w);
    lock.lock();
    SlotInfo& info = info_[chunk.slot];
    if (err.ok()) {
      info.state = State::kReady;
      info.weights = w;
    } else {
      info.state = State::kFailed;
      info.error = err;
    }
    slots_.Unpin(chunk.slot);  // the loading pin
    if (prefetch) --prefetch_loading_;
    ready_cv_.notify_all();
  }
}

int ExpertPager::ClaimSlot(int key) {
  const int s = slots_.Victim();
  if (s < 0) return -1;
  SlotInfo& info = info_[s];
  if (info.prefetched_unused) ++counters_.prefetch_wasted;
  slots_.Assign(s, key);
  info = SlotInfo();
  info.state = State::kLoading;
  slots_.Pin(s);  // released by the I/O thread when the read completes
  return s;
}

void ExpertPager::OnRouted(int layer_idx, const int* ids, int n_ids) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++clock_;
  if (n_ids == k_) {  // one token: score the prediction made for this layer
    ++counters_.decode_tokens;
    int* pred = predicted_.data() + static_cast<size_t>(layer_idx) * k_;
    if (pred[0] >= 0) {
      counters_.routed += k_;
      for (int j = 0; j < k_; ++j) {
        ++counters_.predicted;
        counters_.predicted_used += std::find(ids, ids + n_ids, pred[j]) != ids + n_ids;
        pred[j] = -1;
      }
    }
  }
}

void ExpertPager::BeginWave(int layer_idx, const int* ids, int n_ids) {
  // Unreachable from input: the MoE block cuts its waves at MaxConcurrent() (BeginNextWave
  // in model/blocks/moe.cc); the loop below also stops there in release builds.
  OC_DCHECK(n_ids <= max_concurrent_);
  std::lock_guard<std::mutex> lock(mutex_);
  // Start the reads of the wave's experts now, in the order the MoE block acquires them.
  for (int i = 0; i < n_ids && i < max_concurrent_; ++i) {
    const int key = layer_idx * n_experts_ + ids[i];
    slots_.Use(key, clock_);
    int s = slots_.Find(key);
    if (s >= 0) {
      Promote(s);  // if still queued as a prefetch, now it is needed
    } else {
      s = ClaimSlot(key);
      if (s < 0) break;
      ++counters_.misses;
      info_[s].demand_counted = true;
      Enqueue(s, key, false);
    }
    Hold(s);  // until its Acquire: no claim of this wave or prefetch may evict it
    info_[s].reserved = true;
  }
  work_cv_.notify_all();
}

Result<FfnWeights> ExpertPager::Acquire(int layer_idx, int expert_idx) {
  std::unique_lock<std::mutex> lock(mutex_);
  const int key = layer_idx * n_experts_ + expert_idx;
  ++counters_.acquires;
  slots_.Use(key, clock_);
  int s = slots_.Find(key);
  if (s < 0) {  // not started by BeginWave (a caller that skipped it): demand it now
    s = ClaimSlot(key);
    if (s < 0) return Internal("every expert slot is in use");
    ++counters_.misses;
    Enqueue(s, key, false);
    work_cv_.notify_all();
    Hold(s);
  } else {
    if (info_[s].reserved) {
      info_[s].reserved = false;  // the hold BeginWave placed becomes this Acquire's
    } else {
      Hold(s);
    }
    if (info_[s].demand_counted) {
      info_[s].demand_counted = false;  // counted as a miss when BeginWave started its read
    } else if (info_[s].prefetched_unused) {
      ++counters_.prefetch_hits;
      info_[s].prefetched_unused = false;
    } else {
      ++counters_.hits;
    }
    if (info_[s].state == State::kLoading) Promote(s);  // a queued prefetch is now needed
  }
  SlotInfo& info = info_[s];
  if (info.state == State::kLoading) {
    const double t0 = Now();
    ready_cv_.wait(lock, [&] { return info.state != State::kLoading; });
    counters_.stall_seconds += Now() - t0;
  }
  if (info.state == State::kFailed) {
    const Status err = info.error;
    Unhold(s);
    slots_.Assign(s, -1);
    info = SlotInfo();
    return err;
  }
  return info.weights;
}

void ExpertPager::Release(int layer_idx, int expert_idx) {
  std::lock_guard<std::mutex> lock(mutex_);
  const int s = slots_.Find(layer_idx * n_experts_ + expert_idx);
  if (s >= 0 && info_[s].holds > 0) {
    info_[s].reserved = false;
    Unhold(s);
  }
}

void ExpertPager::Hold(int slot) {
  slots_.Pin(slot);
  ++info_[slot].holds;
}

void ExpertPager::Unhold(int slot) {
  slots_.Unpin(slot);
  --info_[slot].holds;
}

void ExpertPager::Prefetch(int layer_idx, const int* ids, int n_ids) {
  if (!prefetch_ || layer_idx >= n_layers_) return;
  std::lock_guard<std::mutex> lock(mutex_);
  int* pred = predicted_.data() + static_cast<size_t>(layer_idx) * k_;
  for (int j = 0; j < k_; ++j) pred[j] = j < n_ids ? ids[j] : -1;
  for (int j = 0; j < n_ids; ++j) {
    const int key = layer_idx * n_experts_ + ids[j];
    if (slots_.Find(key) >= 0) continue;
    // At most k prefetched slots are pinned by unfinished reads: with MoE waves of at most
    // n_slots - k experts, a demand read always finds a slot.
    if (prefetch_loading_ >= k_) break;
    const int slot = ClaimSlot(key);
    if (slot < 0) break;
    info_[slot].prefetched_unused = true;
    ++counters_.prefetch_issued;
    ++prefetch_loading_;
    Enqueue(slot, key, true);
  }
  work_cv_.notify_all();
}

PagerStats ExpertPager::counters() const {
  std::lock_guard<std::mutex> lock(mutex_);
  PagerStats c = counters_;
  c.slots = slots_.n_slots();
  c.total_experts = total_experts_;
  return c;
}

}  // namespace omnicoder
