// The Cortex-M targets and boards tinyforge builds firmware for, read from
// targets/targets.json (compiler flags, emulated CPU, default board) and targets/boards.json
// (memory map, clock, Run-mode current, voltage, sources). Both files are validated field by field;
// errors (tinyforge::Error) name the file and the entry.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tinyforge::emit {

// Root of the tinyforge tree that holds targets/ and runtime/: $TINYFORGE_HOME when set,
// else the source tree this binary was built from.
std::string tinyforge_home();

struct CortexMTarget {
  std::string name;                    // "cortex-m4"
  std::vector<std::string> cpu_flags;  // -mcpu=... -mthumb -mfpu=... -mfloat-abi=...
  std::string emulator_cpu;            // sim::cpu_from_name() name
  std::string default_board;           // clock/current/voltage when --board is absent
};

struct MemoryRegion {
  uint32_t origin = 0, bytes = 0;
};

// A further memory region of a board (CCM, AXI SRAM, ...) for --memory.
struct NamedRegion {
  std::string name;
  uint32_t origin = 0, bytes = 0;
  std::optional<uint32_t> wait_states;
};

struct Board {
  std::string name, description, target;
  MemoryRegion flash, ram;
  std::optional<uint32_t> flash_wait_states;  // data reads from flash at clock_mhz
  std::vector<NamedRegion> regions;
  double clock_mhz = 0, active_ua_per_mhz = 0, voltage = 0;
  // Figures ("clock_mhz", "active_ua_per_mhz", "voltage", "flash_wait_states", "memory")
  // whose datasheet source could not be verified (boards.json "unverified").
  std::vector<std::string> unverified;
};

// The generic map (no --board): flash 4 MiB at 0x0, RAM 4 MiB at 0x20000000, the memory
// of QEMU's mps2-an386, so the same image boots there.
MemoryRegion generic_flash();
MemoryRegion generic_ram();

std::vector<CortexMTarget> load_targets(const std::string& path);
std::vector<Board> load_boards(const std::string& path);

// From <home>/targets/. Throw tinyforge::Error listing the known names when `name` is unknown.
CortexMTarget find_target(const std::string& name);
Board find_board(const std::string& name);
std::vector<Board> all_boards();
std::vector<CortexMTarget> all_targets();

}  // namespace tinyforge::emit
