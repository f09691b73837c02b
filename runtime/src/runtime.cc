// The executor: runs the validated plan's ops in order over the caller's arena.
// Tensor views are rebuilt on the stack per op from the blob, so the runtime keeps no
// per-tensor state in RAM.
#include "tinyforge/runtime.h"

#include "src/dispatch.h"
#include "tinyforge/plan_reader.h"

namespace tinyforge {

Status Runtime::init(const uint8_t* blob, uint32_t blob_size, uint8_t* arena, uint32_t arena_size) {
  blob_ = nullptr;
  const Status s = validate_plan(blob, blob_size);
  if (s != Status::ok) return s;
  if (arena == nullptr || arena_size < read_header(blob).arena_size) return Status::arena_too_small;
  if (reinterpret_cast<uintptr_t>(arena) % 4 != 0) return Status::misaligned;
  blob_ = blob;
  arena_ = arena;
  return Status::ok;
}

Status Runtime::invoke() {
  if (blob_ == nullptr) return Status::not_initialized;
  const PlanHeader h = read_header(blob_);
  for (uint32_t i = 0; i < h.num_ops; ++i) {
    const OpRecord op = read_op(blob_, h, i);
    TensorView in[kMaxOpInputs], out[kMaxOpOutputs];
    for (uint8_t k = 0; k < op.num_inputs; ++k) {
      const uint16_t t = read_index(blob_, h, op.io_at + k);
      in[k] = t == kNoTensor ? TensorView{} : view(t);
    }
    for (uint8_t k = 0; k < op.num_outputs; ++k)
      out[k] = view(read_index(blob_, h, op.io_at + op.num_inputs + k));
    const KernelIO io{in,
                      op.num_inputs,
                      out,
                      op.num_outputs,
                      op.scratch_size ? arena_ + op.scratch_offset : nullptr,
                      op.scratch_size};
    const OpCode code = static_cast<OpCode>(op.opcode);
    eval_op(code, blob_ + op.params_offset, io);
    if (hook_) hook_(hook_user_, i, code);
  }
  return Status::ok;
}

TensorView Runtime::view(uint16_t t) const {
  return make_view(read_tensor(blob_, read_header(blob_), t), blob_, arena_);
}

uint32_t Runtime::num_inputs() const { return blob_ ? read_header(blob_).num_inputs : 0; }
uint32_t Runtime::num_outputs() const { return blob_ ? read_header(blob_).num_outputs : 0; }
uint32_t Runtime::arena_size() const { return blob_ ? read_header(blob_).arena_size : 0; }
uint32_t Runtime::num_ops() const { return blob_ ? read_header(blob_).num_ops : 0; }

TensorView Runtime::input(uint32_t i) const {
  const PlanHeader h = read_header(blob_);
  return view(read_index(blob_, h, h.inputs_at + i));
}

TensorView Runtime::output(uint32_t i) const {
  const PlanHeader h = read_header(blob_);
  return view(read_index(blob_, h, h.outputs_at + i));
}

}  // namespace tinyforge
