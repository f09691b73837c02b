// A reader for GNU ld map files (`-Wl,-Map=firmware.map`): the input sections the linker
// placed, from the "Linker script and memory map" part on. Each entry is one input section
// contribution: output section, input section name, address, size and the object file
// (archive(member) as ld prints it); `*fill*` padding is an entry with file "*fill*".
// Lines of other shapes (assignments, symbols, script statements) are skipped; a line that
// looks like a contribution but holds a malformed number throws sim::Error naming the line.
// Never reads out of bounds; input larger than 256 MiB is refused.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace tinyforge::sim {

struct LinkMapEntry {
  std::string output_section, input_section, file;
  uint64_t address = 0, size = 0;
};

struct LinkMap {
  std::vector<LinkMapEntry> entries;
};

// `source` names the file in error messages.
LinkMap parse_link_map(const std::string& text, const std::string& source);
LinkMap read_link_map(const std::string& path);

}  // namespace tinyforge::sim
