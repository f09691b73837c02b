// Fuzz target: arbitrary text as a GNU ld map file (`mapview --map`). parse_link_map must
// refuse with sim::Error or accept without reading out of bounds.
#include <cstddef>
#include <cstdint>
#include <string>

#include "sim/error.h"
#include "sim/link_map.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > (4u << 20)) return 0;
  // Most inputs lack the header the parser looks for first: prepend it to half of them so
  // mutations reach the line parser.
  std::string text(reinterpret_cast<const char*>(data), size);
  if (size && (data[0] & 1)) text = "Linker script and memory map\n" + text;
  try {
    tinyforge::sim::parse_link_map(text, "fuzz.map");
  } catch (const tinyforge::sim::Error&) {
  }
  return 0;
}
