// What `tinyforge bench` reports, derived from one emulated run and a board:
//   latency = estimated cycles / clock
//   energy  = active current (uA/MHz * MHz) * voltage * latency
//   RAM     = arena used + stack high-water + other static RAM, where other static RAM
//             is every RAM section (.data, .bss, .noinit: I/O buffers, runtime state)
//             minus the arena buffer itself (counted by "arena used" instead)
//   flash   = code + model (.tinyforge.model)
//   at a duty of N inferences per second: busy fraction = N * latency, energy per hour =
//   N * 3600 * energy (the core's active energy only: sleep between inferences is not
//   counted), average active power = N * energy
// RAM comparable with the reference anchors (their ram_bytes) = arena used + stack.
#pragma once
#include <cstdint>

#include "sim/emulator.h"

namespace tinyforge::sim {

struct PowerModel {
  double clock_mhz = 0, active_ua_per_mhz = 0, voltage = 0;
};

struct Figures {
  double latency_seconds = 0, energy_joules = 0;
  uint64_t arena_used_bytes = 0, stack_bytes = 0, static_other_bytes = 0, ram_bytes = 0;
  uint64_t flash_bytes = 0, code_bytes = 0, model_bytes = 0;
  uint64_t anchor_ram_bytes() const { return arena_used_bytes + stack_bytes; }
};

// `arena_capacity`: size of the firmware's arena buffer (its ELF symbol size), 0 if none.
Figures compute_figures(const RunResult& run, const PowerModel& power, uint64_t arena_capacity);

struct DutyFigures {
  double inferences_per_second = 0;
  double busy_fraction = 0;  // > 1: the core cannot keep up with that rate
  double energy_per_hour_joules = 0, average_power_watts = 0;
};
DutyFigures duty_figures(const Figures& f, double inferences_per_second);

}  // namespace tinyforge::sim
