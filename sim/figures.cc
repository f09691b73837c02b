#include "sim/figures.h"

namespace tinyforge::sim {

Figures compute_figures(const RunResult& run, const PowerModel& power, uint64_t arena_capacity) {
  Figures f;
  if (power.clock_mhz > 0)
    f.latency_seconds = static_cast<double>(run.cycles_estimate) / (power.clock_mhz * 1e6);
  const double amperes = power.active_ua_per_mhz * power.clock_mhz * 1e-6;
  f.energy_joules = amperes * power.voltage * f.latency_seconds;
  f.arena_used_bytes = run.arena_used.value_or(0);
  f.stack_bytes = run.stack_bytes;
  f.static_other_bytes =
      run.ram_static_bytes > arena_capacity ? run.ram_static_bytes - arena_capacity : 0;
  f.ram_bytes = f.arena_used_bytes + f.stack_bytes + f.static_other_bytes;
  f.flash_bytes = run.flash_bytes;
  f.model_bytes = run.model_bytes.value_or(0);
  f.code_bytes = run.code_bytes.value_or(run.flash_bytes);
  return f;
}

DutyFigures duty_figures(const Figures& f, double inferences_per_second) {
  constexpr double kSecondsPerHour = 3600;
  DutyFigures d;
  d.inferences_per_second = inferences_per_second;
  d.busy_fraction = inferences_per_second * f.latency_seconds;
  d.average_power_watts = inferences_per_second * f.energy_joules;
  d.energy_per_hour_joules = d.average_power_watts * kSecondsPerHour;
  return d;
}

}  // namespace tinyforge::sim
