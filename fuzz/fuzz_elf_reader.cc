// Fuzz target: arbitrary bytes as an ELF file (`bench`, `mapview`). parse_elf must refuse
// with sim::Error or accept without reading outside the bytes; what it accepts must be
// consistent: every symbol table entry has a name, every segment's bytes fit its size.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "sim/elf_reader.h"
#include "sim/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > (16u << 20)) return 0;
  const std::vector<uint8_t> bytes(data, data + size);
  try {
    const tinyforge::sim::ElfImage img = tinyforge::sim::parse_elf(bytes, "fuzz.elf");
    for (const auto& seg : img.segments)
      if (seg.data.size() > seg.memsz) std::abort();
    for (const auto& s : img.symbol_table)
      if (s.name.empty() || !img.symbol(s.name)) std::abort();
  } catch (const tinyforge::sim::Error&) {
  }
  return 0;
}
