// Runs of one plan blob that keep every op's output: on the host (the reference or the
// blob's kernels, through the runtime's op hook) and on the emulated device (a firmware with
// op markers, sim::OpMark: per-op instructions and cycles too). Shared by `report` and
// `compare`.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "emit/firmware.h"
#include "sim/emulator.h"
#include "sim/figures.h"

namespace tinyforge::cli {

// outputs[op][k]: the bytes of output k of op `op` right after it ran.
using OpOutputs = std::vector<std::vector<std::vector<uint8_t>>>;

// One inference on the host; `inputs` holds one tensor per model input.
OpOutputs host_op_outputs(const std::vector<uint8_t>& blob, const std::string& source,
                          const std::vector<std::vector<uint8_t>>& inputs);

struct DeviceOptions {
  std::string target = "cortex-m4", board;
  uint64_t max_instructions = sim::RunOptions{}.max_instructions;
  bool capture = false;  // read every op's outputs from the emulated arena
  // Tests: after op `flip_op` ran, flip the lowest bit of the first byte of its first
  // output (one LSB).
  std::optional<uint32_t> flip_op;
};

struct DeviceRun {
  emit::FirmwareImage image;
  sim::ElfImage elf;
  sim::RunResult run;
  sim::Figures figures;
  OpOutputs outputs;  // when DeviceOptions::capture
};

// Builds the firmware with op markers in a temporary folder, runs it in the emulator.
// Errors name `source` (tinyforge::Error).
DeviceRun device_run(const std::vector<uint8_t>& blob, const std::string& source,
                     const std::vector<uint8_t>& input, const DeviceOptions& options);

// The model's input tensors: case `case_index` of the --input files, or (no files) every
// element at the input's zero point (0.0 for float), as `bench` does.
std::vector<std::vector<uint8_t>> model_inputs_from(const std::vector<uint8_t>& blob,
                                                    const std::string& source,
                                                    const std::vector<std::string>& files,
                                                    uint32_t case_index);

}  // namespace tinyforge::cli
