// Plans over memory regions (plan format 2.2): a model compiled with --memory runs on the
// host with one arena per region and gives the same bytes as its single-arena plan and as the
// TFLite reference (../shared/golden); plans without --memory stay version 2.1; the validator
// refuses every damaged region field, and Runtime::init refuses missing or small arenas.
#include <gtest/gtest.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "emit/plan_writer.h"
#include "expect_error.h"
#include "host/compile.h"
#include "host/host_runner.h"
#include "io/files.h"
#include "shared_data.h"
#include "tinyforge/plan_reader.h"
#include "tinyforge/runtime.h"

namespace tinyforge {
namespace {

constexpr const char* kSplitSpec = "sram=4K,psram=8M:slow,flash=2M:xip:ws=5";

struct Aligned {
  explicit Aligned(const std::vector<uint8_t>& b) : words((b.size() + 3) / 4), size(b.size()) {
    std::memcpy(words.data(), b.data(), b.size());
  }
  uint8_t* data() { return reinterpret_cast<uint8_t*>(words.data()); }
  std::vector<uint32_t> words;
  size_t size;
};

Status validate(const std::vector<uint8_t>& blob) {
  Aligned a(blob);
  return validate_plan(a.data(), static_cast<uint32_t>(a.size));
}

// Writes `value` at `at` and fixes the checksum, so only the field itself is wrong.
template <typename T>
std::vector<uint8_t> patched(std::vector<uint8_t> blob, size_t at, const T& value) {
  std::memcpy(blob.data() + at, &value, sizeof value);
  const uint32_t crc = plan_checksum(blob.data(), static_cast<uint32_t>(blob.size()));
  std::memcpy(blob.data() + 68, &crc, 4);
  return blob;
}

host::Compiled compile_kws(const std::string& memory) {
  plan::PlanOptions options = host::plan_options_for_target("cortex-m4");
  if (!memory.empty()) options.memory = plan::parse_memory_spec(memory);
  return host::compile_model_file((testing::shared_dir() / "models/kws_ref_model.tflite").string(),
                                  options);
}

TEST(PlanRegions, SplitPlanRunsBitExactOnTheHost) {
  TINYFORGE_REQUIRE_SHARED("golden/kws_ref_model/in0.bin");
  const host::Compiled single = compile_kws("");
  const host::Compiled split = compile_kws(kSplitSpec);
  const PlanHeader h = read_header(split.blob.data());
  EXPECT_EQ(h.version_minor, 2);
  ASSERT_EQ(split.plan.regions.size(), 2u);
  EXPECT_EQ(split.plan.regions[0].name, "sram");
  EXPECT_EQ(split.plan.regions[1].name, "psram");
  EXPECT_LE(split.plan.regions[0].size, 4u * 1024);
  EXPECT_GT(split.plan.regions[1].size, 0u);  // 4K cannot hold what single needs
  EXPECT_GT(single.plan.arena_size, 0u);
  int in_psram = 0, copied = 0;
  for (const plan::PlanTensor& t : split.plan.tensors) {
    in_psram += t.storage == Storage::arena && t.region == 1;
    copied += t.storage == Storage::copied;
  }
  EXPECT_GT(in_psram, 0);
  EXPECT_GT(copied, 0);  // conv filters read once per output pixel pay for their copy
  EXPECT_EQ(validate(split.blob), Status::ok);

  const auto in = io::read_file((testing::shared_dir() / "golden/kws_ref_model/in0.bin").string());
  const auto golden =
      io::read_file((testing::shared_dir() / "golden/kws_ref_model/out0.bin").string());
  host::HostRunner a(single.blob, "single"), b(split.blob, "split");
  const uint32_t cases = static_cast<uint32_t>(in.size() / a.input_bytes(0));
  ASSERT_GE(cases, 4u);
  const auto out_single = a.run({in}, cases);
  const auto out_split = b.run({in}, cases);
  EXPECT_EQ(out_split, out_single);
  EXPECT_EQ(out_split[0], golden);
}

TEST(PlanRegions, WithoutMemoryTheBlobStaysVersion11) {
  TINYFORGE_REQUIRE_SHARED("models/kws_ref_model.tflite");
  const host::Compiled c = compile_kws("");
  const PlanHeader h = read_header(c.blob.data());
  EXPECT_EQ(h.version_minor, 1);
  EXPECT_EQ(h.header_size, sizeof(PlanHeader) + sizeof(PlanTarget));
  EXPECT_TRUE(c.plan.regions.empty());
  // One writable region that holds everything, no xip: still one arena, the same bytes.
  const host::Compiled one = compile_kws("sram=1M");
  EXPECT_EQ(one.blob, c.blob);
}

TEST(PlanRegions, TooSmallRegionsAreRefusedByName) {
  TINYFORGE_REQUIRE_SHARED("models/kws_ref_model.tflite");
  EXPECT_ERROR(compile_kws("sram=1K,psram=2K:slow"), tinyforge::Error,
               "memory region 'psram' (2048 bytes) is too small");
  EXPECT_ERROR(compile_kws("sram=64K,flash=8K:xip"), tinyforge::Error,
               "memory region 'flash' (8192 bytes) is too small for the plan blob");
}

TEST(PlanRegions, ValidatorChecksEveryRegionField) {
  TINYFORGE_REQUIRE_SHARED("models/kws_ref_model.tflite");
  const std::vector<uint8_t> blob = compile_kws(kSplitSpec).blob;
  const PlanHeader h = read_header(blob.data());
  const PlanRegions r = read_regions(blob.data(), h);
  ASSERT_EQ(r.num_regions, 2u);
  ASSERT_GT(r.num_copies, 0u);
  const CopyRecord copy0 = read_copy(blob.data(), r, 0);
  ASSERT_EQ(copy0.source_offset % 4, 0u);
  const size_t regions_at = kRegionsAt;
  const size_t region1 = r.regions_offset + sizeof(RegionRecord);
  const size_t copy_at = r.copies_offset;
  auto tensor_at = [&](uint32_t t) { return h.tensors_offset + t * sizeof(TensorRecord); };
  uint16_t arena_tensor = 0;
  while (read_tensor(blob.data(), h, arena_tensor).storage != uint8_t(Storage::arena))
    ++arena_tensor;

  EXPECT_EQ(validate(patched(blob, regions_at, uint32_t{0})), Status::bad_params);
  EXPECT_EQ(validate(patched(blob, regions_at, uint32_t{kMaxRegions + 1})), Status::bad_params);
  EXPECT_EQ(validate(patched(blob, regions_at + 4, uint32_t{2})), Status::misaligned);
  EXPECT_EQ(validate(patched(blob, regions_at + 4, h.total_size)), Status::truncated);
  EXPECT_EQ(validate(patched(blob, regions_at + 8, r.num_copies - 1)), Status::bad_params);
  EXPECT_EQ(validate(patched(blob, regions_at + 12, h.total_size - 4)), Status::truncated);
  // region 0 must be the header's arena; names terminated; sizes 4-aligned
  EXPECT_EQ(validate(patched(blob, r.regions_offset + 12, h.arena_size + 4)), Status::bad_params);
  EXPECT_EQ(validate(patched(blob, region1 + 11, 'x')), Status::bad_params);
  EXPECT_EQ(validate(patched(blob, region1 + 12, uint32_t{6})), Status::misaligned);
  // a tensor in a region that does not exist, or past its region's end
  EXPECT_EQ(validate(patched(blob, tensor_at(arena_tensor) + 3, uint8_t{2})),
            Status::out_of_bounds);
  EXPECT_EQ(validate(patched(blob, region1 + 12, uint32_t{0})), Status::out_of_bounds);
  // copies: the tensor, its kind, its source, the order
  EXPECT_EQ(validate(patched(blob, copy_at, uint16_t{0xFFF0})), Status::out_of_bounds);
  EXPECT_EQ(validate(patched(blob, copy_at, arena_tensor)), Status::bad_params);
  EXPECT_EQ(validate(patched(blob, copy_at + 4, h.total_size)), Status::out_of_bounds);
  EXPECT_EQ(validate(patched(blob, copy_at + 4, h.data_offset + 2)), Status::misaligned);
  if (r.num_copies >= 2)
    EXPECT_EQ(validate(patched(blob, copy_at + sizeof(CopyRecord), copy0)), Status::bad_params);
  // a copied tensor is a 2.2 feature; in a 2.1 blob it is an unknown storage
  EXPECT_EQ(validate(patched(blob, 6, uint16_t{1})), Status::bad_enum);
}

TEST(PlanRegions, RuntimeNeedsEveryRegionsArena) {
  TINYFORGE_REQUIRE_SHARED("models/kws_ref_model.tflite");
  Aligned blob(compile_kws(kSplitSpec).blob);
  const uint32_t size = static_cast<uint32_t>(blob.size);
  ASSERT_EQ(Runtime::num_regions(blob.data()), 2u);
  const uint32_t s0 = Runtime::region_size(blob.data(), 0),
                 s1 = Runtime::region_size(blob.data(), 1);
  std::vector<uint32_t> a0(s0 / 4 + 1), a1(s1 / 4 + 1);
  ArenaRegion regions[2] = {{reinterpret_cast<uint8_t*>(a0.data()), s0},
                            {reinterpret_cast<uint8_t*>(a1.data()), s1}};
  Runtime rt;
  EXPECT_EQ(rt.init(blob.data(), size, regions, 1), Status::arena_too_small);
  EXPECT_EQ(rt.init(blob.data(), size, regions[0].data, s0), Status::arena_too_small);
  regions[1].size = s1 - 4;
  EXPECT_EQ(rt.init(blob.data(), size, regions, 2), Status::arena_too_small);
  regions[1].size = s1;
  regions[1].data += 1;
  EXPECT_EQ(rt.init(blob.data(), size, regions, 2), Status::misaligned);
  regions[1].data -= 1;
  ASSERT_EQ(rt.init(blob.data(), size, regions, 2), Status::ok);
  // The copied constants are in their region, byte for byte as in the blob.
  const PlanHeader h = read_header(blob.data());
  const PlanRegions table = read_regions(blob.data(), h);
  for (uint32_t i = 0; i < table.num_copies; ++i) {
    const CopyRecord c = read_copy(blob.data(), table, i);
    const TensorRecord t = read_tensor(blob.data(), h, c.tensor);
    EXPECT_EQ(
        std::memcmp(regions[t.region].data + t.offset, blob.data() + c.source_offset, t.size_bytes),
        0);
  }
}

}  // namespace
}  // namespace tinyforge
