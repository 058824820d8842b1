// ExpertSlots policies, routing traces and the pager simulator.
#include "runtime/expert_cache.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <random>
#include <sstream>

#include "base/strings.h"

namespace omnicoder {

ExpertSlots::ExpertSlots(int n_slots, int n_keys, PagerPolicy policy)
    : policy_(policy), slots_(n_slots), key_slot_(n_keys, -1), history_(n_keys) {}

double ExpertSlots::ScoreAt(const History& h, uint64_t now) const {
  return h.score * std::exp2(-static_cast<double>(now - h.last) / kLfuHalfLife);
}

void ExpertSlots::Use(int key, uint64_t now) {
  History& h = history_[key];
  now_ = now;
  if (h.last == now) return;  // several uses in one step count once
  h.score = ScoreAt(h, now) + 1.0;
  h.previous = h.last;
  h.last = now;
}

int ExpertSlots::Victim(const std::vector<uint64_t>* next_use) const {
  int best = -1;
  for (int s = 0; s < n_slots(); ++s) {
    if (slots_[s].key < 0 && slots_[s].pins == 0) return s;
  }
  auto better = [&](int a, int b) {  // should slot a be evicted before slot b?
    const History& ha = history_[slots_[a].key];
    const History& hb = history_[slots_[b].key];
    switch (policy_) {
      case PagerPolicy::kLru:
        return ha.last < hb.last;
      case PagerPolicy::kLru2:
        if (ha.previous != hb.previous) return ha.previous < hb.previous;
        return ha.last < hb.last;
      case PagerPolicy::kLfu: {
        const double sa = ScoreAt(ha, now_), sb = ScoreAt(hb, now_);
        if (sa != sb) return sa < sb;
        return ha.last < hb.last;
      }
      case PagerPolicy::kMin:
        return (*next_use)[slots_[a].key] > (*next_use)[slots_[b].key];
    }
    return false;
  };
  for (int s = 0; s < n_slots(); ++s) {
    if (slots_[s].pins > 0) continue;
    if (best < 0 || better(s, best)) best = s;
  }
  return best;
}

void ExpertSlots::Assign(int slot, int key) {
  const int old = slots_[slot].key;
  if (old >= 0) key_slot_[old] = -1;
  slots_[slot].key = key;
  if (key >= 0) key_slot_[key] = slot;
}

Status WriteRoutingTrace(const RoutingTrace& t, const std::string& path) {
  OC_ASSIGN_OR_RETURN(std::unique_ptr<AtomicFile> f, AtomicFile::Create(path));
  OC_RETURN_IF_ERROR(f->Write(StrFormat("# routing-trace layers %d experts %d k %d\n", t.n_layers, t.n_experts, t.k)));
  const int n_tokens = t.n_tokens();
  std::string line;
  for (int tok = 0; tok < n_tokens; ++tok) {
    for (int l = 0; l < t.n_layers; ++l) {
      line = StrFormat("%d %d", tok, l);
      for (int j = 0; j < t.k; ++j)
        line += " " + std::to_string(t.experts[(static_cast<size_t>(tok) * t.n_layers + l) * t.k + j]);
      line += '\n';
      OC_RETURN_IF_ERROR(f->Write(line));
    }
  }
  return f->Commit();
}

namespace {

constexpr uint64_t kMaxTraceBytes = 1ull << 30;

// Parses "tok layer e1 ... ek" of line `line_no`; every id in [0, n_experts), distinct,
// nothing after the k-th.
Status ParseTraceLine(const std::string& path, int64_t line_no, const std::string& line, int64_t expect_tok,
                      int64_t expect_layer, RoutingTrace* t) {
  auto bad = [&](const char* what) {
    return CorruptFile(
        StrFormat("routing trace '%s' line %lld: %s", path.c_str(), static_cast<long long>(line_no), what));
  };
  std::istringstream ss(line);
  int64_t tok = -1, layer = -1;
  ss >> tok >> layer;
  if (tok != expect_tok || layer != expect_layer) {
    return CorruptFile(StrFormat("routing trace '%s' line %lld: expected token %lld layer %lld", path.c_str(),
                                 static_cast<long long>(line_no), static_cast<long long>(expect_tok),
                                 static_cast<long long>(expect_layer)));
  }
  const size_t first = t->experts.size();
  for (int j = 0; j < t->k; ++j) {
    int e = -1;
    if (!(ss >> e) || e < 0 || e >= t->n_experts) return bad("bad or missing expert id");
    for (size_t i = first; i < t->experts.size(); ++i) {
      if (t->experts[i] == e) return bad("an expert id is repeated");
    }
    t->experts.push_back(e);
  }
  std::string extra;
  if (ss >> extra) return bad("more expert ids than k");
  return Status::Ok();
}

}  // namespace

Result<RoutingTrace> ReadRoutingTrace(const std::string& path) {
  OC_ASSIGN_OR_RETURN(std::string text, ReadRegularFile(path, kMaxTraceBytes, /*protect=*/false));
  std::istringstream f(text);
  RoutingTrace t;
  std::string line;
  if (!std::getline(f, line)) return CorruptFile("routing trace '" + path + "' is empty");
  std::istringstream head(line);
  std::string hash, kind, l_tag, e_tag, k_tag;
  head >> hash >> kind >> l_tag >> t.n_layers >> e_tag >> t.n_experts >> k_tag >> t.k;
  if (kind != "routing-trace" || t.n_layers <= 0 || t.n_experts <= 0 || t.k <= 0 || t.k > t.n_experts ||
      t.n_layers > 4096 || t.n_experts > 4096) {
    return CorruptFile("routing trace '" + path + "' has no valid header line");
  }
  int64_t expect_tok = 0, expect_layer = 0, line_no = 1;
  while (std::getline(f, line)) {
    ++line_no;
    if (line.empty()) continue;
    OC_RETURN_IF_ERROR(ParseTraceLine(path, line_no, line, expect_tok, expect_layer, &t));
    if (++expect_layer == t.n_layers) expect_layer = 0, ++expect_tok;
  }
  if (expect_layer != 0) return CorruptFile("routing trace '" + path + "' ends in the middle of a token");
  return t;
}

Result<std::unique_ptr<RoutingTraceWriter>> RoutingTraceWriter::Open(const std::string& path, int n_layers,
                                                                     int n_experts, int k) {
  std::unique_ptr<RoutingTraceWriter> w(new RoutingTraceWriter());
  OC_ASSIGN_OR_RETURN(w->file_, AtomicFile::Create(path));
  w->n_layers_ = n_layers;
  w->k_ = k;
  w->error_ = w->file_->Write(StrFormat("# routing-trace layers %d experts %d k %d\n", n_layers, n_experts, k));
  return w;
}

RoutingTraceWriter::~RoutingTraceWriter() {
  if (!finished_) (void)Finish();  // best effort: an explicit Finish reports errors
}

Status RoutingTraceWriter::Finish() {
  if (finished_) return error_;
  finished_ = true;
  if (error_.ok()) error_ = file_->Commit();
  file_.reset();
  return error_;
}

void RoutingTraceWriter::OnRouted(int layer_idx, const int* ids, int n_ids) {
  const int tokens = n_ids / k_;
  const size_t size = static_cast<size_t>(tokens) * n_layers_ * k_;
  if (layer_idx == 0) batch_.assign(size, -1);
  if (batch_.size() != size || finished_ || !error_.ok()) return;
  for (int t = 0; t < tokens; ++t) {
    std::copy(ids + t * k_, ids + (t + 1) * k_, batch_.begin() + (static_cast<size_t>(t) * n_layers_ + layer_idx) * k_);
  }
  if (layer_idx != n_layers_ - 1) return;
  for (int t = 0; t < tokens && error_.ok(); ++t) {
    for (int l = 0; l < n_layers_; ++l) {
      line_ = StrFormat("%lld %d", static_cast<long long>(next_token_) + t, l);
      for (int j = 0; j < k_; ++j)
        line_ += " " + std::to_string(batch_[(static_cast<size_t>(t) * n_layers_ + l) * k_ + j]);
      line_ += '\n';
      error_ = file_->Write(line_);
    }
  }
  next_token_ += tokens;
}

Result<SimResult> SimulatePager(const RoutingTrace& t, int n_slots, PagerPolicy policy, uint64_t expert_bytes) {
  if (n_slots < t.k)
    return InvalidArgument(StrFormat("%d slots cannot hold the %d experts of one layer", n_slots, t.k));
  const int n_keys = t.n_layers * t.n_experts;
  const size_t n_steps = t.experts.size() / t.k;  // (token, layer) steps in order
  // next_use[i] = step of the next use of the key used at position i (for MIN).
  std::vector<uint64_t> next_use_at(t.experts.size(), UINT64_MAX), next_use(n_keys, UINT64_MAX);
  {
    std::vector<uint64_t> seen(n_keys, UINT64_MAX);
    for (size_t step = n_steps; step-- > 0;) {
      const int layer = static_cast<int>(step % t.n_layers);
      for (int j = 0; j < t.k; ++j) {
        const int key = layer * t.n_experts + t.experts[step * t.k + j];
        next_use_at[step * t.k + j] = seen[key];
        seen[key] = step;
      }
    }
  }
  ExpertSlots slots(n_slots, n_keys, policy);
  SimResult r;
  std::vector<int> pinned;
  for (size_t step = 0; step < n_steps; ++step) {
    const int layer = static_cast<int>(step % t.n_layers);
    pinned.clear();
    for (int j = 0; j < t.k; ++j) {
      const int key = layer * t.n_experts + t.experts[step * t.k + j];
      next_use[key] = next_use_at[step * t.k + j];
      slots.Use(key, step + 1);
      ++r.accesses;
      int s = slots.Find(key);
      if (s < 0) {
        ++r.misses;
        s = slots.Victim(&next_use);
        if (s < 0) return Internal("no evictable slot");
        slots.Assign(s, key);
      }
      if (!slots.Pinned(s)) {
        slots.Pin(s);
        pinned.push_back(s);
      }
    }
    for (int s : pinned) slots.Unpin(s);
  }
  r.bytes = r.misses * expert_bytes;
  return r;
}

RoutingTrace SyntheticTrace(const SyntheticTraceOptions& o) {
  const int n_tokens = o.n_tokens, n_layers = o.n_layers, n_experts = o.n_experts, k = o.k;
  const double zipf_s = o.zipf_s, stickiness = o.stickiness;
  const uint64_t seed = o.seed;
  RoutingTrace t;
  t.n_layers = n_layers, t.n_experts = n_experts, t.k = k;
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<std::vector<int>> rank_to_expert(n_layers, std::vector<int>(n_experts));
  for (auto& perm : rank_to_expert) {
    for (int e = 0; e < n_experts; ++e) perm[e] = e;
    std::shuffle(perm.begin(), perm.end(), rng);
  }
  std::vector<double> cdf(n_experts);
  double z = 0;
  for (int r = 0; r < n_experts; ++r) cdf[r] = (z += 1.0 / std::pow(r + 1.0, zipf_s));
  for (double& c : cdf) c /= z;
  std::vector<int> prev(static_cast<size_t>(n_layers) * k, -1), chosen;
  for (int tok = 0; tok < n_tokens; ++tok) {
    for (int l = 0; l < n_layers; ++l) {
      chosen.clear();
      for (int tries = 0; static_cast<int>(chosen.size()) < k; ++tries) {
        if (tries >= 64) {  // a steep Zipf makes rejection endless: take the most popular unused rank
          for (int r = 0; static_cast<int>(chosen.size()) < k && r < n_experts; ++r) {
            const int e = rank_to_expert[l][r];
            if (std::find(chosen.begin(), chosen.end(), e) == chosen.end()) chosen.push_back(e);
          }
          break;
        }
        int e;
        const int p = prev[static_cast<size_t>(l) * k + chosen.size()];
        if (p >= 0 && u(rng) < stickiness) {
          e = p;
        } else {
          const int r = static_cast<int>(std::lower_bound(cdf.begin(), cdf.end(), u(rng)) - cdf.begin());
          e = rank_to_expert[l][std::min(r, n_experts - 1)];
        }
        if (std::find(chosen.begin(), chosen.end(), e) == chosen.end()) chosen.push_back(e);
      }
      for (int j = 0; j < k; ++j) {
        prev[static_cast<size_t>(l) * k + j] = chosen[j];
        t.experts.push_back(chosen[j]);
      }
    }
  }
  return t;
}

}  // namespace omnicoder
