#include "plan/memory_spec.h"

#include <fmt/format.h>

#include <algorithm>

namespace tinyforge::plan {
namespace {

constexpr size_t kMaxNameLength = 11;  // + NUL = the blob's 12-byte region name

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  size_t begin = 0;
  for (size_t at = s.find(sep); at != std::string::npos; at = s.find(sep, begin)) {
    parts.push_back(s.substr(begin, at - begin));
    begin = at + 1;
  }
  parts.push_back(s.substr(begin));
  return parts;
}

bool valid_name(const std::string& n) {
  if (n.empty() || n.size() > kMaxNameLength || n[0] < 'a' || n[0] > 'z') return false;
  return std::all_of(n.begin(), n.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// Digits only, no sign, value <= max; nullopt otherwise.
std::optional<uint64_t> whole_number(const std::string& s, int base, uint64_t max) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    int d = -1;
    if (c >= '0' && c <= '9') d = c - '0';
    if (base == 16 && c >= 'a' && c <= 'f') d = c - 'a' + 10;
    if (base == 16 && c >= 'A' && c <= 'F') d = c - 'A' + 10;
    if (d < 0) return std::nullopt;
    v = v * base + static_cast<uint64_t>(d);
    if (v > max) return std::nullopt;
  }
  return v;
}

uint32_t parse_size(const std::string& region, const std::string& text) {
  std::string digits = text;
  uint64_t unit = 1;
  if (!digits.empty() && (digits.back() == 'K' || digits.back() == 'M')) {
    unit = digits.back() == 'K' ? 1024 : 1024 * 1024;
    digits.pop_back();
  }
  const auto v = whole_number(digits, 10, UINT32_MAX);
  if (!v || *v == 0 || *v * unit > UINT32_MAX)
    throw MemorySpecError(fmt::format(
        "--memory: region '{}': size '{}' is not a positive whole number of bytes below 4 GiB "
        "with an optional K or M suffix (e.g. 128K)",
        region, text));
  return static_cast<uint32_t>(*v * unit);
}

MemoryRegionSpec parse_region(const std::string& text) {
  const std::vector<std::string> fields = split(text, ':');
  const size_t eq = fields[0].find('=');
  if (eq == std::string::npos)
    throw MemorySpecError(fmt::format(
        "--memory: '{}' is not NAME=SIZE[:ATTR...] (e.g. sram=128K or psram=8M:slow)", text));
  MemoryRegionSpec r;
  r.name = fields[0].substr(0, eq);
  if (!valid_name(r.name))
    throw MemorySpecError(fmt::format(
        "--memory: region name '{}' must be a lower-case letter then up to {} lower-case "
        "letters, digits or '_'",
        r.name, kMaxNameLength - 1));
  r.bytes = parse_size(r.name, fields[0].substr(eq + 1));
  std::optional<uint32_t> wait_states;
  for (size_t i = 1; i < fields.size(); ++i) {
    const std::string& a = fields[i];
    if (a == "slow") {
      r.slow = true;
    } else if (a == "xip") {
      r.xip = true;
    } else if (a.rfind("ws=", 0) == 0) {
      const auto v = whole_number(a.substr(3), 10, kMaxWaitStates);
      if (!v)
        throw MemorySpecError(
            fmt::format("--memory: region '{}': '{}': wait states must be a whole number 0..{}",
                        r.name, a, kMaxWaitStates));
      wait_states = static_cast<uint32_t>(*v);
    } else if (a.rfind("at=0x", 0) == 0 || a.rfind("at=0X", 0) == 0) {
      const auto v = whole_number(a.substr(5), 16, UINT32_MAX);
      if (!v || *v % 4 != 0)
        throw MemorySpecError(fmt::format(
            "--memory: region '{}': '{}': the base address must be a 4-aligned hexadecimal "
            "address below 4 GiB (e.g. at=0x60000000)",
            r.name, a));
      r.origin = static_cast<uint32_t>(*v);
    } else {
      throw MemorySpecError(fmt::format(
          "--memory: region '{}': unknown attribute '{}' (slow, xip, ws=N, at=0xADDRESS)", r.name,
          a));
    }
  }
  r.wait_states = wait_states.value_or(r.slow ? kSlowWaitStates : 0);
  r.wait_states_given = wait_states.has_value();
  if (r.origin && uint64_t{*r.origin} + r.bytes > (uint64_t{1} << 32))
    throw MemorySpecError(
        fmt::format("--memory: region '{}' runs past the 4 GiB address space", r.name));
  return r;
}

}  // namespace

std::vector<MemoryRegionSpec> parse_memory_spec(const std::string& text) {
  if (text.empty()) throw MemorySpecError("--memory: empty (e.g. sram=128K,psram=8M:slow)");
  std::vector<MemoryRegionSpec> regions;
  for (const std::string& part : split(text, ',')) {
    MemoryRegionSpec r = parse_region(part);
    for (const MemoryRegionSpec& seen : regions)
      if (seen.name == r.name)
        throw MemorySpecError(fmt::format("--memory: region '{}' is given twice", r.name));
    regions.push_back(std::move(r));
  }
  const auto xip_count = std::count_if(regions.begin(), regions.end(),
                                       [](const MemoryRegionSpec& r) { return r.xip; });
  if (xip_count > 1)
    throw MemorySpecError("--memory: more than one xip region (the plan blob lives in one)");
  const size_t writable = regions.size() - static_cast<size_t>(xip_count);
  if (writable == 0)
    throw MemorySpecError("--memory: no writable region for the activations (only xip)");
  if (writable > kMaxMemoryRegions)
    throw MemorySpecError(fmt::format("--memory: {} writable regions, the runtime takes up to {}",
                                      writable, kMaxMemoryRegions));
  return regions;
}

std::vector<MemoryRegionSpec> writable_regions_by_speed(const std::vector<MemoryRegionSpec>& spec) {
  std::vector<MemoryRegionSpec> out;
  for (const MemoryRegionSpec& r : spec)
    if (!r.xip) out.push_back(r);
  std::stable_sort(out.begin(), out.end(),
                   [](const MemoryRegionSpec& a, const MemoryRegionSpec& b) {
                     return a.wait_states < b.wait_states;
                   });
  return out;
}

std::optional<MemoryRegionSpec> xip_region(const std::vector<MemoryRegionSpec>& spec) {
  for (const MemoryRegionSpec& r : spec)
    if (r.xip) return r;
  return std::nullopt;
}

}  // namespace tinyforge::plan
