// The executor: runs the validated plan's ops in order over the caller's arena.
// Tensor views are rebuilt on the stack per op from the blob, so the runtime keeps no
// per-tensor state in RAM.
#include "tinyforge/runtime.h"

#include "src/dispatch.h"
#include "src/enabled_ops.h"
#include "tinyforge/plan_reader.h"

namespace tinyforge {

Status Runtime::init(const uint8_t* blob, uint32_t blob_size, uint8_t* arena, uint32_t arena_size) {
  const ArenaRegion region{arena, arena_size};
  return init(blob, blob_size, &region, 1);
}

// Runs once, before any inference: cold, optimized for size (flash).
__attribute__((cold)) Status Runtime::init(const uint8_t* blob, uint32_t blob_size,
                                           const ArenaRegion* regions, uint32_t num_regions) {
  blob_ = nullptr;
  const Status s = validate_plan(blob, blob_size);
  if (s != Status::ok) return s;
  const uint32_t needed = Runtime::num_regions(blob);
  if (regions == nullptr || num_regions < needed) return Status::arena_too_small;
  for (uint32_t r = 0; r < needed; ++r) {
    const uint32_t size = region_size(blob, r);
    if (regions[r].size < size || (size > 0 && regions[r].data == nullptr))
      return Status::arena_too_small;
    if (reinterpret_cast<uintptr_t>(regions[r].data) % 4 != 0) return Status::misaligned;
    arenas_[r] = regions[r].data;
  }
  if (kImageMemoryRegions) {
    const PlanHeader h = read_header(blob);
    const PlanRegions table = read_regions(blob, h);
    for (uint32_t i = 0; i < table.num_copies; ++i) {
      const CopyRecord c = read_copy(blob, table, i);
      const TensorRecord t = read_tensor(blob, h, c.tensor);
      std::memcpy(arenas_[t.region] + t.offset, blob + c.source_offset, t.size_bytes);
    }
  }
  blob_ = blob;
  if (kImageState) reset_state();
  return Status::ok;
}

void Runtime::reset_state() {
  if (!kImageState || blob_ == nullptr) return;  // an image without stateful ops has no state
  const PlanHeader h = read_header(blob_);
  for (uint32_t t = 0; t < h.num_tensors; ++t) {
    const TensorRecord rec = read_tensor(blob_, h, t);
    if (static_cast<Storage>(rec.storage) == Storage::state)
      std::memset(arenas_[kImageMemoryRegions ? tensor_region(h, rec) : 0] + rec.offset, 0,
                  rec.size_bytes);
  }
}

uint32_t Runtime::num_regions(const uint8_t* blob) {
  const PlanHeader h = read_header(blob);
  return kImageMemoryRegions && has_regions(h) ? read_regions(blob, h).num_regions : 1;
}

uint32_t Runtime::region_size(const uint8_t* blob, uint32_t region) {
  const PlanHeader h = read_header(blob);
  if (!kImageMemoryRegions || !has_regions(h)) return region == 0 ? h.arena_size : 0;
  const PlanRegions table = read_regions(blob, h);
  return region < table.num_regions ? read_region(blob, table, region).size : 0;
}

namespace {

template <uint8_t kOutputs, typename ViewOf>
__attribute__((noinline)) void run_op(const uint8_t* blob, const PlanHeader& h, const OpRecord& op,
                                      uint8_t* scratch_arena, const ViewOf& view_of) {
  TensorView in[kMaxOpInputs], out[kOutputs];
  for (uint8_t k = 0; k < op.num_inputs; ++k) {
    const uint16_t t = read_index(blob, h, op.io_at + k);
    in[k] = t == kNoTensor ? TensorView{} : view_of(t);
  }
  for (uint8_t k = 0; k < op.num_outputs; ++k)
    out[k] = view_of(read_index(blob, h, op.io_at + op.num_inputs + k));
  const KernelIO io{in,
                    op.num_inputs,
                    out,
                    op.num_outputs,
                    op.scratch_size ? scratch_arena + op.scratch_offset : nullptr,
                    op.scratch_size};
  eval_op(static_cast<OpCode>(op.opcode), blob + op.params_offset, io);
}

}  // namespace

Status Runtime::invoke() {
  if (blob_ == nullptr) return Status::not_initialized;
  const PlanHeader h = read_header(blob_);
  const auto view_of = [this](uint16_t t) { return view(t); };
  for (uint32_t i = 0; i < h.num_ops; ++i) {
    const OpRecord op = read_op(blob_, h, i);
    // An image without many-output ops has no frame for them (the condition folds away).
    if (kImageManyOutputs && op.num_outputs > kCommonOutputs)
      run_op<kMaxOpOutputs>(blob_, h, op, arenas_[0], view_of);
    else
      run_op<kCommonOutputs>(blob_, h, op, arenas_[0], view_of);
    if (hook_) hook_(hook_user_, i, static_cast<OpCode>(op.opcode));
  }
  return Status::ok;
}

TensorView Runtime::view(uint16_t t) const {
  const PlanHeader h = read_header(blob_);
  const TensorRecord rec = read_tensor(blob_, h, t);
  return make_view(rec, blob_, arenas_[kImageMemoryRegions ? tensor_region(h, rec) : 0]);
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
