// The executor: runs the validated plan's ops in order over the caller's arena.
// Tensor views are rebuilt on the stack per op from the blob, so the runtime keeps no
// per-tensor state in RAM.
#include "tinyforge/runtime.h"

#include <new>

#include "src/dispatch.h"
#include "src/enabled_ops.h"
#include "tinyforge/plan_reader.h"

namespace tinyforge {

Status Runtime::init(const uint8_t* blob, uint32_t blob_size, uint8_t* arena, uint32_t arena_size) {
  const ArenaRegion region{arena, arena_size};
  return init(blob, blob_size, &region, 1);
}

namespace {

// Binds the validated plan's regions to the caller's arenas and makes its init copies. Its
// locals live in this frame, not in init's, which stays on the stack while the plan is
// validated.
__attribute__((noinline, cold)) Status bind_arenas(const uint8_t* blob, const ArenaRegion* regions,
                                                   uint32_t num_regions, uint8_t** arenas) {
  const uint32_t needed = Runtime::num_regions(blob);
  if (regions == nullptr || num_regions < needed) return Status::arena_too_small;
  for (uint32_t r = 0; r < needed; ++r) {
    const uint32_t size = Runtime::region_size(blob, r);
    if (regions[r].size < size || (size > 0 && regions[r].data == nullptr))
      return Status::arena_too_small;
    if (reinterpret_cast<uintptr_t>(regions[r].data) % 4 != 0) return Status::misaligned;
    arenas[r] = regions[r].data;
  }
  if (kImageMemoryRegions) {
    const PlanHeader h = read_header(blob);
    const PlanRegions table = read_regions(blob, h);
    for (uint32_t i = 0; i < table.num_copies; ++i) {
      const CopyRecord c = read_copy(blob, table, i);
      const TensorRecord t = read_tensor(blob, h, c.tensor);
      std::memcpy(arenas[t.region] + t.offset, blob + c.source_offset, t.size_bytes);
    }
  }
  return Status::ok;
}

}  // namespace

// Runs once, before any inference: cold, optimized for size (flash).
__attribute__((cold)) Status Runtime::init(const uint8_t* blob, uint32_t blob_size,
                                           const ArenaRegion* regions, uint32_t num_regions) {
  blob_ = nullptr;
  Status s = validate_plan(blob, blob_size);
  if (s == Status::ok) s = bind_arenas(blob, regions, num_regions, arenas_);
  if (s == Status::ok) blob_ = blob;
  if (s == Status::ok && kImageState) reset_state();
  return s;
}

// Every state tensor back to its zero point (TFLM's ResetVariableTensors: an int8 LSTM's
// hidden state restarts at its zero point, float and int16 states at 0).
void Runtime::reset_state() {
  if (!kImageState || blob_ == nullptr) return;  // an image without stateful ops has no state
  const PlanHeader h = read_header(blob_);
  for (uint32_t t = 0; t < h.num_tensors; ++t) {
    const TensorRecord rec = read_tensor(blob_, h, t);
    if (static_cast<Storage>(rec.storage) != Storage::state) continue;
    uint8_t* data = arenas_[kImageMemoryRegions ? tensor_region(h, rec) : 0] + rec.offset;
    const auto type = static_cast<DType>(rec.dtype);
    std::memset(data, type == DType::i8 ? static_cast<uint8_t>(rec.zero_point) : 0, rec.size_bytes);
    if (type == DType::i16 && rec.zero_point != 0)
      for (uint32_t k = 0; k + 1 < rec.size_bytes; k += 2) {
        const auto v = static_cast<int16_t>(rec.zero_point);
        std::memcpy(data + k, &v, 2);
      }
  }
}

// An image without memory regions reads no header copy here (its one arena).
uint32_t Runtime::num_regions(const uint8_t* blob) {
  if (!kImageMemoryRegions) return 1;
  const PlanHeader h = read_header(blob);
  return has_regions(h) ? read_regions(blob, h).num_regions : 1;
}

uint32_t Runtime::region_size(const uint8_t* blob, uint32_t region) {
  if (!kImageMemoryRegions)
    return region == 0 ? read_header_word(blob, offsetof(PlanHeader, arena_size)) : 0;
  const PlanHeader h = read_header(blob);
  if (!has_regions(h)) return region == 0 ? h.arena_size : 0;
  const PlanRegions table = read_regions(blob, h);
  return region < table.num_regions ? read_region(blob, table, region).size : 0;
}

namespace {

// Runs op `i` of the plan with its tensor views on the stack, sized by the most inputs and
// outputs an op of the image has; the header is read field by field: the stack under the
// kernel holds only what this op needs. Inlined into invoke's loop for the common ops.
template <uint8_t kOutputs, typename ViewOf>
__attribute__((always_inline)) inline OpCode run_op(const uint8_t* blob, uint32_t i,
                                                    uint8_t* scratch_arena, const ViewOf& view_of) {
  const OpRecord op = read_op(blob, read_header_word(blob, offsetof(PlanHeader, ops_offset)), i);
  const uint32_t indices = read_header_word(blob, offsetof(PlanHeader, indices_offset));
  TensorView in[kImageInputs], out[kOutputs];
  for (uint8_t k = 0; k < op.num_inputs; ++k) {
    const uint16_t t = read_index(blob, indices, op.io_at + k);
    if (t == kNoTensor)
      in[k] = TensorView{};
    else
      view_of(t, &in[k]);
  }
  for (uint8_t k = 0; k < op.num_outputs; ++k)
    view_of(read_index(blob, indices, op.io_at + op.num_inputs + k), &out[k]);
  const KernelIO io{in,
                    op.num_inputs,
                    out,
                    op.num_outputs,
                    op.scratch_size ? scratch_arena + op.scratch_offset : nullptr,
                    op.scratch_size};
  const OpCode code = static_cast<OpCode>(op.opcode);
  eval_op(code, blob + op.params_offset, io);
  return code;
}

// An op with more outputs (Split, Unpack) in a frame of its own: only it pays their views.
template <typename ViewOf>
__attribute__((noinline)) OpCode run_many_output_op(const uint8_t* blob, uint32_t i,
                                                    uint8_t* scratch_arena, const ViewOf& view_of) {
  return run_op<kMaxOpOutputs>(blob, i, scratch_arena, view_of);
}

}  // namespace

Status Runtime::invoke() {
  if (blob_ == nullptr) return Status::not_initialized;
  const uint32_t num_ops = read_header_word(blob_, offsetof(PlanHeader, num_ops));
  // Built in place (guaranteed copy elision): no temporary view in run_op's frame.
  const auto view_of = [this](uint16_t t, TensorView* v) { ::new (v) TensorView(view(t)); };
  for (uint32_t i = 0; i < num_ops; ++i) {
    // An image without many-output ops has no frame for them (the condition folds away).
    const bool many_outputs =
        kImageManyOutputs &&
        read_op(blob_, read_header_word(blob_, offsetof(PlanHeader, ops_offset)), i).num_outputs >
            kCommonOutputs;
    const OpCode code = many_outputs ? run_many_output_op(blob_, i, arenas_[0], view_of)
                                     : run_op<kCommonOutputs>(blob_, i, arenas_[0], view_of);
    if (hook_) hook_(hook_user_, i, code);
  }
  return Status::ok;
}

// Called while invoke's frame holds an op's views: reads the one header field it needs, not
// a copy of the header (only an image with memory regions reads the version for the region).
TensorView Runtime::view(uint16_t t) const {
  const TensorRecord rec =
      read_tensor(blob_, read_header_word(blob_, offsetof(PlanHeader, tensors_offset)), t);
  return make_view(rec, blob_,
                   arenas_[kImageMemoryRegions ? tensor_region(read_header(blob_), rec) : 0]);
}

// The accessors read single header fields: no header copy on the stack.
uint32_t Runtime::num_inputs() const {
  return blob_ ? read_header_word(blob_, offsetof(PlanHeader, num_inputs)) : 0;
}
uint32_t Runtime::num_outputs() const {
  return blob_ ? read_header_word(blob_, offsetof(PlanHeader, num_outputs)) : 0;
}
uint32_t Runtime::arena_size() const {
  return blob_ ? read_header_word(blob_, offsetof(PlanHeader, arena_size)) : 0;
}
uint32_t Runtime::num_ops() const {
  return blob_ ? read_header_word(blob_, offsetof(PlanHeader, num_ops)) : 0;
}

TensorView Runtime::input(uint32_t i) const {
  return view(read_index(blob_, read_header_word(blob_, offsetof(PlanHeader, indices_offset)),
                         read_header_word(blob_, offsetof(PlanHeader, inputs_at)) + i));
}

TensorView Runtime::output(uint32_t i) const {
  return view(read_index(blob_, read_header_word(blob_, offsetof(PlanHeader, indices_offset)),
                         read_header_word(blob_, offsetof(PlanHeader, outputs_at)) + i));
}

}  // namespace tinyforge
