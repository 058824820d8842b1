// Writing and loading token shards.
#include "train/shards.h"

#include <sys/stat.h>

#include <cstring>
#include <sstream>

#include "base/atomic_file.h"
#include "base/hash.h"
#include "base/sha256.h"
#include "base/strings.h"
#include "threading/thread_pool.h"
#include "tokenizer/tokenizer.h"

namespace omnicoder {

namespace {

// A byte offset in [0, n] moved back to a UTF-8 character boundary.
size_t CharBoundary(std::string_view s, size_t i) {
  while (i > 0 && i < s.size() && (static_cast<uint8_t>(s[i]) & 0xC0) == 0x80) --i;
  return i;
}

// Tokens of one file: plain, or prefix/suffix/middle in PSM order; then end-of-text.
void EncodeFile(const Tokenizer& tok, const SpecialTokens& sp, std::string_view text, bool fim, uint64_t r,
                std::vector<int32_t>* out) {
  if (!fim) {
    *out = tok.Encode(text, false);
  } else {
    size_t a = CharBoundary(text, SplitMix64(r) % (text.size() + 1)),
           b = CharBoundary(text, SplitMix64(r + 1) % (text.size() + 1));
    if (a > b) std::swap(a, b);
    const std::vector<int32_t> pre = tok.Encode(text.substr(0, a), false),
                               mid = tok.Encode(text.substr(a, b - a), false), suf = tok.Encode(text.substr(b), false);
    out->clear();
    out->push_back(sp.fim_prefix);
    out->insert(out->end(), pre.begin(), pre.end());
    out->push_back(sp.fim_suffix);
    out->insert(out->end(), suf.begin(), suf.end());
    out->push_back(sp.fim_middle);
    out->insert(out->end(), mid.begin(), mid.end());
  }
  out->push_back(sp.eot);
}

struct ShardWriter {
  std::string dir, kind;
  int index = 0;
  bool numbered = true;
  std::vector<uint16_t> buf;
  uint64_t bytes = 0;
  std::string manifest;

  Status Flush() {
    if (buf.empty() && (numbered || index > 0)) return Status::Ok();
    const std::string name = numbered ? StrFormat("%s-%03d.tok", kind.c_str(), index++) : kind + ".tok";
    if (!numbered) ++index;
    Sha256 h;
    h.Update(buf.data(), buf.size() * 2);
    const std::string digest = h.HexDigest();
    OC_RETURN_IF_ERROR(WriteFileAtomically(
        dir + "/" + name, std::string_view(reinterpret_cast<const char*>(buf.data()), buf.size() * 2)));
    manifest += StrFormat("shard\t%s\t%s\t%zu\t%llu\t%s\n", kind.c_str(), name.c_str(), buf.size(),
                          static_cast<unsigned long long>(bytes), digest.c_str());
    buf.clear();
    bytes = 0;
    return Status::Ok();
  }
};

}  // namespace

Result<SpecialTokens> FindSpecialTokens(const Tokenizer& tok) {
  SpecialTokens sp;
  for (int32_t id = 0; id < tok.vocab_size(); ++id) {
    const std::string& t = tok.TokenText(id);
    if (t == "<|endoftext|>") sp.eot = id;
    if (t == "<|fim_prefix|>") sp.fim_prefix = id;
    if (t == "<|fim_middle|>") sp.fim_middle = id;
    if (t == "<|fim_suffix|>") sp.fim_suffix = id;
  }
  if (sp.eot < 0 || sp.fim_prefix < 0 || sp.fim_middle < 0 || sp.fim_suffix < 0) {
    return InvalidArgument("the tokenizer lacks <|endoftext|> or the fill-in-the-middle tokens");
  }
  return sp;
}

Result<std::string> WriteTokenShards(const std::vector<CorpusFile>& files, const Tokenizer& tok, const ShardOptions& o,
                                     ThreadPool& pool, const std::string& out_dir) {
  if (tok.vocab_size() > 65536) return Unsupported("token shards hold 16-bit ids; the vocabulary is larger");
  OC_ASSIGN_OR_RETURN(SpecialTokens sp, FindSpecialTokens(tok));
  mkdir(out_dir.c_str(), 0755);
  std::vector<std::vector<int32_t>> encoded(files.size());
  std::vector<Status> errors(files.size());
  pool.ParallelFor(static_cast<int64_t>(files.size()), 1, [&](int64_t b, int64_t e, int) {
    for (int64_t i = b; i < e; ++i) {
      const CorpusFile& f = files[i];
      Result<std::string> text = ReadSmallFile(f.path, 1 << 26);
      if (!text.ok()) {
        errors[i] = text.status();
        continue;
      }
      if (Sha256Hex(text.value()) != f.sha256) {
        errors[i] = CorruptFile("'" + f.path + "' changed since the corpus manifest was made; rebuild the corpus");
        continue;
      }
      const uint64_t r = SplitMix64(o.seed ^ std::stoull(f.sha256.substr(0, 15), nullptr, 16));
      const bool fim = !f.validation && f.kind == TextKind::kCode && (r % 1000000) < o.fim_rate * 1000000;
      EncodeFile(tok, sp, text.value(), fim, r, &encoded[i]);
    }
  });
  for (const Status& s : errors) OC_RETURN_IF_ERROR(s);
  ShardWriter train, val_code, val_en;
  train.dir = val_code.dir = val_en.dir = out_dir;
  train.kind = "train", val_code.kind = "val-code", val_en.kind = "val-english";
  val_code.numbered = val_en.numbered = false;
  for (size_t i = 0; i < files.size(); ++i) {
    ShardWriter& w = !files[i].validation ? train : files[i].kind == TextKind::kCode ? val_code : val_en;
    for (int32_t t : encoded[i]) w.buf.push_back(static_cast<uint16_t>(t));
    w.bytes += files[i].bytes;
    if (&w == &train && static_cast<int64_t>(w.buf.size()) >= o.tokens_per_shard) OC_RETURN_IF_ERROR(w.Flush());
  }
  OC_RETURN_IF_ERROR(train.Flush());
  OC_RETURN_IF_ERROR(val_code.Flush());
  OC_RETURN_IF_ERROR(val_en.Flush());
  std::string manifest = "# omnicoder token shards v1: kind file tokens bytes sha256 (uint16 little-endian ids)\n";
  manifest += "tokenizer\t" + o.tokenizer_sha256 + "\ncorpus\t" + o.corpus_sha256 + "\n";
  manifest += StrFormat("options\tfim_rate=%g\tseed=%llu\n", o.fim_rate, static_cast<unsigned long long>(o.seed));
  manifest += train.manifest + val_code.manifest + val_en.manifest;
  OC_RETURN_IF_ERROR(WriteFileAtomically(out_dir + "/shards.tsv", manifest));
  return manifest;
}

int64_t ShardSet::TrainTokens() const {
  int64_t n = 0;
  for (const Shard& s : shards) n += s.kind == "train" ? s.n_tokens : 0;
  return n;
}

void ShardSet::Gather(const std::string& kind, std::vector<int32_t>* out, uint64_t* bytes) const {
  out->clear();
  *bytes = 0;
  for (const Shard& s : shards) {
    if (s.kind != kind) continue;
    for (int64_t i = 0; i < s.n_tokens; ++i) out->push_back(s.tokens()[i]);
    *bytes += s.bytes;
  }
}

Result<ShardSet> LoadShards(const std::string& dir, int vocab_size) {
  OC_ASSIGN_OR_RETURN(std::string manifest, ReadSmallFile(dir + "/shards.tsv", 1 << 24));
  ShardSet set;
  set.manifest_sha256 = Sha256Hex(manifest);
  std::istringstream in(manifest);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> f;
    std::stringstream ss(line);
    std::string part;
    while (std::getline(ss, part, '\t')) f.push_back(part);
    if (f[0] == "tokenizer" && f.size() == 2) set.tokenizer_sha256 = f[1];
    if (f[0] == "corpus" && f.size() == 2) set.corpus_sha256 = f[1];
    if (f[0] != "shard") continue;
    if (f.size() != 6 || f[2].find('/') != std::string::npos)
      return CorruptFile("bad shard line in " + dir + "/shards.tsv");
    Shard s;
    s.kind = f[1], s.file = f[2], s.sha256 = f[5];
    s.n_tokens = std::strtoll(f[3].c_str(), nullptr, 10);
    s.bytes = std::strtoull(f[4].c_str(), nullptr, 10);
    OC_ASSIGN_OR_RETURN(s.map, MappedFile::Open(dir + "/" + s.file));
    if (s.map->size() != static_cast<size_t>(s.n_tokens) * 2)
      return CorruptFile("shard " + s.file + " has the wrong size");
    Sha256 h;
    h.Update(s.map->data(), s.map->size());
    if (h.HexDigest() != s.sha256) return CorruptFile("shard " + s.file + " does not match its SHA-256 in shards.tsv");
    for (int64_t i = 0; i < s.n_tokens; ++i) {
      if (s.tokens()[i] >= vocab_size) return CorruptFile("shard " + s.file + " holds a token outside the vocabulary");
    }
    set.shards.push_back(std::move(s));
  }
  if (set.TrainTokens() == 0) return CorruptFile(dir + "/shards.tsv lists no training tokens");
  return set;
}

}  // namespace omnicoder
