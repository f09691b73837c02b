// Budget strings: every accepted form, every rejected one with a message, and overruns
// naming every figure that is over.
#include "sim/budget.h"

#include <gtest/gtest.h>

namespace tinyforge::sim {
namespace {

TEST(Budget, ParsesEveryFigureAndUnit) {
  const Budget b = parse_budget("ram=64K,flash=256K,latency=50ms,energy=100uJ");
  EXPECT_EQ(*b.ram_bytes, 65536u);
  EXPECT_EQ(*b.flash_bytes, 262144u);
  EXPECT_DOUBLE_EQ(*b.latency_seconds, 0.05);
  EXPECT_DOUBLE_EQ(*b.energy_joules, 100e-6);

  EXPECT_EQ(*parse_budget("ram=1M").ram_bytes, 1048576u);
  EXPECT_EQ(*parse_budget("ram=1.5M").ram_bytes, 1572864u);
  EXPECT_EQ(*parse_budget("flash=4096").flash_bytes, 4096u);
  EXPECT_EQ(*parse_budget("flash=12KiB").flash_bytes, 12288u);
  EXPECT_DOUBLE_EQ(*parse_budget("latency=250us").latency_seconds, 250e-6);
  EXPECT_DOUBLE_EQ(*parse_budget("latency=0.5s").latency_seconds, 0.5);
  EXPECT_DOUBLE_EQ(*parse_budget("energy=2.5mJ").energy_joules, 2.5e-3);
  EXPECT_DOUBLE_EQ(*parse_budget("energy=1J").energy_joules, 1.0);
  const Budget partial = parse_budget(" latency = 10ms ");
  EXPECT_FALSE(partial.ram_bytes);
  EXPECT_TRUE(partial.latency_seconds);
  EXPECT_FALSE(partial.empty());
}

TEST(Budget, RejectsMalformedStrings) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"", "empty budget"},
      {"ram", "expected key=value"},
      {"ram=", "missing value"},
      {"ram=64K,,flash=1M", "empty entry"},
      {"ram=64K,", "empty entry"},
      {"cpu=50", "unknown key `cpu`"},
      {"ram=64X", "unknown unit `X`"},
      {"ram=64k", "unknown unit `k`"},
      {"ram=K", "expected a number"},
      {"ram=-5K", "expected a number"},
      {"ram=0", "must be positive"},
      {"ram=0.3", "whole number of bytes"},
      {"ram=1K,ram=2K", "given twice"},
      {"latency=50", "missing unit"},
      {"latency=50mJ", "unknown unit `mJ`"},
      {"energy=100", "missing unit"},
      {"energy=100ms", "unknown unit `ms`"},
      {"latency=1e3ms", "unknown unit `e3ms`"},
      {"flash=1.2.3K", "unknown unit `.3K`"},
  };
  for (const auto& [text, message] : bad) {
    SCOPED_TRACE(text);
    try {
      parse_budget(text);
      ADD_FAILURE() << "accepted";
    } catch (const BudgetError& e) {
      EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
    }
  }
}

TEST(Budget, OverrunsNameEveryFigureOver) {
  const Budget b = parse_budget("ram=64K,flash=256K,latency=50ms,energy=100uJ");
  Usage fits{65536, 262144, 0.049, 99e-6};
  EXPECT_TRUE(over_budget(b, fits).empty());

  Usage over{65537, 100, 0.2, 1e-3};
  const auto lines = over_budget(b, over);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].rfind("ram: 65537 B > budget 65536 B", 0), 0u) << lines[0];
  EXPECT_EQ(lines[1].rfind("latency: 200.000 ms > budget 50.000 ms", 0), 0u) << lines[1];
  EXPECT_EQ(lines[2].rfind("energy: 1.000 mJ > budget 100.00 uJ", 0), 0u) << lines[2];

  // A figure without a budget is never over.
  EXPECT_TRUE(over_budget(parse_budget("flash=1K"), Usage{1u << 30, 10, 100, 100}).empty());
}

TEST(Budget, Formats) {
  EXPECT_EQ(format_bytes(512), "512 B");
  EXPECT_EQ(format_bytes(65536), "64.0 KiB");
  EXPECT_EQ(format_bytes(3u << 20), "3.00 MiB");
  EXPECT_EQ(format_seconds(0.0123), "12.300 ms");
  EXPECT_EQ(format_seconds(42e-6), "42.0 us");
  EXPECT_EQ(format_joules(3.2e-3), "3.200 mJ");
}

}  // namespace
}  // namespace tinyforge::sim
