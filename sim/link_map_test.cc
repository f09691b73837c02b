#include "sim/link_map.h"

#include <gtest/gtest.h>

#include "sim/error.h"

namespace tinyforge::sim {
namespace {

constexpr const char* kMap = R"(Archive member included to satisfy reference by file (symbol)

Discarded input sections

 .text          0x00000000        0x0 /tmp/gone.o

Linker script and memory map

LOAD /tmp/main.o
.text           0x00000040      0x200
 *(.text*)
 .text.main     0x00000040       0x5c /tmp/main.o
                0x00000040                main
 .text.a_very_long_function_name_that_ld_puts_alone_on_its_line
                0x0000009c       0x20 libfoo.a(bar.o)
 *fill*         0x000000bc        0x4 
.bss            0x20000000      0x100
 .bss.buf       0x20000000      0x100 /tmp/main.o
)";

TEST(LinkMap, ReadsInputSectionsAfterTheMemoryMapHeader) {
  const LinkMap m = parse_link_map(kMap, "fw.map");
  ASSERT_EQ(m.entries.size(), 4u);
  EXPECT_EQ(m.entries[0].output_section, ".text");
  EXPECT_EQ(m.entries[0].input_section, ".text.main");
  EXPECT_EQ(m.entries[0].address, 0x40u);
  EXPECT_EQ(m.entries[0].size, 0x5cu);
  EXPECT_EQ(m.entries[0].file, "/tmp/main.o");
  EXPECT_EQ(m.entries[1].input_section,
            ".text.a_very_long_function_name_that_ld_puts_alone_on_its_line");
  EXPECT_EQ(m.entries[1].file, "libfoo.a(bar.o)");
  EXPECT_EQ(m.entries[1].size, 0x20u);
  EXPECT_EQ(m.entries[2].file, "*fill*");
  EXPECT_EQ(m.entries[3].output_section, ".bss");
  EXPECT_EQ(m.entries[3].address, 0x20000000u);
}

TEST(LinkMap, RefusesTextThatIsNotAMap) {
  try {
    parse_link_map("hello\n", "x.map");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("x.map: not a GNU ld map file"), std::string::npos);
  }
}

TEST(LinkMap, NamesTheLineOfAMalformedNumber) {
  try {
    parse_link_map("Linker script and memory map\n.text 0x0 0x10\n .text.a  0x00zz 0x4 a.o\n",
                   "y.map");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("y.map:3: `0x00zz` is not a hex number"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace tinyforge::sim
