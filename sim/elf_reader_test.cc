// The ELF reader accepts a well-formed ARM ELF32 and rejects every damaged header, offset
// and table with sim::Error (never a crash): a hand-built image mutated field by field, plus
// random corruption of the same image.
#include "sim/elf_reader.h"

#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <random>

#include "expect_error.h"
#include "sim/error.h"

namespace tinyforge::sim {
namespace {

void put16(std::vector<uint8_t>& b, size_t at, uint16_t v) {
  b[at] = v & 0xFF;
  b[at + 1] = v >> 8;
}
void put32(std::vector<uint8_t>& b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + i] = (v >> (8 * i)) & 0xFF;
}
void append(std::vector<uint8_t>& b, const void* data, size_t size) {
  const size_t at = b.size();
  b.resize(at + size);
  std::memcpy(b.data() + at, data, size);
}

// Offsets of the parts of the image built below, for the mutations.
struct Layout {
  size_t phoff = 52, text = 84, symtab = 0, strtab = 0, shstrtab = 0, shoff = 0;
};

// ELF32 ARM executable: one PT_LOAD (8 bytes of .text at 0x0, memsz 16), sections
// [null, .text, .bss, .symtab, .strtab, .shstrtab], symbols `reset` and `buffer`.
std::vector<uint8_t> make_elf(Layout& l) {
  std::vector<uint8_t> b(52 + 32, 0);
  const uint8_t ident[] = {0x7F, 'E', 'L', 'F', 1, 1, 1};
  std::memcpy(b.data(), ident, sizeof ident);
  put16(b, 16, 2);   // ET_EXEC
  put16(b, 18, 40);  // EM_ARM
  put32(b, 20, 1);
  put32(b, 28, 52);  // e_phoff
  put16(b, 40, 52);
  put16(b, 42, 32);
  put16(b, 44, 1);
  put16(b, 46, 40);
  // .text
  l.text = b.size();
  const uint8_t text[] = {0x00, 0x10, 0x00, 0x20,
                          0x09, 0x00, 0x00, 0x00};  // SP 0x20001000, reset 0x9
  append(b, text, sizeof text);
  // program header
  put32(b, 52 + 0, 1);       // PT_LOAD
  put32(b, 52 + 4, l.text);  // p_offset
  put32(b, 52 + 8, 0);       // vaddr
  put32(b, 52 + 12, 0);      // paddr
  put32(b, 52 + 16, 8);      // filesz
  put32(b, 52 + 20, 16);     // memsz
  // .strtab
  const char strtab[] = "\0reset\0buffer\0";
  l.strtab = b.size();
  append(b, strtab, sizeof strtab);
  while (b.size() % 4) b.push_back(0);
  // .symtab: null, reset (value 9, size 2), buffer (value 0x20000000, size 64)
  l.symtab = b.size();
  b.resize(b.size() + 3 * 16, 0);
  put32(b, l.symtab + 16, 1);
  put32(b, l.symtab + 20, 9);
  put32(b, l.symtab + 24, 2);
  put32(b, l.symtab + 32, 7);
  put32(b, l.symtab + 36, 0x20000000);
  put32(b, l.symtab + 40, 64);
  // .shstrtab
  const char shstr[] = "\0.text\0.bss\0.symtab\0.strtab\0.shstrtab\0";
  l.shstrtab = b.size();
  append(b, shstr, sizeof shstr);
  while (b.size() % 4) b.push_back(0);
  // section headers
  l.shoff = b.size();
  b.resize(b.size() + 6 * 40, 0);
  auto sh = [&](int i, uint32_t name, uint32_t type, uint32_t flags, uint32_t addr, uint32_t off,
                uint32_t size, uint32_t link, uint32_t entsize) {
    const size_t at = l.shoff + 40 * i;
    put32(b, at, name);
    put32(b, at + 4, type);
    put32(b, at + 8, flags);
    put32(b, at + 12, addr);
    put32(b, at + 16, off);
    put32(b, at + 20, size);
    put32(b, at + 24, link);
    put32(b, at + 36, entsize);
  };
  sh(1, 1, 1, 0x6, 0, l.text, 8, 0, 0);                // .text
  sh(2, 7, 8, 0x3, 0x20000000, 0, 64, 0, 0);           // .bss (NOBITS)
  sh(3, 12, 2, 0, 0, l.symtab, 48, 4, 16);             // .symtab -> .strtab
  sh(4, 20, 3, 0, 0, l.strtab, sizeof strtab, 0, 0);   // .strtab
  sh(5, 28, 3, 0, 0, l.shstrtab, sizeof shstr, 0, 0);  // .shstrtab
  put32(b, 32, l.shoff);
  put16(b, 48, 6);
  put16(b, 50, 5);
  return b;
}

void expect_rejected(const std::vector<uint8_t>& bytes, const std::string& fragment) {
  try {
    parse_elf(bytes, "test.elf");
    ADD_FAILURE() << "accepted a damaged ELF (expected: " << fragment << ")";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("test.elf"), std::string::npos) << e.what();
  }
}

TEST(ElfReader, ReadsSegmentsSectionsAndSymbols) {
  Layout l;
  const ElfImage img = parse_elf(make_elf(l), "test.elf");
  ASSERT_EQ(img.segments.size(), 1u);
  EXPECT_EQ(img.segments[0].memsz, 16u);
  EXPECT_EQ(img.segments[0].data.size(), 8u);
  EXPECT_EQ(img.segments[0].data[4], 0x09);
  ASSERT_NE(img.section(".bss"), nullptr);
  EXPECT_EQ(img.section(".bss")->type, kShtNobits);
  EXPECT_EQ(img.section(".bss")->addr, 0x20000000u);
  EXPECT_EQ(img.section(".missing"), nullptr);
  ASSERT_TRUE(img.has_symtab);
  ASSERT_TRUE(img.symbol("reset"));
  EXPECT_EQ(img.symbol("reset")->value, 9u);
  EXPECT_EQ(img.symbol("buffer")->size, 64u);
  EXPECT_FALSE(img.symbol("nothing"));
}

TEST(ElfReader, RejectsDamagedHeaders) {
  Layout l;
  const std::vector<uint8_t> good = make_elf(l);
  struct Case {
    const char* what;
    std::function<void(std::vector<uint8_t>&)> damage;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"empty", [](auto& b) { b.clear(); }, "ELF header"},
      {"truncated header", [](auto& b) { b.resize(40); }, "ELF header"},
      {"magic", [](auto& b) { b[1] = 'X'; }, "bad magic"},
      {"64-bit", [](auto& b) { b[4] = 2; }, "32-bit"},
      {"big-endian", [](auto& b) { b[5] = 2; }, "little-endian"},
      {"version", [](auto& b) { b[6] = 9; }, "version"},
      {"machine", [](auto& b) { put16(b, 18, 62); }, "not ARM"},
      {"phentsize", [](auto& b) { put16(b, 42, 56); }, "program header size"},
      {"phoff past end", [](auto& b) { put32(b, 28, 0xFFFFFFF0u); }, "program header table"},
      {"segment past end",
       [&](auto& b) { put32(b, l.phoff + 4, static_cast<uint32_t>(b.size()) - 4); },
       "PT_LOAD segment 0"},
      {"filesz > memsz", [&](auto& b) { put32(b, l.phoff + 20, 4); }, "exceeds memory size"},
      {"segment wraps 4 GiB", [&](auto& b) { put32(b, l.phoff + 8, 0xFFFFFFF8u); }, "4 GiB"},
      {"shentsize", [](auto& b) { put16(b, 46, 64); }, "section header size"},
      {"shoff past end", [](auto& b) { put32(b, 32, 0x7FFFFFFF); }, "section header table"},
      {"shstrndx", [](auto& b) { put16(b, 50, 6); }, "name table index"},
      {"shstrndx xindex", [](auto& b) { put16(b, 50, 0xFFFF); }, "name table index"},
      {"section past end", [&](auto& b) { put32(b, l.shoff + 40 * 1 + 20, 0x10000); }, "section 1"},
      {"section name index", [&](auto& b) { put32(b, l.shoff + 40 * 2, 500); },
       "outside its string table"},
      {"unterminated names", [&](auto& b) { put32(b, l.shoff + 40 * 5 + 20, 3); },
       "not NUL-terminated"},
      {"symtab entsize", [&](auto& b) { put32(b, l.shoff + 40 * 3 + 36, 24); }, "entry size"},
      {"symtab size", [&](auto& b) { put32(b, l.shoff + 40 * 3 + 20, 40); }, "multiple of 16"},
      {"symtab link", [&](auto& b) { put32(b, l.shoff + 40 * 3 + 24, 9); }, "string table index"},
      {"symtab type", [&](auto& b) { put32(b, l.shoff + 40 * 3 + 4, 1); }, "not a symbol table"},
      {"symbol name", [&](auto& b) { put32(b, l.symtab + 16, 1000); }, "symbol 1"},
      {"extended numbering", [](auto& b) { put16(b, 48, 0); }, "extended section numbering"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    std::vector<uint8_t> bad = good;
    c.damage(bad);
    expect_rejected(bad, c.message);
  }
}

// Random damage: every outcome is either a parsed image or sim::Error.
TEST(ElfReader, SurvivesRandomCorruption) {
  Layout l;
  const std::vector<uint8_t> good = make_elf(l);
  std::mt19937 rng(1234);
  int rejected = 0;
  for (int round = 0; round < 3000; ++round) {
    std::vector<uint8_t> bad = good;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < flips; ++i) bad[rng() % bad.size()] = static_cast<uint8_t>(rng());
    if (rng() % 8 == 0) bad.resize(rng() % bad.size());
    try {
      parse_elf(bad, "fuzz.elf");
    } catch (const Error&) {
      ++rejected;
    }
  }
  EXPECT_GT(rejected, 100);  // many mutations hit validated fields
}

TEST(ElfReader, MissingFileIsAnError) {
  EXPECT_ERROR(read_elf("/nonexistent/firmware.elf"), Error, "cannot open");
}

}  // namespace
}  // namespace tinyforge::sim
