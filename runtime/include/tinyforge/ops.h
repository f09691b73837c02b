// Opcodes generated from ops.def, plus per-op arity limits.
#pragma once
#include <cstdint>

namespace tinyforge {

enum class OpCode : uint16_t {
#define OP(name, params, min_in, max_in, n_out) name,
#include "tinyforge/ops.def"
#undef OP
  count_
};

constexpr uint16_t kNumOps = static_cast<uint16_t>(OpCode::count_);
constexpr uint16_t kNoTensor = 0xFFFF;  // an absent optional input
constexpr uint8_t kMaxOpInputs = 8;
constexpr uint8_t kMaxOpOutputs = 8;  // Split and Unpack: up to 8 pieces

struct OpInfo {
  const char* name;
  uint8_t min_inputs, max_inputs, outputs;  // outputs: the most an op of this kind has
  uint16_t params_size;
};

// Whether input k of `op` is state it updates in place, a Storage::state tensor kept
// between invocations (docs/plan-format.md): SVDF's activation state is its input 4, LSTM's
// output and cell states its inputs 6 and 7, SignalFilterBankSpectralSubtraction's noise
// estimate and SignalDelay's pending samples their input 1.
constexpr bool is_state_input(OpCode op, int k) {
  return (op == OpCode::Svdf && k == 4) || (op == OpCode::Lstm && (k == 6 || k == 7)) ||
         ((op == OpCode::SignalFilterBankSpectralSubtraction || op == OpCode::SignalDelay) &&
          k == 1);
}

// Row of a valid opcode; its name is nullptr for an op outside an image's kernel set.
const OpInfo& op_info(OpCode op);

}  // namespace tinyforge
