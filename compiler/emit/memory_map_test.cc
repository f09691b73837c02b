// Where --memory regions land: board regions and figures, the generic map's defaults, at=,
// and the refusals (no base address, overlaps, larger than the board's memory).
#include "emit/memory_map.h"

#include <gtest/gtest.h>

#include "expect_error.h"

namespace tinyforge::emit {
namespace {

std::vector<PlacedRegion> place(const std::string& spec, const Board* board = nullptr) {
  return place_memory(plan::parse_memory_spec(spec), board);
}

TEST(MemoryMap, GenericMapDefaultsAndAt) {
  const auto p = place("sram=128K,ccm=64K,psram=8M:slow,flash=2M:xip");
  ASSERT_EQ(p.size(), 4u);
  EXPECT_EQ(*p[0].spec.origin, 0x20000000u);
  EXPECT_TRUE(p[0].main_ram);
  EXPECT_EQ(*p[1].spec.origin, 0x10000000u);
  EXPECT_FALSE(p[1].main_ram);
  EXPECT_EQ(*p[2].spec.origin, 0x60000000u);
  EXPECT_EQ(p[2].spec.wait_states, plan::kSlowWaitStates);
  EXPECT_EQ(*p[3].spec.origin, 0x0u);
  EXPECT_FALSE(p[3].main_ram);
  EXPECT_EQ(*place("sram=1K,ext=1M:at=0x70000000")[1].spec.origin, 0x70000000u);
}

TEST(MemoryMap, BoardRegionsAndWaitStates) {
  const Board f446 = find_board("STM32F446RE");
  ASSERT_TRUE(f446.flash_wait_states.has_value());
  const auto p = place("sram=64K,flash=512K:xip", &f446);
  EXPECT_EQ(*p[1].spec.origin, f446.flash.origin);
  EXPECT_EQ(p[1].spec.wait_states, *f446.flash_wait_states);  // the board's figure
  EXPECT_EQ(place("sram=64K,flash=512K:xip:ws=1", &f446)[1].spec.wait_states, 1u);  // ws= wins
  const Board h743 = find_board("STM32H743ZI");
  const auto q = place("sram=128K,axisram=512K", &h743);
  EXPECT_EQ(*q[1].spec.origin, 0x24000000u);
}

TEST(MemoryMap, Refusals) {
  EXPECT_ERROR(place("sram=1K,tcm=1K"), tinyforge::Error,
               "region 'tcm' has no known base address on the generic map");
  const Board f446 = find_board("STM32F446RE");
  EXPECT_ERROR(place("sram=1K,ccm=1K", &f446), tinyforge::Error,
               "region 'ccm' has no known base address on board STM32F446RE");
  EXPECT_ERROR(place("sram=256K", &f446), tinyforge::Error,
               "region 'sram' is 131072 bytes on board STM32F446RE, the spec gives it 262144");
  EXPECT_ERROR(place("sram=1K,more=1K:at=0x20001000"), tinyforge::Error,
               "region 'more' overlaps the main RAM");
  EXPECT_ERROR(place("sram=1K,a=1M:at=0x60000000,psram=1M"), tinyforge::Error,
               "regions 'a' and 'psram' overlap");
}

}  // namespace
}  // namespace tinyforge::emit
