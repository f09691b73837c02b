// A small reader for 32-bit little-endian ARM ELF executables: program headers (PT_LOAD),
// section headers (name, address, size, type, flags) and the symbol table. Every header,
// offset, size, string index and table entry size is checked against the file before it is
// used; a damaged file throws sim::Error naming the field, never reads out of bounds.
// Field layout after the System V ABI "ELF" chapter (ELF32 Ehdr/Phdr/Shdr/Sym).
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tinyforge::sim {

constexpr uint32_t kShtNobits = 8;   // section occupies no file bytes (.bss, NOLOAD)
constexpr uint32_t kShfAlloc = 0x2;  // section occupies memory at run time

struct ElfSegment {    // a PT_LOAD program header and its file bytes
  uint32_t paddr = 0;  // load address (LMA): where the bytes are written at reset
  uint32_t vaddr = 0;  // run address (VMA)
  uint32_t memsz = 0;
  std::vector<uint8_t> data;  // p_filesz bytes
};

struct ElfSection {
  std::string name;
  uint32_t addr = 0, size = 0, type = 0, flags = 0;
};

struct ElfSymbol {
  uint32_t value = 0, size = 0;
};

// One entry of the symbol table as it is (for size maps: `tinyforge mapview`).
struct ElfSymbolEntry {
  std::string name;
  uint32_t value = 0, size = 0;
  uint8_t type = 0;      // STT_*: 0 none, 1 object, 2 func, 3 section, 4 file
  uint16_t section = 0;  // st_shndx: index into sections, 0 undefined, >= 0xff00 special
};
constexpr uint8_t kSttObject = 1, kSttFunc = 2;

struct ElfImage {
  std::vector<ElfSegment> segments;
  std::vector<ElfSection> sections;          // in file order
  std::map<std::string, ElfSymbol> symbols;  // named symbols; a later duplicate wins
  std::vector<ElfSymbolEntry> symbol_table;  // named symbols in table order
  bool has_symtab = false;

  const ElfSection* section(const std::string& name) const;  // last one of that name
  std::optional<ElfSymbol> symbol(const std::string& name) const;
};

// `source` names the file in error messages.
ElfImage parse_elf(const std::vector<uint8_t>& bytes, const std::string& source);
ElfImage read_elf(const std::string& path);

}  // namespace tinyforge::sim
