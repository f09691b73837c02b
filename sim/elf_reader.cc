#include "sim/elf_reader.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include "sim/error.h"

namespace tinyforge::sim {
namespace {

// ELF32 field offsets (System V ABI, "ELF Header", "Program Header", "Sections",
// "Symbol Table").
constexpr uint32_t kEhdrSize = 52, kPhdrSize = 32, kShdrSize = 40, kSymSize = 16;
constexpr uint16_t kEmArm = 40;
constexpr uint32_t kPtLoad = 1, kShtSymtab = 2;
constexpr uint16_t kShnXindex = 0xFFFF;

class Reader {
 public:
  Reader(const std::vector<uint8_t>& bytes, const std::string& source) : b_(bytes), src_(source) {}

  [[noreturn]] void fail(const std::string& what) const {
    throw Error(src_ + ": not a valid ARM ELF32 file: " + what);
  }
  // [offset, offset + size) lies inside the file.
  void need(uint64_t offset, uint64_t size, const std::string& what) const {
    if (offset > b_.size() || size > b_.size() - offset)
      fail(what + " (bytes " + std::to_string(offset) + ".." + std::to_string(offset + size) +
           ") runs past the end of the " + std::to_string(b_.size()) + "-byte file");
  }
  uint16_t u16(uint64_t at) const {
    need(at, 2, "field");
    return static_cast<uint16_t>(b_[at] | b_[at + 1] << 8);
  }
  uint32_t u32(uint64_t at) const {
    need(at, 4, "field");
    return static_cast<uint32_t>(b_[at]) | static_cast<uint32_t>(b_[at + 1]) << 8 |
           static_cast<uint32_t>(b_[at + 2]) << 16 | static_cast<uint32_t>(b_[at + 3]) << 24;
  }
  // NUL-terminated string at table[index], the table being [table_off, +table_size).
  std::string str(uint64_t table_off, uint64_t table_size, uint32_t index,
                  const std::string& what) const {
    if (index >= table_size)
      fail(what + " name index " + std::to_string(index) + " outside its string table");
    const uint8_t* begin = b_.data() + table_off + index;
    const void* nul = std::memchr(begin, 0, table_size - index);
    if (!nul) fail(what + " name is not NUL-terminated inside its string table");
    return std::string(reinterpret_cast<const char*>(begin),
                       static_cast<const uint8_t*>(nul) - begin);
  }
  const std::vector<uint8_t>& bytes() const { return b_; }

 private:
  const std::vector<uint8_t>& b_;
  const std::string& src_;
};

struct RawSection {
  ElfSection s;
  uint32_t offset, link, entsize;
};

}  // namespace

const ElfSection* ElfImage::section(const std::string& name) const {
  const ElfSection* found = nullptr;
  for (const ElfSection& s : sections)
    if (s.name == name) found = &s;
  return found;
}

std::optional<ElfSymbol> ElfImage::symbol(const std::string& name) const {
  auto it = symbols.find(name);
  if (it == symbols.end()) return std::nullopt;
  return it->second;
}

ElfImage parse_elf(const std::vector<uint8_t>& bytes, const std::string& source) {
  Reader r(bytes, source);
  r.need(0, kEhdrSize, "ELF header");
  if (!(bytes[0] == 0x7F && bytes[1] == 'E' && bytes[2] == 'L' && bytes[3] == 'F'))
    r.fail("bad magic");
  if (bytes[4] != 1) r.fail("not a 32-bit ELF (EI_CLASS " + std::to_string(bytes[4]) + ")");
  if (bytes[5] != 1) r.fail("not little-endian (EI_DATA " + std::to_string(bytes[5]) + ")");
  if (bytes[6] != 1) r.fail("unknown ELF version " + std::to_string(bytes[6]));
  if (r.u16(18) != kEmArm) r.fail("machine " + std::to_string(r.u16(18)) + " is not ARM (40)");
  const uint32_t phoff = r.u32(28), shoff = r.u32(32);
  const uint16_t phentsize = r.u16(42), phnum = r.u16(44);
  const uint16_t shentsize = r.u16(46), shnum = r.u16(48), shstrndx = r.u16(50);

  ElfImage img;
  if (phnum > 0) {
    if (phentsize != kPhdrSize)
      r.fail("program header size " + std::to_string(phentsize) + ", expected 32");
    r.need(phoff, uint64_t{phnum} * kPhdrSize, "program header table");
  }
  for (uint32_t i = 0; i < phnum; ++i) {
    const uint64_t at = phoff + uint64_t{i} * kPhdrSize;
    if (r.u32(at) != kPtLoad) continue;
    const uint32_t offset = r.u32(at + 4), filesz = r.u32(at + 16), memsz = r.u32(at + 20);
    ElfSegment seg;
    seg.vaddr = r.u32(at + 8);
    seg.paddr = r.u32(at + 12);
    seg.memsz = memsz;
    const std::string what = "PT_LOAD segment " + std::to_string(i);
    if (filesz > memsz)
      r.fail(what + ": file size " + std::to_string(filesz) + " exceeds memory size " +
             std::to_string(memsz));
    if (uint64_t{seg.paddr} + memsz > (uint64_t{1} << 32) ||
        uint64_t{seg.vaddr} + memsz > (uint64_t{1} << 32))
      r.fail(what + ": runs past the 4 GiB address space");
    r.need(offset, filesz, what);
    seg.data.assign(bytes.begin() + offset, bytes.begin() + offset + filesz);
    img.segments.push_back(std::move(seg));
  }

  if (shnum == 0) {
    if (shoff != 0) r.fail("extended section numbering is not supported");
    return img;
  }
  if (shentsize != kShdrSize)
    r.fail("section header size " + std::to_string(shentsize) + ", expected 40");
  r.need(shoff, uint64_t{shnum} * kShdrSize, "section header table");
  if (shstrndx == kShnXindex || shstrndx >= shnum)
    r.fail("section name table index " + std::to_string(shstrndx) + " out of range");

  std::vector<RawSection> raw(shnum);
  for (uint32_t i = 0; i < shnum; ++i) {
    const uint64_t at = shoff + uint64_t{i} * kShdrSize;
    RawSection& s = raw[i];
    s.s.type = r.u32(at + 4);
    s.s.flags = r.u32(at + 8);
    s.s.addr = r.u32(at + 12);
    s.offset = r.u32(at + 16);
    s.s.size = r.u32(at + 20);
    s.link = r.u32(at + 24);
    s.entsize = r.u32(at + 36);
    if (s.s.type != kShtNobits) r.need(s.offset, s.s.size, "section " + std::to_string(i));
  }
  const RawSection& names = raw[shstrndx];
  if (names.s.type == kShtNobits) r.fail("section name table has no file bytes");
  for (uint32_t i = 0; i < shnum; ++i) {
    const uint32_t name_index = r.u32(shoff + uint64_t{i} * kShdrSize);
    raw[i].s.name =
        i == 0 ? "" : r.str(names.offset, names.s.size, name_index, "section " + std::to_string(i));
    img.sections.push_back(raw[i].s);
  }

  for (const RawSection& s : raw) {
    if (s.s.name != ".symtab") continue;
    if (s.s.type != kShtSymtab)
      r.fail(".symtab is not a symbol table (type " + std::to_string(s.s.type) + ")");
    if (s.entsize != kSymSize)
      r.fail(".symtab entry size " + std::to_string(s.entsize) + ", expected 16");
    if (s.s.size % kSymSize != 0) r.fail(".symtab size is not a multiple of 16");
    if (s.link == 0 || s.link >= shnum)
      r.fail(".symtab string table index " + std::to_string(s.link) + " out of range");
    const RawSection& strtab = raw[s.link];
    if (strtab.s.type == kShtNobits) r.fail(".symtab string table has no file bytes");
    img.has_symtab = true;
    for (uint32_t k = 1; k < s.s.size / kSymSize; ++k) {  // entry 0 is the undefined symbol
      const uint64_t at = uint64_t{s.offset} + uint64_t{k} * kSymSize;
      const std::string name =
          r.str(strtab.offset, strtab.s.size, r.u32(at), "symbol " + std::to_string(k));
      if (name.empty()) continue;
      img.symbols[name] = ElfSymbol{r.u32(at + 4), r.u32(at + 8)};
      const uint32_t info_shndx = r.u32(at + 12);  // st_info, st_other, st_shndx (LE)
      img.symbol_table.push_back({name, r.u32(at + 4), r.u32(at + 8),
                                  static_cast<uint8_t>(info_shndx & 0xF),
                                  static_cast<uint16_t>(info_shndx >> 16)});
    }
  }
  return img;
}

ElfImage read_elf(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open: " + std::strerror(errno));
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
  if (in.bad()) throw Error(path + ": read failed");
  return parse_elf(bytes, path);
}

}  // namespace tinyforge::sim
