#include "sim/budget.h"

#include <cctype>
#include <cmath>
#include <cstdio>

namespace tinyforge::sim {
namespace {

struct Unit {
  const char* suffix;
  double factor;
};

[[noreturn]] void fail(const std::string& part, const std::string& what) {
  throw BudgetError("bad budget `" + part + "`: " + what);
}

// "<number><suffix>" with a suffix from `units` (longest match first). A plain decimal
// number: digits with at most one '.', no sign, no exponent.
double parse_quantity(const std::string& part, const std::string& value,
                      const std::vector<Unit>& units, bool unit_required,
                      const std::string& expected) {
  size_t n = 0;
  bool dot = false;
  while (n < value.size() &&
         (std::isdigit(static_cast<unsigned char>(value[n])) || (value[n] == '.' && !dot))) {
    dot = dot || value[n] == '.';
    ++n;
  }
  const std::string number = value.substr(0, n), suffix = value.substr(n);
  if (number.empty() || number == ".") fail(part, "expected a number, " + expected);
  double factor = 0;
  if (suffix.empty()) {
    if (unit_required) fail(part, "missing unit, " + expected);
    factor = 1;
  } else {
    for (const Unit& u : units)
      if (suffix == u.suffix) factor = u.factor;
    if (factor == 0) fail(part, "unknown unit `" + suffix + "`, " + expected);
  }
  double v = 0;
  try {
    v = std::stod(number) * factor;
  } catch (const std::exception&) {
    fail(part, "number out of range");
  }
  if (!(v > 0) || !std::isfinite(v)) fail(part, "must be positive");
  return v;
}

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

}  // namespace

Budget parse_budget(const std::string& text) {
  Budget b;
  if (trim(text).empty())
    throw BudgetError("empty budget: expected e.g. ram=64K,flash=256K,latency=50ms,energy=100uJ");
  size_t start = 0;
  for (;;) {
    const size_t comma = text.find(',', start);
    const std::string part =
        trim(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    const size_t eq = part.find('=');
    if (part.empty()) throw BudgetError("bad budget `" + text + "`: empty entry between commas");
    if (eq == std::string::npos)
      fail(part, "expected key=value with key ram, flash, latency or energy");
    const std::string key = trim(part.substr(0, eq)), value = trim(part.substr(eq + 1));
    if (value.empty()) fail(part, "missing value");
    const std::vector<Unit> sizes = {
        {"K", 1024.0}, {"M", 1024.0 * 1024.0}, {"KiB", 1024.0}, {"MiB", 1024.0 * 1024.0}, {"B", 1}};
    auto bytes = [&](std::optional<uint64_t>& field) {
      if (field) fail(part, "`" + key + "` given twice");
      const double v = parse_quantity(part, value, sizes, false,
                                      "bytes with an optional K (1024) or M (1024^2) suffix");
      if (v != std::floor(v)) fail(part, "not a whole number of bytes");
      if (v > 1e18) fail(part, "too large");
      field = static_cast<uint64_t>(v);
    };
    if (key == "ram") {
      bytes(b.ram_bytes);
    } else if (key == "flash") {
      bytes(b.flash_bytes);
    } else if (key == "latency") {
      if (b.latency_seconds) fail(part, "`latency` given twice");
      b.latency_seconds = parse_quantity(part, value, {{"us", 1e-6}, {"ms", 1e-3}, {"s", 1}}, true,
                                         "expected us, ms or s");
    } else if (key == "energy") {
      if (b.energy_joules) fail(part, "`energy` given twice");
      b.energy_joules = parse_quantity(part, value, {{"uJ", 1e-6}, {"mJ", 1e-3}, {"J", 1}}, true,
                                       "expected uJ, mJ or J");
    } else {
      fail(part, "unknown key `" + key + "` (ram, flash, latency, energy)");
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return b;
}

std::vector<std::string> over_budget(const Budget& budget, const Usage& usage) {
  std::vector<std::string> over;
  if (budget.ram_bytes && usage.ram_bytes > *budget.ram_bytes)
    over.push_back("ram: " + std::to_string(usage.ram_bytes) + " B > budget " +
                   std::to_string(*budget.ram_bytes) + " B (" + format_bytes(*budget.ram_bytes) +
                   ")");
  if (budget.flash_bytes && usage.flash_bytes > *budget.flash_bytes)
    over.push_back("flash: " + std::to_string(usage.flash_bytes) + " B > budget " +
                   std::to_string(*budget.flash_bytes) + " B (" +
                   format_bytes(*budget.flash_bytes) + ")");
  if (budget.latency_seconds && usage.latency_seconds > *budget.latency_seconds)
    over.push_back("latency: " + format_seconds(usage.latency_seconds) + " > budget " +
                   format_seconds(*budget.latency_seconds));
  if (budget.energy_joules && usage.energy_joules > *budget.energy_joules)
    over.push_back("energy: " + format_joules(usage.energy_joules) + " > budget " +
                   format_joules(*budget.energy_joules));
  return over;
}

std::string format_bytes(uint64_t bytes) {
  if (bytes >= 1024 * 1024) return fixed(bytes / (1024.0 * 1024.0), 2) + " MiB";
  if (bytes >= 1024) return fixed(bytes / 1024.0, 1) + " KiB";
  return std::to_string(bytes) + " B";
}

std::string format_seconds(double s) {
  if (s >= 1) return fixed(s, 3) + " s";
  if (s >= 1e-3) return fixed(s * 1e3, 3) + " ms";
  return fixed(s * 1e6, 1) + " us";
}

std::string format_joules(double j) {
  if (j >= 1) return fixed(j, 3) + " J";
  if (j >= 1e-3) return fixed(j * 1e3, 3) + " mJ";
  return fixed(j * 1e6, 2) + " uJ";
}

}  // namespace tinyforge::sim
