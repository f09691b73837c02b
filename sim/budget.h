// Resource budgets for `tinyforge bench --budget`, e.g. "ram=64K,flash=256K,latency=50ms,
// energy=100uJ": comma-separated key=value, each key at most once.
//   ram, flash  bytes; suffix K (1024) or M (1024^2), or none for bytes ("64K", "1.5M", "4096")
//   latency     with a unit: us, ms or s ("50ms", "0.2s")
//   energy      with a unit: uJ, mJ or J ("100uJ", "2.5mJ")
// Values must be positive. parse_budget throws BudgetError with a message naming the part
// that is wrong and what was expected.
#pragma once
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace tinyforge::sim {

struct BudgetError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

struct Budget {
  std::optional<uint64_t> ram_bytes, flash_bytes;
  std::optional<double> latency_seconds, energy_joules;
  bool empty() const { return !ram_bytes && !flash_bytes && !latency_seconds && !energy_joules; }
};

Budget parse_budget(const std::string& text);

struct Usage {
  uint64_t ram_bytes = 0, flash_bytes = 0;
  double latency_seconds = 0, energy_joules = 0;
};

// One entry per figure over its budget, e.g. "ram: 70000 B > budget 65536 B (64K)";
// empty when everything fits. Figures without a budget are not checked.
std::vector<std::string> over_budget(const Budget& budget, const Usage& usage);

// "64.0 KiB", "12.50 ms", "3.20 mJ": for messages and reports.
std::string format_bytes(uint64_t bytes);
std::string format_seconds(double seconds);
std::string format_joules(double joules);

}  // namespace tinyforge::sim
