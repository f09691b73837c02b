// tinyforge bench MODEL [--target T] [--board B] [--memory SPEC] [--optimize M] [--input F ...]
//                       [--case N] [--budget ram=64K,flash=256K,latency=50ms,energy=100uJ]
//                       [--duty N] [--json]
// Builds the firmware, runs it in the built-in Cortex-M emulator (sim/), checks its output
// against the host runtime (int outputs byte for byte, float32 within the tolerance of
// docs/numerics.md) and reports instructions, cycles, latency, energy, RAM and flash.
// Exit 3 when a figure is over the budget (all such figures are named), 4 when the outputs
// differ.
#include <fmt/format.h>

#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/contract.h"
#include "cli/temp_dir.h"
#include "emit/firmware.h"
#include "host/host_runner.h"
#include "io/files.h"
#include "sim/budget.h"
#include "sim/emulator.h"
#include "sim/error.h"
#include "sim/figures.h"
#include "sim/output_check.h"

namespace tinyforge::cli {
namespace {

struct Options {
  std::string model, target = "cortex-m4", board, budget, keep_dir, kernels = "model", memory;
  plan::Optimize optimize = plan::Optimize::balanced;
  double duty = 1;  // inferences per second for the energy-per-hour figure
  std::vector<std::string> inputs;
  uint32_t case_index = 0;
  uint64_t max_instructions = sim::RunOptions{}.max_instructions;
  Result result;
};

// One tensor per model input: from --input files (case `case_index`), or every element
// at the input's zero point (0.0 for float), which is golden case 0 of ../shared/golden.
std::vector<std::vector<uint8_t>> model_inputs(const Options& o, const host::HostRunner& runner) {
  const Runtime& rt = runner.runtime();
  std::vector<std::vector<uint8_t>> inputs;
  if (!o.inputs.empty() && o.inputs.size() != rt.num_inputs())
    throw tinyforge::Error(fmt::format("{}: the model has {} input(s), {} --input given", o.model,
                                       rt.num_inputs(), o.inputs.size()));
  for (uint32_t i = 0; i < rt.num_inputs(); ++i) {
    const TensorView v = rt.input(i);
    if (!o.inputs.empty()) {
      const std::vector<uint8_t> file = io::read_file(o.inputs[i]);
      check_tensor_file(o.inputs[i], file, v.type, v.bytes);
      const uint64_t begin = uint64_t{o.case_index} * v.bytes;
      if (begin + v.bytes > file.size())
        throw UsageError(fmt::format("{}: holds {} case(s), --case {} asked (cases count from 0)",
                                     o.inputs[i], file.size() / v.bytes, o.case_index));
      inputs.emplace_back(file.begin() + begin, file.begin() + begin + v.bytes);
      continue;
    }
    const uint32_t size = dtype_size(v.type);
    std::vector<uint8_t> t(v.bytes, 0);
    if (v.type != DType::f32 && size > 0)
      for (uint32_t at = 0; at + size <= v.bytes; at += size)
        for (uint32_t b = 0; b < size; ++b)
          t[at + b] = static_cast<uint8_t>(static_cast<uint32_t>(v.zero_point) >> (8 * b));
    inputs.push_back(std::move(t));
  }
  return inputs;
}

std::string hex_bytes(const std::vector<uint8_t>& b) {
  std::string s;
  for (uint8_t x : b) s += fmt::format("{:02x}", x);
  return s;
}

void bench(const Options& o) {
  const std::optional<sim::Budget> budget =
      o.budget.empty() ? std::nullopt : std::optional<sim::Budget>(sim::parse_budget(o.budget));
  const std::vector<plan::MemoryRegionSpec> memory = resolved_memory(o.memory, o.board);
  const std::vector<uint8_t> blob = blob_for_target(o.model, o.target, memory, o.optimize);
  host::HostRunner runner(blob, o.model);
  const auto inputs = model_inputs(o, runner);
  std::vector<uint8_t> input_bytes;
  for (const auto& t : inputs) input_bytes.insert(input_bytes.end(), t.begin(), t.end());

  TempDir dir("tinyforge-bench", o.keep_dir);
  emit::FirmwareOptions fw;
  fw.target = o.target;
  fw.board = o.board;
  fw.kernels = o.kernels;
  fw.memory = memory;
  const emit::FirmwareImage image = emit::build_firmware(blob, fw, dir.path(), note);
  const sim::ElfImage elf = sim::read_elf(image.elf_path);
  sim::RunOptions run_options;
  run_options.cpu = sim::cpu_from_name(image.target.emulator_cpu);
  run_options.input = input_bytes;
  run_options.max_instructions = o.max_instructions;
  for (const emit::PlacedRegion& r : image.memory)
    run_options.wait_states.push_back(
        {r.spec.name, *r.spec.origin, uint64_t{*r.spec.origin} + r.spec.bytes, r.spec.wait_states});
  Progress progress("emulating on " + image.target.name + " (million instructions)");
  run_options.progress = [&](uint64_t n) { progress.update(n / 1000000, 0); };
  sim::RunResult run;
  try {
    run = sim::run_firmware(elf, run_options);
  } catch (const sim::Error& e) {
    throw tinyforge::Error(o.model + ": the firmware on the emulator: " + e.what());
  }
  progress.finish();

  std::vector<uint8_t> host_output;
  for (const auto& out : runner.run(inputs, 1))
    host_output.insert(host_output.end(), out.begin(), out.end());
  std::vector<sim::OutputLayout> layout;
  for (uint32_t i = 0; i < runner.runtime().num_outputs(); ++i) {
    const TensorView v = runner.runtime().output(i);
    layout.push_back({v.type == DType::f32, v.bytes});
  }
  const sim::OutputCheck cmp = sim::check_outputs(layout, run.output, host_output);
  if (cmp.differing)
    throw VerifyError(fmt::format(
        "{}: the device's output differs from the host runtime's in {} of {} element(s); first: {} "
        "(float tolerance {:g} + {:g} x |host|, docs/numerics.md)",
        o.model, cmp.differing, cmp.elements, cmp.first, sim::kFloatAbsTol, sim::kFloatRelTol));

  const sim::PowerModel power{image.board.clock_mhz, image.board.active_ua_per_mhz,
                              image.board.voltage};
  // The arena buffers counted in static RAM (a region below 0x20000000, e.g. CCM, is not).
  uint64_t arena_capacity = 0;
  for (const char* name : {"tinyforge_arena", "tinyforge_arena_1", "tinyforge_arena_2"})
    if (const auto s = elf.symbol(name); s && s->value >= 0x20000000u) arena_capacity += s->size;
  const sim::Figures f = sim::compute_figures(run, power, arena_capacity);
  const sim::DutyFigures d = sim::duty_figures(f, o.duty);
  std::vector<std::string> over;
  if (budget)
    over =
        sim::over_budget(*budget, {f.ram_bytes, f.flash_bytes, f.latency_seconds, f.energy_joules});
  const bool stack_full = run.stack_bytes >= run.stack_region_bytes;

  nlohmann::ordered_json j;
  {
    j["model"] = o.model;
    j["target"] = image.target.name;
    j["board"] = image.board.name;
    j["memory_map"] = image.generic_map ? "generic" : image.board.name;
    j["clock_mhz"] = image.board.clock_mhz;
    j["instructions"] = run.instructions;
    j["cycles_estimate"] = run.cycles_estimate;
    j["timing_model"] = sim::timing_model_name(run.timing);
    j["taken_branches"] = run.taken_branches;
    j["latency_us"] = f.latency_seconds * 1e6;
    j["energy_uj"] = f.energy_joules * 1e6;
    j["duty"] = {{"inferences_per_s", d.inferences_per_second},
                 {"busy_fraction", d.busy_fraction},
                 {"energy_per_hour_j", d.energy_per_hour_joules},
                 {"average_power_uw", d.average_power_watts * 1e6}};
    j["unverified_figures"] = image.board.unverified;
    j["ram_bytes"] = f.ram_bytes;
    j["arena_used_bytes"] = f.arena_used_bytes;
    j["stack_bytes"] = f.stack_bytes;
    j["static_other_bytes"] = f.static_other_bytes;
    j["ram_static_bytes"] = run.ram_static_bytes;
    j["flash_bytes"] = f.flash_bytes;
    j["code_bytes"] = f.code_bytes;
    j["model_bytes"] = f.model_bytes;
    j["output_bytes"] = run.output.size();
    j["output_hex"] = hex_bytes(run.output);
    j["output_matches_host"] = true;
    j["output_max_abs_diff"] = cmp.max_abs;
    j["stack_overflow_suspected"] = stack_full;
    if (budget) j["over_budget"] = over;
    if (!run.region_accesses.empty()) {
      j["memory_regions"] = nlohmann::ordered_json::array();
      for (size_t i = 0; i < run.region_accesses.size(); ++i)
        j["memory_regions"].push_back({{"name", run.region_accesses[i].name},
                                       {"wait_states", run_options.wait_states[i].wait_states},
                                       {"accesses", run.region_accesses[i].accesses},
                                       {"wait_cycles", run.region_accesses[i].wait_cycles}});
    }
  }
  {
    std::string text = fmt::format(
        "{} on {} ({}, {:g} MHz, {} memory map)\n"
        "  instructions     {:>12}\n"
        "  cycles (est.)    {:>12}   static {} timing model (sim/README.md)\n"
        "  latency          {:>12}   at {:g} MHz\n"
        "  energy           {:>12}   {:g} uA/MHz x {:g} MHz x {:g} V\n"
        "  energy per hour  {:>12}   at {:g} inferences/s (core busy {:.2g}%; sleep not counted)\n"
        "  RAM              {:>12}   arena {} + stack {} + other static {}\n"
        "  flash            {:>12}   code {} + model {}\n"
        "  output           matches the host runtime ({} bytes, max |diff| {:g})\n",
        o.model, image.target.name, image.board.name, image.board.clock_mhz,
        image.generic_map ? "generic" : image.board.name, run.instructions, run.cycles_estimate,
        sim::timing_model_name(run.timing), sim::format_seconds(f.latency_seconds),
        image.board.clock_mhz, sim::format_joules(f.energy_joules), image.board.active_ua_per_mhz,
        image.board.clock_mhz, image.board.voltage, sim::format_joules(d.energy_per_hour_joules),
        d.inferences_per_second, 100 * d.busy_fraction, fmt::format("{} B", f.ram_bytes),
        f.arena_used_bytes, f.stack_bytes, f.static_other_bytes, fmt::format("{} B", f.flash_bytes),
        f.code_bytes, f.model_bytes, run.output.size(), cmp.max_abs);
    for (size_t i = 0; i < run.region_accesses.size(); ++i)
      text +=
          fmt::format("  region {:<9} {:>12} data accesses x {} wait states = {} cycles\n",
                      run.region_accesses[i].name, run.region_accesses[i].accesses,
                      run_options.wait_states[i].wait_states, run.region_accesses[i].wait_cycles);
    if (!image.board.unverified.empty()) {
      std::string names;
      for (const std::string& n : image.board.unverified) names += (names.empty() ? "" : ", ") + n;
      text += "  unverified       " + names + " of " + image.board.name +
              " (no datasheet text checked: targets/boards.json)\n";
    }
    if (d.busy_fraction > 1)
      text += fmt::format("  warning: {:g} inferences/s need more than the core's time ({:.3g}x)\n",
                          d.inferences_per_second, d.busy_fraction);
    if (stack_full) text += "  warning: the stack reached __stack_limit: it may have overflowed\n";
    if (budget && over.empty()) text += "  budget           ok (" + o.budget + ")\n";
    o.result.print(j, text);
  }
  if (!over.empty()) {
    for (const std::string& line : over)
      std::fprintf(stderr, "tinyforge: over budget: %s\n", line.c_str());
    throw Exit{kExitBudget};
  }
}

}  // namespace

void add_bench(CLI::App& app) {
  auto* cmd = app.add_subcommand("bench",
                                 "Build the firmware, run it in the built-in Cortex-M emulator and "
                                 "report cycles, latency, energy, RAM, flash");
  auto o = std::make_shared<Options>();
  cmd->add_option("MODEL", o->model, "model (TFLite/ONNX) or plan blob")->required();
  cmd->add_option("-t,--target", o->target, "cortex-m4 | cortex-m7 | cortex-m0plus | cortex-m33")
      ->check(target_check(false))
      ->capture_default_str();
  cmd->add_option("-b,--board", o->board,
                  "board from targets/boards.json: its memory map, clock, current and voltage "
                  "(default: the target's reference board with the generic memory map)");
  cmd->add_option(
      "-i,--input", o->inputs,
      "raw tensor file per model input (golden in<i>.bin format); default: every element at "
      "the input's zero point (= golden case 0)");
  cmd->add_option("--case", o->case_index, "which tensor of the --input files to use")
      ->capture_default_str();
  add_memory_option(cmd, o->memory);
  add_optimize_option(cmd, o->optimize);
  cmd->add_option("--budget", o->budget,
                  "e.g. ram=64K,flash=256K,latency=50ms,energy=100uJ (K=1024, M=1024^2)")
      ->check([](const std::string& s) {
        try {
          sim::parse_budget(s);
          return std::string();
        } catch (const sim::BudgetError& e) {
          return std::string(e.what());
        }
      });
  o->result.add_flag(cmd);
  cmd->add_option("--duty", o->duty,
                  "inferences per second for the energy per hour (the core's active energy; "
                  "sleep between inferences is not counted)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--max-instructions", o->max_instructions,
                  "stop the emulation after this many instructions (whole run)")
      ->check(whole_number(1))
      ->capture_default_str();
  cmd->add_option("--keep", o->keep_dir, "build the firmware in this folder and keep it");
  cmd->add_option("--kernels", o->kernels,
                  "kernels compiled in, as for `firmware --kernels`: model | all | OP,OP,... "
                  "(flash and budget then include room for OTA models)")
      ->capture_default_str();
  cmd->footer(
      "Cycles come from a static timing model per core (m4sim's Cortex-M4 table; Cortex-M0+,\n"
      "M7 and M33 models; sim/README.md): compare engines on one core, not a datasheet latency.\n"
      "Board figures without a checked datasheet source are listed as unverified.\n"
      "RAM = arena used + stack high-water + other static RAM; flash = code + model.\n"
      "--memory: the plan is compiled for those regions, each region's arena is linked at its\n"
      "base, and every data access in a region adds its wait states to the cycles.\n"
      "Exit codes: 0 ok, 1 input error, 2 usage (incl. a malformed --budget or --target),\n"
      "3 over budget, 4 the device's output differs from the host runtime's (docs/cli.md).");
  cmd->callback([o] { bench(*o); });
}

}  // namespace tinyforge::cli
