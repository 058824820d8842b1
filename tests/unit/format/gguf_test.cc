// format layer: GGUF writer -> reader round trip, metadata getters, atomic writes.
#include <gtest/gtest.h>

#include <sys/resource.h>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>

#include "format/gguf.h"
#include "format/gguf_writer.h"

namespace omnicoder {
namespace {

std::string TmpPath(const char* name) {
  return std::string(OC_WORK_DIR "_") + name;
}

TEST(Gguf, RoundTripMetadataAndTensors) {
  GgufWriter w(64);
  w.SetString("general.architecture", "llama");
  w.SetUint32("a.u32", 7);
  w.SetInt32("a.i32", -3);
  w.SetUint64("a.u64", 1ull << 40);
  w.SetFloat32("a.f32", 0.25f);
  w.SetBool("a.bool", true);
  w.SetStringArray("a.strs", {"x", "", "yz"});
  w.SetFloat32Array("a.f32s", {1.0f, 2.0f});
  w.SetInt32Array("a.i32s", {-1, 5});
  std::vector<uint8_t> data(4 * 3 * 2);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i);
  ASSERT_TRUE(w.AddTensorBytes("t.weight", DType::kF32, {3, 2}, data).ok());
  ASSERT_TRUE(w.AddTensorBytes("u.weight", DType::kF16, {5}, std::vector<uint8_t>(10, 1)).ok());
  const std::string path = TmpPath("roundtrip.gguf");
  ASSERT_TRUE(w.WriteFile(path).ok());

  auto r = GgufFile::Open(path);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const GgufFile& f = *r.value();
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.alignment(), 64u);
  EXPECT_EQ(f.GetString("general.architecture").value(), "llama");
  EXPECT_EQ(f.GetUint("a.u32").value(), 7u);
  EXPECT_FALSE(f.GetUint("a.i32").ok());  // negative
  EXPECT_EQ(f.GetUint("a.u64").value(), 1ull << 40);
  EXPECT_EQ(f.GetFloat("a.f32").value(), 0.25);
  EXPECT_TRUE(f.GetBool("a.bool").value());
  EXPECT_EQ(f.GetString("a.u32").status().code(), StatusCode::kCorruptFile);
  EXPECT_EQ(f.GetUint("nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(f.GetUintOr("nope", 9).value(), 9u);
  const GgufValue* strs = f.Find("a.strs");
  ASSERT_NE(strs, nullptr);
  ASSERT_EQ(strs->strings.size(), 3u);
  EXPECT_EQ(strs->strings[2], "yz");
  const GgufTensorInfo* t = f.FindTensor("t.weight");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->dims[0], 3);
  EXPECT_EQ(t->dims[1], 2);
  EXPECT_EQ(0, std::memcmp(t->data, data.data(), data.size()));
  EXPECT_EQ((t->data - f.file().data()) % 64, 0);
  const GgufTensorInfo* u = f.FindTensor("u.weight");
  ASSERT_NE(u, nullptr);
  EXPECT_EQ(u->n_bytes, 10u);
  std::remove(path.c_str());
}

TEST(Gguf, WriterRejectsBadShapesAndDuplicates) {
  GgufWriter w;
  EXPECT_FALSE(w.AddTensorBytes("q", DType::kQ4_0, {33, 1}, {}).ok());
  EXPECT_TRUE(w.AddTensorBytes("a", DType::kF32, {1}, std::vector<uint8_t>(4)).ok());
  EXPECT_FALSE(w.AddTensorBytes("a", DType::kF32, {1}, std::vector<uint8_t>(4)).ok());
}

TEST(Gguf, FailedProducerLeavesNoFile) {
  GgufWriter w;
  ASSERT_TRUE(w.AddTensor("a", DType::kF32, {4}, [](uint8_t*, size_t) { return IoError("disk on fire"); }).ok());
  const std::string path = TmpPath("fail.gguf");
  std::remove(path.c_str());
  Status s = w.WriteFile(path);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("disk on fire"), std::string::npos);
  EXPECT_FALSE(std::ifstream(path).good());
  EXPECT_FALSE(std::ifstream(path + ".tmp").good());
}

TEST(Gguf, WriteBeyondFileSizeLimitFailsCleanly) {
  // A file-size limit makes write(2) fail like a full disk would (EFBIG instead of ENOSPC).
  const std::string path = TmpPath("limit.gguf");
  {
    std::ofstream old(path, std::ios::binary);
    old << "previous contents";
  }
  GgufWriter w;
  ASSERT_TRUE(w.AddTensorBytes("a", DType::kF32, {1 << 16}, std::vector<uint8_t>(1 << 18)).ok());
  struct rlimit old_limit;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  void (*old_handler)(int) = std::signal(SIGXFSZ, SIG_IGN);
  struct rlimit limit = old_limit;
  limit.rlim_cur = 4096;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &limit), 0);
  Status s = w.WriteFile(path);
  setrlimit(RLIMIT_FSIZE, &old_limit);
  std::signal(SIGXFSZ, old_handler);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  std::ifstream in(path);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "previous contents");  // the old file is untouched
  EXPECT_FALSE(std::ifstream(path + ".tmp").good());
  std::remove(path.c_str());
}

TEST(Gguf, ParsesFromBuffer) {
  std::vector<uint8_t> bytes = {'G', 'G', 'U', 'F', 3, 0, 0, 0};
  bytes.resize(24, 0);
  auto r = GgufFile::Parse(MappedFile::FromBuffer(bytes.data(), bytes.size(), "buf"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r.value()->tensors().empty());
}

}  // namespace
}  // namespace omnicoder
