// A small arm-none-eabi ELF built from C source inside a test (for `mapview`): any
// firmware, not one of tinyforge's. Requires arm-none-eabi-gcc (emit::cross_toolchain_available).
#pragma once
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace tinyforge::testing {

// Writes `source` to DIR/NAME.c and links DIR/NAME.elf (+ DIR/NAME.map); true on success.
inline bool build_arm_elf(const std::filesystem::path& dir, const std::string& name,
                          const std::string& source) {
  const std::filesystem::path c = dir / (name + ".c");
  std::ofstream(c) << source;
  const std::string cmd =
      "arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -Os -ffunction-sections -fdata-sections "
      "--specs=nosys.specs -Wl,--gc-sections -Wl,-Map='" +
      (dir / (name + ".map")).string() + "' '" + c.string() + "' -o '" +
      (dir / (name + ".elf")).string() + "' >'" + (dir / (name + ".log")).string() + "' 2>&1";
  return std::system(cmd.c_str()) == 0;
}

// A C program with a function, a const table (flash), initialised data and a buffer (bss);
// `table_words` sizes the const table so two builds differ in one symbol.
inline std::string small_c_program(int table_words) {
  return "#include <stdint.h>\n"
         "const uint32_t lookup_table[" +
         std::to_string(table_words) +
         "] = {1, 2, 3};\n"
         "uint32_t counter = 7;\n"
         "uint8_t work_buffer[512];\n"
         "__attribute__((noinline)) uint32_t checksum(const uint8_t* p, uint32_t n) {\n"
         "  uint32_t s = counter;\n"
         "  for (uint32_t i = 0; i < n; ++i) s = s * 31u + p[i] + lookup_table[i % " +
         std::to_string(table_words) +
         "];\n"
         "  return s;\n"
         "}\n"
         "int main(void) {\n"
         "  for (int i = 0; i < 512; ++i) work_buffer[i] = (uint8_t)i;\n"
         "  return (int)checksum(work_buffer, sizeof work_buffer);\n"
         "}\n";
}

}  // namespace tinyforge::testing
