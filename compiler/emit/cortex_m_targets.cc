#include "emit/cortex_m_targets.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "ir/graph.h"

#ifndef TINYFORGE_SOURCE_DIR
#define TINYFORGE_SOURCE_DIR "."
#endif

namespace tinyforge::emit {
namespace {

using nlohmann::json;

json read_json(const std::string& path) {
  std::ifstream in(path);
  if (!in)
    throw tinyforge::Error(
        path + ": cannot open (set TINYFORGE_HOME to the tinyforge tree holding targets/)");
  try {
    return json::parse(in);
  } catch (const json::exception& e) {
    throw tinyforge::Error(path + ": not valid JSON: " + e.what());
  }
}

class Fields {
 public:
  Fields(const json& j, std::string where) : j_(j), where_(std::move(where)) {
    if (!j_.is_object()) fail("", "is not an object");
  }
  [[noreturn]] void fail(const std::string& key, const std::string& what) const {
    throw tinyforge::Error(where_ + (key.empty() ? "" : ": `" + key + "`") + " " + what);
  }
  const json& get(const std::string& key) const {
    auto it = j_.find(key);
    if (it == j_.end()) fail(key, "is missing");
    return *it;
  }
  std::string str(const std::string& key) const {
    const json& v = get(key);
    if (!v.is_string()) fail(key, "must be a string");
    return v.get<std::string>();
  }
  std::vector<std::string> strings(const std::string& key) const {
    const json& v = get(key);
    if (!v.is_array()) fail(key, "must be an array of strings");
    std::vector<std::string> out;
    for (const json& e : v) {
      if (!e.is_string()) fail(key, "must be an array of strings");
      out.push_back(e.get<std::string>());
    }
    return out;
  }
  double positive(const std::string& key) const {
    const json& v = get(key);
    if (!v.is_number() || !(v.get<double>() > 0)) fail(key, "must be a positive number");
    return v.get<double>();
  }
  const std::string& where() const { return where_; }
  uint32_t wait_states(const std::string& key) const {
    const json& v = get(key);
    if (!v.is_number_unsigned() || v.get<uint64_t>() > 64)
      fail(key, "must be a whole number of wait states 0..64");
    return static_cast<uint32_t>(v.get<uint64_t>());
  }
  MemoryRegion region(const std::string& key) const {
    Fields r(get(key), where_ + ": `" + key + "`");
    const std::string origin = r.str("origin");
    char* end = nullptr;
    const unsigned long long o = std::strtoull(origin.c_str(), &end, 0);
    if (origin.empty() || *end != '\0' || o > 0xFFFFFFFFull)
      r.fail("origin", "must be a 32-bit address such as \"0x08000000\"");
    const double bytes = r.positive("bytes");
    if (bytes != static_cast<double>(static_cast<uint32_t>(bytes)) ||
        o + static_cast<uint64_t>(bytes) > (1ull << 32))
      r.fail("bytes", "must be a whole number of bytes that fits the 4 GiB address space");
    return {static_cast<uint32_t>(o), static_cast<uint32_t>(bytes)};
  }

 private:
  const json& j_;
  std::string where_;
};

std::string targets_dir() { return tinyforge_home() + "/targets"; }

}  // namespace

std::string tinyforge_home() {
  if (const char* home = std::getenv("TINYFORGE_HOME"); home && *home) return home;
  return TINYFORGE_SOURCE_DIR;
}

MemoryRegion generic_flash() { return {0x00000000, 4u << 20}; }
MemoryRegion generic_ram() { return {0x20000000, 4u << 20}; }

std::vector<CortexMTarget> load_targets(const std::string& path) {
  const json doc = read_json(path);
  Fields top(doc, path);
  const json& targets = top.get("targets");
  if (!targets.is_object() || targets.empty()) top.fail("targets", "must be a non-empty object");
  std::vector<CortexMTarget> out;
  for (const auto& [name, entry] : targets.items()) {
    Fields f(entry, path + ": target `" + name + "`");
    CortexMTarget t;
    t.name = name;
    t.cpu_flags = f.strings("cpu_flags");
    t.emulator_cpu = f.str("emulator_cpu");
    t.default_board = f.str("default_board");
    out.push_back(std::move(t));
  }
  return out;
}

std::vector<Board> load_boards(const std::string& path) {
  const json doc = read_json(path);
  Fields top(doc, path);
  const json& boards = top.get("boards");
  if (!boards.is_array() || boards.empty()) top.fail("boards", "must be a non-empty array");
  std::vector<Board> out;
  for (size_t i = 0; i < boards.size(); ++i) {
    Fields f(boards[i], path + ": board " + std::to_string(i));
    Board b;
    b.name = f.str("name");
    b.description = f.str("board");
    b.target = f.str("target");
    b.flash = f.region("flash");
    b.ram = f.region("ram");
    b.clock_mhz = f.positive("clock_mhz");
    b.active_ua_per_mhz = f.positive("active_ua_per_mhz");
    b.voltage = f.positive("voltage");
    if (boards[i].contains("flash_wait_states"))
      b.flash_wait_states = f.wait_states("flash_wait_states");
    if (boards[i].contains("regions")) {
      const json& regions = f.get("regions");
      if (!regions.is_array()) f.fail("regions", "must be an array of regions");
      for (size_t k = 0; k < regions.size(); ++k) {
        Fields r(regions[k], path + ": board " + b.name + ": region " + std::to_string(k));
        NamedRegion named;
        named.name = r.str("name");
        const MemoryRegion m = Fields(json{{"r", regions[k]}}, r.where()).region("r");
        named.origin = m.origin;
        named.bytes = m.bytes;
        if (regions[k].contains("wait_states")) named.wait_states = r.wait_states("wait_states");
        b.regions.push_back(std::move(named));
      }
    }
    const json& source = f.get("source");
    std::vector<std::string> cited = {"memory", "clock_mhz", "active_ua_per_mhz", "voltage"};
    if (b.flash_wait_states) cited.push_back("flash_wait_states");
    for (const std::string& key : cited) {
      if (!source.is_object() || !source.contains(key) || !source[key].is_string() ||
          source[key].get<std::string>().empty())
        f.fail("source", "must cite where `" + key + "` comes from");
    }
    // Figures whose cited datasheet text could not be checked: named, never silently trusted.
    if (boards[i].contains("unverified")) {
      b.unverified = f.strings("unverified");
      for (const std::string& key : b.unverified)
        if (std::find(cited.begin(), cited.end(), key) == cited.end())
          f.fail("unverified", "`" + key + "` is not a cited figure of this board");
    }
    out.push_back(std::move(b));
  }
  return out;
}

std::vector<CortexMTarget> all_targets() { return load_targets(targets_dir() + "/targets.json"); }
std::vector<Board> all_boards() { return load_boards(targets_dir() + "/boards.json"); }

CortexMTarget find_target(const std::string& name) {
  std::string known;
  for (const CortexMTarget& t : all_targets()) {
    if (t.name == name) return t;
    known += (known.empty() ? "" : ", ") + t.name;
  }
  throw tinyforge::Error("unknown target `" + name + "` (known: " + known + ")");
}

Board find_board(const std::string& name) {
  std::string known;
  for (const Board& b : all_boards()) {
    if (b.name == name) return b;
    known += (known.empty() ? "" : ", ") + b.name;
  }
  throw tinyforge::Error("unknown board `" + name + "` (known: " + known + ")");
}

}  // namespace tinyforge::emit
