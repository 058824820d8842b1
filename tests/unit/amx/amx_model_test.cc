// The amx level's kernels in whole forward passes: a prompt of 40 tokens (two tiles of 16
// and a short one; MoE experts get shares of it) through tiny dense and MoE models of
// every weight format the level multiplies on tiles gives, for every token, bitwise the
// avx512 level's logits. Natively where the CPU has AMX; everywhere else with the tile
// instructions emulated (kernels/amx_emulated), so the AMX code's use by the forward loop
// (repacked layouts, row ranges per thread, expert batches) is tested on every CPU with
// AVX-512 VNNI and BF16.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <tuple>
#include <vector>

#include "format/gguf.h"
#include "kernels/amx_emulated/emulated_table.h"
#include "kernels/amx_emulated/tile_emulator.h"
#include "kernels/kernel_table.h"
#include "model/forward.h"
#include "runtime/kv_cache.h"
#include "runtime/loaded_model.h"
#include "tests/common/test_models.h"
#include "threading/thread_pool.h"

namespace omnicoder {
namespace {

constexpr int kTokens = 40;

// Logits of every prompt token, the model loaded for (repacked as preferred by) `kernels`.
std::vector<float> PromptLogits(const std::string& path, const KernelTable& kernels) {
  ModelLoadOptions mo;
  mo.kernels = &kernels;
  auto m = LoadModelFromGguf(GgufFile::Open(path).value(), mo);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  if (!m.ok()) return {};
  const LoadedModel& model = *m.value();
  ThreadPool pool(2);
  ForwardContext ctx{&kernels, &pool};
  KvOptions ko;
  ko.seq_ctx = 128;
  ko.type = DType::kF16;
  ko.max_batch = kTokens;
  auto kv = KvCache::Create(model.config, ko);
  auto scratch = CreateForwardScratch(model.config, kTokens, 128, 2);
  EXPECT_TRUE(kv.ok() && scratch.ok());
  if (!kv.ok() || !scratch.ok()) return {};
  EXPECT_TRUE(kv.value()->Reserve(0, kTokens, /*pool=*/0).ok());
  EXPECT_TRUE(kv.value()->Reserve(0, kTokens, /*pool=*/1).ok());  // sliding-window layers (gpt-oss)
  const std::vector<int32_t> tokens = testing::TestTokens(kTokens, 5);
  std::vector<int32_t> pos(kTokens), rows(kTokens);
  for (int i = 0; i < kTokens; ++i) pos[i] = rows[i] = i;
  std::vector<float> logits(static_cast<size_t>(kTokens) * model.config.vocab_size);
  ForwardRequest r;
  r.tokens = tokens.data();
  r.n_tokens = kTokens;
  r.pos = pos.data();
  r.out_rows = rows.data();
  r.n_out = kTokens;
  r.logits = logits.data();
  const ModelRef mr{&model.config, &model.weights, model.experts.get()};
  const Status s = Forward(ctx, mr, kv.value()->view(), *scratch.value(), r);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return logits;
}

enum class Run { kNative, kEmulated };

class AmxForward : public ::testing::TestWithParam<std::tuple<Run, std::string, DType>> {};

TEST_P(AmxForward, PromptLogitsAreTheAvx512Bits) {
  const auto [run, arch, type] = GetParam();
  const KernelTable* amx = nullptr;
  if (run == Run::kNative) {
    if (!IsaAvailable(Isa::kAmx)) GTEST_SKIP() << "amx is not available on this CPU";
    amx = &GetKernelTable(Isa::kAmx);
  } else {
    amx = GetAmxEmulatedKernelTable();
    if (!amx) GTEST_SKIP() << "the emulated amx level needs AVX-512 VNNI and BF16";
  }
  const std::string path = testing::TinyModelPath(arch, type);
  const uint64_t faults = tile_emulator::Faults();
  const std::vector<float> want = PromptLogits(path, GetKernelTable(Isa::kAvx512));
  const std::vector<float> got = PromptLogits(path, *amx);
  EXPECT_EQ(tile_emulator::Faults(), faults) << tile_emulator::LastFault();
  ASSERT_EQ(want.size(), got.size());
  ASSERT_FALSE(want.empty());
  EXPECT_EQ(0, std::memcmp(want.data(), got.data(), want.size() * sizeof(float)))
      << GetDTypeTraits(type).name << " " << arch;
}

std::string Name(const ::testing::TestParamInfo<std::tuple<Run, std::string, DType>>& tp) {
  std::string arch = std::get<1>(tp.param);
  for (char& c : arch) c = c == '-' ? '_' : c;
  return std::string(std::get<0>(tp.param) == Run::kNative ? "native_" : "emulated_") + arch + "_" +
         GetDTypeTraits(std::get<2>(tp.param)).name;
}

INSTANTIATE_TEST_SUITE_P(Models, AmxForward,
                         ::testing::Combine(::testing::Values(Run::kNative, Run::kEmulated),
                                            ::testing::Values("llama", "mixtral"),
                                            ::testing::Values(DType::kQ4_0, DType::kQ4_1, DType::kQ5_0, DType::kQ8_0,
                                                              DType::kQ4_K, DType::kQ5_K, DType::kQ6_K)),
                         Name);
// gpt-oss: MXFP4 experts (and Q8_0 attention); deepseek2: MLA attention, shared experts.
INSTANTIATE_TEST_SUITE_P(Archs, AmxForward,
                         ::testing::Combine(::testing::Values(Run::kNative, Run::kEmulated),
                                            ::testing::Values("gpt-oss", "deepseek2"), ::testing::Values(DType::kQ8_0)),
                         Name);

}  // namespace
}  // namespace omnicoder
