// --memory grammar: a table of specs that parse (with the fields they give) and of specs that
// are refused (with the reason named), then random strings that must parse or be refused with
// MemorySpecError, never anything else.
#include "plan/memory_spec.h"

#include <gtest/gtest.h>

#include <random>

#include "expect_error.h"

namespace tinyforge::plan {
namespace {

TEST(MemorySpec, ParsesTheTaskExample) {
  const auto r = parse_memory_spec("sram=128K,ccm=64K,psram=8M:slow,flash=2M:xip");
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[0].name, "sram");
  EXPECT_EQ(r[0].bytes, 128u * 1024);
  EXPECT_EQ(r[0].wait_states, 0u);
  EXPECT_EQ(r[1].bytes, 64u * 1024);
  EXPECT_TRUE(r[2].slow);
  EXPECT_EQ(r[2].bytes, 8u * 1024 * 1024);
  EXPECT_EQ(r[2].wait_states, kSlowWaitStates);
  EXPECT_FALSE(r[2].wait_states_given);
  EXPECT_TRUE(r[3].xip);
  EXPECT_FALSE(r[0].origin.has_value());
}

TEST(MemorySpec, AttributesAndPlainBytes) {
  const auto r =
      parse_memory_spec("ram_2=4096:ws=3:at=0x20010000,rom=1M:xip:ws=5,ext=1K:slow:ws=9");
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].bytes, 4096u);
  EXPECT_EQ(r[0].wait_states, 3u);
  EXPECT_TRUE(r[0].wait_states_given);
  EXPECT_EQ(*r[0].origin, 0x20010000u);
  EXPECT_EQ(r[1].wait_states, 5u);
  EXPECT_EQ(r[2].wait_states, 9u);  // ws= wins over slow's default
}

TEST(MemorySpec, WritableRegionsBySpeedThenAsGiven) {
  const auto spec = parse_memory_spec("psram=8M:slow,sram=128K,flash=2M:xip:ws=5,ccm=64K");
  const auto w = writable_regions_by_speed(spec);
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(w[0].name, "sram");
  EXPECT_EQ(w[1].name, "ccm");
  EXPECT_EQ(w[2].name, "psram");
  ASSERT_TRUE(xip_region(spec).has_value());
  EXPECT_EQ(xip_region(spec)->name, "flash");
  EXPECT_FALSE(xip_region(parse_memory_spec("sram=1K")).has_value());
}

TEST(MemorySpec, RefusesMalformedSpecsNamingTheProblem) {
  const struct {
    const char* spec;
    const char* reason;
  } cases[] = {
      {"", "empty"},
      {"sram", "NAME=SIZE"},
      {"=128K", "region name ''"},
      {"Sram=1K", "region name 'Sram'"},
      {"9ram=1K", "region name '9ram'"},
      {"averyveryverylongname=1K", "region name"},
      {"sram=", "size ''"},
      {"sram=0", "size '0'"},
      {"sram=12G", "size '12G'"},
      {"sram=-4K", "size '-4K'"},
      {"sram=1.5K", "size '1.5K'"},
      {"sram=4096M", "size '4096M'"},
      {"sram=99999999999999999999999", "size"},
      {"sram=1K:fast", "unknown attribute 'fast'"},
      {"sram=1K:", "unknown attribute ''"},
      {"sram=1K:ws=65", "wait states"},
      {"sram=1K:ws=", "wait states"},
      {"sram=1K:ws=-1", "wait states"},
      {"sram=1K:at=0x2000000G", "base address"},
      {"sram=1K:at=0x20000002", "base address"},
      {"sram=1K:at=20000000", "unknown attribute"},
      {"sram=2K:at=0xFFFFFC00", "runs past the 4 GiB"},
      {"sram=1K,sram=2K", "'sram' is given twice"},
      {"sram=1K,,psram=1M", "NAME=SIZE"},
      {"a=1K:xip,b=1K:xip,c=1K", "more than one xip"},
      {"flash=1M:xip", "no writable region"},
      {"a=1K,b=1K,c=1K,d=1K", "writable regions, the runtime takes up to 3"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.spec);
    EXPECT_ERROR(parse_memory_spec(c.spec), MemorySpecError, c.reason);
  }
}

TEST(MemorySpec, RandomTextParsesOrIsRefusedCleanly) {
  const std::string alphabet = "sramKM0123456789=,:xipslowat0xws_-.Z ";
  std::mt19937 rng(2024);
  int parsed = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string s;
    const size_t n = rng() % 24;
    for (size_t k = 0; k < n; ++k) s += alphabet[rng() % alphabet.size()];
    if (i % 4 == 0) s = "sram=" + std::to_string(rng() % 5000) + (rng() % 2 ? "K" : "") + s;
    try {
      const auto r = parse_memory_spec(s);
      ++parsed;
      for (const MemoryRegionSpec& region : r) {
        EXPECT_GT(region.bytes, 0u) << s;
        EXPECT_LE(region.wait_states, kMaxWaitStates) << s;
      }
    } catch (const MemorySpecError&) {
    }
  }
  EXPECT_GT(parsed, 0);  // the generator does reach valid specs
}

}  // namespace
}  // namespace tinyforge::plan
