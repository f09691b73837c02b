// Runs a plan blob on the host with the same runtime that ships to the device.
// Inputs and outputs are raw little-endian tensors, `cases` of them concatenated per
// model input/output (the format of ../shared/golden).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "emit/validated_plan.h"
#include "tinyforge/runtime.h"

namespace tinyforge::host {

class HostRunner {
 public:
  // Validates the blob (throws tinyforge::Error naming `source` and the status on failure).
  HostRunner(const std::vector<uint8_t>& blob, const std::string& source);

  const Runtime& runtime() const { return runtime_; }
  uint32_t input_bytes(uint32_t i) const { return runtime_.input(i).bytes; }
  uint32_t output_bytes(uint32_t i) const { return runtime_.output(i).bytes; }

  // inputs[i] holds >= cases tensors of model input i. Returns one buffer per output.
  std::vector<std::vector<uint8_t>> run(const std::vector<std::vector<uint8_t>>& inputs,
                                        uint32_t cases);
  // The state of stateful ops back to zero (run() keeps it between cases and calls).
  void reset_state() { runtime_.reset_state(); }

 private:
  emit::ValidatedPlan plan_;                   // 4-byte aligned, validated copy
  std::vector<std::vector<uint32_t>> arenas_;  // one per memory region, 4-byte aligned
  std::string source_;
  Runtime runtime_;
};

}  // namespace tinyforge::host
