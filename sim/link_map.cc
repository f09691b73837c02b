#include "sim/link_map.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>

#include "sim/error.h"

namespace tinyforge::sim {
namespace {

constexpr size_t kMaxBytes = size_t{256} << 20;

std::vector<std::string> words(const std::string& line) {
  std::vector<std::string> w;
  std::istringstream in(line);
  for (std::string s; in >> s;) w.push_back(s);
  return w;
}

bool looks_hex(const std::string& s) {
  return s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
}

// "0x..." with 1..16 hex digits; throws for anything else.
uint64_t hex(const std::string& s, const std::string& where) {
  if (!looks_hex(s) || s.size() > 18) throw Error(where + ": `" + s + "` is not a hex number");
  uint64_t v = 0;
  for (size_t i = 2; i < s.size(); ++i) {
    const char c = s[i];
    int d;
    if (c >= '0' && c <= '9')
      d = c - '0';
    else if (c >= 'a' && c <= 'f')
      d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      d = c - 'A' + 10;
    else
      throw Error(where + ": `" + s + "` is not a hex number");
    v = v << 4 | static_cast<uint64_t>(d);
  }
  return v;
}

}  // namespace

LinkMap parse_link_map(const std::string& text, const std::string& source) {
  if (text.size() > kMaxBytes) throw Error(source + ": larger than 256 MiB, not a link map");
  const size_t start = text.find("Linker script and memory map");
  if (start == std::string::npos)
    throw Error(source +
                ": not a GNU ld map file (no \"Linker script and memory map\" part; link with "
                "-Wl,-Map=FILE)");
  LinkMap map;
  std::string output_section;
  std::optional<std::string> pending;  // an input section name alone on its line
  size_t line_no = static_cast<size_t>(
      std::count(text.begin(), text.begin() + start, '\n'));  // ++ before each line
  size_t at = start;
  while (at < text.size()) {
    size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(at, end - at);
    at = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    const std::string where = source + ":" + std::to_string(line_no);
    const std::vector<std::string> w = words(line);
    if (w.empty()) continue;
    if (line[0] != ' ' && line[0] != '\t') {  // an output section (or a script statement)
      pending.reset();
      if (w[0][0] == '.' || w[0] == "COMMON") output_section = w[0];
      continue;
    }
    // Continuation of a long input section name: "  0xADDR 0xSIZE file".
    if (pending && w.size() >= 2 && looks_hex(w[0]) && looks_hex(w[1])) {
      LinkMapEntry e{output_section, *pending, "", hex(w[0], where), hex(w[1], where)};
      for (size_t i = 2; i < w.size(); ++i) e.file += (i > 2 ? " " : "") + w[i];
      map.entries.push_back(std::move(e));
      pending.reset();
      continue;
    }
    pending.reset();
    if (line.size() < 2 || line[0] != ' ' || line[1] == ' ') continue;  // symbols, assignments
    const bool fill = w[0] == "*fill*";
    if (!fill && w[0][0] != '.' && w[0] != "COMMON") continue;  // `*(.text*)` and the like
    if (w.size() == 1) {
      pending = w[0];
      continue;
    }
    if (w.size() < 3 || !looks_hex(w[1]) || !looks_hex(w[2])) continue;
    LinkMapEntry e{output_section, w[0], fill ? "*fill*" : "", hex(w[1], where), hex(w[2], where)};
    for (size_t i = 3; i < w.size(); ++i) e.file += (i > 3 ? " " : "") + w[i];
    if (e.file.empty()) e.file = "(linker)";
    map.entries.push_back(std::move(e));
  }
  return map;
}

LinkMap read_link_map(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open: " + std::strerror(errno));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw Error(path + ": read failed");
  return parse_link_map(text, path);
}

}  // namespace tinyforge::sim
