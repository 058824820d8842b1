// QuantizeModelFile: `omnicoder quantize` — rewrite a GGUF with its weight matrices in
// another block format, one tensor at a time, rows in parallel, written atomically.
#include <atomic>

#include "api/api_impl.h"
#include "api/quant_mix.h"
#include "base/atomic_file.h"
#include "base/strings.h"
#include "format/gguf_writer.h"

namespace omnicoder {

namespace {

bool EndsWith(const std::string& s, const char* suffix) {
  const size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

// The type a tensor is written in: matrices get the target (or its mix's type), except
// the router (kept precise), 1-D tensors (norms/biases) and rows the type's block does not
// divide. Without --pure, output.weight gets Q6_K for 4- and 5-bit targets (llama.cpp's
// choice). attn_v_index: attention-value-like matrices before this one.
DType TargetFor(const GgufTensorInfo& t, const QuantTarget& target, const MixFacts& facts, bool pure,
                int attn_v_index) {
  const DType src = static_cast<DType>(t.type_id);
  if (t.n_dims < 2 || !EndsWith(t.name, ".weight") || t.name.find("ffn_gate_inp") != std::string::npos) return src;
  DType want = pure ? target.type : MixType(target, facts, t.name, attn_v_index);
  if (!pure && t.name == "output.weight") {
    switch (target.type) {
      case DType::kQ4_0:
      case DType::kQ4_1:
      case DType::kQ5_0:
      case DType::kQ5_1:
      case DType::kQ4_K:
      case DType::kQ5_K:
        want = DType::kQ6_K;
        break;
      default:
        break;
    }
  }
  const int bs = GetDTypeTraits(want).block_size;
  if (t.dims[0] % bs != 0) want = t.dims[0] % 32 == 0 ? DType::kQ8_0 : DType::kF16;
  return want;
}

}  // namespace

Status QuantizeModelFile(const std::string& input, const std::string& output, const QuantizeOptions& options) {
  QuantTarget target;
  if (!ParseQuantTarget(options.type, &target)) {
    return InvalidArgument("cannot quantize to '" + options.type +
                           "' (supported: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q4_K_S, Q4_K_M, Q5_K, Q5_K_S, Q5_K_M, "
                           "Q6_K, MXFP4, F16, BF16, F32)");
  }
  if (options.n_threads < 0 || options.n_threads > 1024) {
    return InvalidArgument("quantize thread count must be in [0, 1024] (0 = one)");
  }
  OC_ASSIGN_OR_RETURN(std::unique_ptr<GgufFile> in, GgufFile::Open(input));
  // The input is mapped (and registered) now: the output may not be the same file under
  // any name, nor a device; refused before any work.
  OC_RETURN_IF_ERROR(CheckOutputPath(output));
  auto pool = std::make_shared<ThreadPool>(options.n_threads > 0 ? options.n_threads : 1);
  GgufWriter w(static_cast<uint32_t>(in->alignment()));
  for (const auto& [key, value] : in->metadata()) {
    if (key != "general.alignment") w.CopyValue(key, value);
  }
  w.SetUint32("general.file_type", target.file_type);
  w.SetUint32("general.quantization_version", 2);
  const GgufFile* src = in.get();
  auto done = std::make_shared<std::atomic<size_t>>(0);
  const size_t n_tensors = in->tensors().size();
  const MixFacts facts = ReadMixFacts(*in);
  int attn_v_index = 0;
  for (const GgufTensorInfo& t : in->tensors()) {
    const DType from = static_cast<DType>(t.type_id);
    const DType to = TargetFor(t, target, facts, options.pure, attn_v_index);
    attn_v_index += IsAttnVLike(t.name) ? 1 : 0;
    std::vector<int64_t> dims(t.dims, t.dims + t.n_dims);
    const GgufTensorInfo* tp = &t;
    auto progress = options.progress;
    OC_RETURN_IF_ERROR(w.AddTensor(t.name, to, dims, [=](uint8_t* dst, size_t n_bytes) -> Status {
      const int64_t cols = tp->dims[0];
      const int64_t rows = static_cast<int64_t>(tp->n_elements() / cols);
      const DTypeTraits& fi = GetDTypeTraits(from);
      const DTypeTraits& ti = GetDTypeTraits(to);
      const size_t in_row = RowBytes(from, cols), out_row = RowBytes(to, cols);
      if (from == to) {
        std::memcpy(dst, tp->data, n_bytes);
      } else {
        pool->ParallelFor(rows, 1, [&](int64_t r0, int64_t r1, int) {
          std::vector<float> buf(static_cast<size_t>(cols));
          for (int64_t r = r0; r < r1; ++r) {
            fi.dequantize(tp->data + r * in_row, buf.data(), cols);
            ti.quantize(buf.data(), dst + r * out_row, cols);
          }
        });
      }
      const size_t k = ++*done;
      if (progress) {
        progress(StrFormat("[%zu/%zu] %-36s %s -> %s", k, n_tensors, tp->name.c_str(), fi.name, ti.name));
      }
      return Status::Ok();
    }));
  }
  (void)src;
  return w.WriteFile(output);
}

}  // namespace omnicoder
