#include "emit/memory_map.h"

#include <fmt/format.h>

#include <optional>

#include "ir/error.h"

namespace tinyforge::emit {
namespace {

// Generic-map bases for common region names; the addresses follow the usual Cortex-M map
// (Armv7-M ARM B3.1: code 0x00000000, SRAM 0x20000000, external RAM 0x60000000) and ST's
// CCM RAM at 0x10000000 (STM32F405/407). Only meaningful for the emulator's generic map.
std::optional<uint32_t> generic_origin(const std::string& name) {
  if (name == "sram" || name == "ram") return generic_ram().origin;
  if (name == "flash") return generic_flash().origin;
  if (name == "ccm") return 0x10000000u;
  if (name == "psram" || name == "sdram") return 0x60000000u;
  return std::nullopt;
}

struct BoardRegion {
  uint32_t origin = 0, bytes = 0;
  std::optional<uint32_t> wait_states;
};

std::optional<BoardRegion> board_region(const Board& board, const std::string& name) {
  if (name == "flash")
    return BoardRegion{board.flash.origin, board.flash.bytes, board.flash_wait_states};
  if (name == "sram" || name == "ram")
    return BoardRegion{board.ram.origin, board.ram.bytes, std::nullopt};
  for (const NamedRegion& r : board.regions)
    if (r.name == name) return BoardRegion{r.origin, r.bytes, r.wait_states};
  return std::nullopt;
}

}  // namespace

std::vector<PlacedRegion> place_memory(const std::vector<plan::MemoryRegionSpec>& spec,
                                       const Board* board) {
  const MemoryRegion ram = board ? board->ram : generic_ram();
  std::vector<PlacedRegion> out;
  for (const plan::MemoryRegionSpec& s : spec) {
    PlacedRegion p{s, false};
    const std::optional<BoardRegion> on_board = board ? board_region(*board, s.name) : std::nullopt;
    if (!s.origin) {
      if (on_board)
        p.spec.origin = on_board->origin;
      else if (!board)
        p.spec.origin = generic_origin(s.name);
      if (!p.spec.origin)
        throw tinyforge::Error(fmt::format(
            "--memory: region '{}' has no known base address on {} (give it one: {}=SIZE:at=0x...)",
            s.name, board ? "board " + board->name : "the generic map", s.name));
    }
    if (on_board && !s.origin && s.bytes > on_board->bytes)
      throw tinyforge::Error(
          fmt::format("--memory: region '{}' is {} bytes on board {}, the spec gives it {}", s.name,
                      on_board->bytes, board->name, s.bytes));
    if (!s.wait_states_given && on_board && on_board->wait_states)
      p.spec.wait_states = *on_board->wait_states;
    p.main_ram = !s.xip && *p.spec.origin == ram.origin;
    out.push_back(std::move(p));
  }
  for (size_t i = 0; i < out.size(); ++i) {
    const uint64_t a0 = *out[i].spec.origin, a1 = a0 + out[i].spec.bytes;
    if (!out[i].main_ram && !out[i].spec.xip && a0 < uint64_t{ram.origin} + ram.bytes &&
        ram.origin < a1)
      throw tinyforge::Error(fmt::format(
          "--memory: region '{}' overlaps the main RAM (stack and static data) without starting "
          "at its base 0x{:08x}",
          out[i].spec.name, ram.origin));
    for (size_t j = i + 1; j < out.size(); ++j) {
      const uint64_t b0 = *out[j].spec.origin, b1 = b0 + out[j].spec.bytes;
      if (a0 < b1 && b0 < a1)
        throw tinyforge::Error(fmt::format("--memory: regions '{}' and '{}' overlap",
                                           out[i].spec.name, out[j].spec.name));
    }
  }
  return out;
}

std::vector<plan::MemoryRegionSpec> resolved_spec(const std::vector<PlacedRegion>& placed) {
  std::vector<plan::MemoryRegionSpec> out;
  for (const PlacedRegion& p : placed) out.push_back(p.spec);
  return out;
}

}  // namespace tinyforge::emit
