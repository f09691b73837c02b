// validate_plan: every offset, size, index and enum in a blob is checked here, once,
// before anything else reads it. Arithmetic is done in 64 bits so no check can overflow.
#include <new>

#include "src/dispatch.h"
#include "src/enabled_ops.h"
#include "tinyforge/audio_frontend.h"
#include "tinyforge/plan_reader.h"
#include "tinyforge/runtime.h"

namespace tinyforge {
namespace {

constexpr uint64_t kMaxTensorBytes = 1ull << 31;

// `a` is a power of two (4 or an element size): a mask, not a 64-bit library division.
bool is_aligned(uint64_t v, uint32_t a) { return (v & (a - 1)) == 0; }

// [offset, offset + count * elem) lies inside [begin, end).
bool in_range(uint64_t offset, uint64_t count, uint64_t elem, uint64_t begin, uint64_t end) {
  return offset >= begin && offset <= end && count * elem <= end - offset;
}

// The plan places tensors in regions and this image reads such plans (else the code folds).
bool reads_regions(const PlanHeader& h) { return kImageMemoryRegions && has_regions(h); }

// The arenas a plan needs: one (arena_size bytes) before version 2.2, else its region table.
struct Regions {
  uint32_t count = 1;
  uint32_t size[kMaxRegions] = {};
};

Status check_tensor(const TensorRecord& t, const PlanHeader& h, const Regions& regions) {
  const DType type = static_cast<DType>(t.dtype);
  const uint32_t esize = dtype_size(type);
  if (esize == 0) return Status::bad_enum;
  // An image built without the int16 or float paths (TINYFORGE_IMAGE_INT16 / _FLOAT 0) does
  // not know the type:
  // its kernels would take an int16 tensor for another one.
  if ((!kImageInt16 && type == DType::i16) || (!kImageFloat && type == DType::f32))
    return Status::bad_enum;
  if (t.rank > kMaxRank) return Status::bad_shape;
  uint64_t elements = 1;
  for (uint8_t d = 0; d < kMaxRank; ++d) {
    if (d < t.rank ? t.dims[d] < 1 : t.dims[d] != 1) return Status::bad_shape;
    elements *= static_cast<uint64_t>(t.dims[d]);
    if (elements * esize > kMaxTensorBytes) return Status::bad_shape;
  }
  if (elements * esize != t.size_bytes) return Status::bad_shape;
  const uint8_t region = reads_regions(h) ? t.region : 0;
  // A state tensor is bounded as an arena tensor; an image without stateful ops refuses it
  // as an unknown storage (and carries no code for it).
  Storage storage = static_cast<Storage>(t.storage);
  if (kImageState && storage == Storage::state) storage = Storage::arena;
  switch (storage) {
    case Storage::copied:
      if (!reads_regions(h)) return Status::bad_enum;
      [[fallthrough]];
    case Storage::arena:
      if (region >= regions.count) return Status::out_of_bounds;
      if (!in_range(t.offset, t.size_bytes, 1, 0, regions.size[region]))
        return Status::out_of_bounds;
      break;
    case Storage::constant:
      if (region != 0) return Status::bad_params;
      if (!in_range(t.offset, t.size_bytes, 1, h.data_offset,
                    uint64_t{h.data_offset} + h.data_size))
        return Status::out_of_bounds;
      break;
    default:
      return Status::bad_enum;
  }
  if (!is_aligned(t.offset, esize)) return Status::misaligned;
  return Status::ok;
}

Status check_sections(const PlanHeader& h, uint32_t size) {
  if (h.magic != kPlanMagic) return Status::bad_magic;
  if (h.version_major != kPlanVersionMajor) return Status::bad_version;
  const uint32_t min_header = sizeof(PlanHeader) + (h.version_minor >= 1 ? sizeof(PlanTarget) : 0) +
                              (has_regions(h) ? sizeof(PlanRegions) : 0) +
                              (has_frontend(h) ? sizeof(PlanFrontend) : 0);
  if (h.header_size < min_header || !is_aligned(h.header_size, 4)) return Status::bad_params;
  if (h.total_size > size || h.total_size < h.header_size) return Status::truncated;
  const uint64_t begin = h.header_size, end = h.total_size;
  struct Section {
    uint32_t offset, count, elem;
  };
  const Section sections[] = {
      {h.tensors_offset, h.num_tensors, sizeof(TensorRecord)},
      {h.ops_offset, h.num_ops, sizeof(OpRecord)},
      {h.indices_offset, h.num_indices, sizeof(uint16_t)},
      {h.data_offset, h.data_size, 1},
  };
  for (const Section& s : sections) {
    if (!is_aligned(s.offset, 4)) return Status::misaligned;
    if (!in_range(s.offset, s.count, s.elem, begin, end)) return Status::truncated;
  }
  if (h.num_tensors > kNoTensor) return Status::out_of_bounds;  // indices are uint16
  if (!in_range(h.inputs_at, h.num_inputs, 1, 0, h.num_indices) ||
      !in_range(h.outputs_at, h.num_outputs, 1, 0, h.num_indices))
    return Status::out_of_bounds;
  return Status::ok;
}

// The region table and the init copies (version 2.2): sections inside the blob, names
// terminated, region 0 the header's arena, every copy a distinct copied tensor whose source
// lies in the data section; `regions` receives the sizes.
Status check_regions(const uint8_t* blob, const PlanHeader& h, Regions& regions) {
  regions.size[0] = h.arena_size;
  if (!has_regions(h)) return Status::ok;
  if (!kImageMemoryRegions) return Status::bad_version;  // an image built without them
  const PlanRegions r = read_regions(blob, h);
  if (r.num_regions < 1 || r.num_regions > kMaxRegions) return Status::bad_params;
  if (!is_aligned(r.regions_offset, 4) || !is_aligned(r.copies_offset, 4))
    return Status::misaligned;
  if (!in_range(r.regions_offset, r.num_regions, sizeof(RegionRecord), h.header_size,
                h.total_size) ||
      !in_range(r.copies_offset, r.num_copies, sizeof(CopyRecord), h.header_size, h.total_size))
    return Status::truncated;
  regions.count = r.num_regions;
  for (uint32_t i = 0; i < r.num_regions; ++i) {
    const RegionRecord rec = read_region(blob, r, i);
    if (rec.name[sizeof rec.name - 1] != 0) return Status::bad_params;
    if (i == 0 && rec.size != h.arena_size) return Status::bad_params;
    if (!is_aligned(rec.size, 4)) return Status::misaligned;
    regions.size[i] = rec.size;
  }
  uint32_t copied_tensors = 0;
  for (uint32_t t = 0; t < h.num_tensors; ++t)
    if (static_cast<Storage>(read_tensor(blob, h, t).storage) == Storage::copied) ++copied_tensors;
  if (r.num_copies != copied_tensors) return Status::bad_params;
  for (uint32_t i = 0; i < r.num_copies; ++i) {
    const CopyRecord c = read_copy(blob, r, i);
    if (c.tensor >= h.num_tensors) return Status::out_of_bounds;
    if (i > 0 && c.tensor <= read_copy(blob, r, i - 1).tensor) return Status::bad_params;
    const TensorRecord t = read_tensor(blob, h, c.tensor);
    if (static_cast<Storage>(t.storage) != Storage::copied) return Status::bad_params;
    if (!in_range(c.source_offset, t.size_bytes, 1, h.data_offset,
                  uint64_t{h.data_offset} + h.data_size))
      return Status::out_of_bounds;
    if (!is_aligned(c.source_offset, 4)) return Status::misaligned;
  }
  return Status::ok;
}

// The audio front-end section (version 2.3): inside the blob after the header, and a section
// check_frontend() accepts. Size 0: none.
Status check_frontend_section(const uint8_t* blob, const PlanHeader& h) {
  const PlanFrontend f = read_frontend(blob, h);
  if (f.size == 0) return f.offset == 0 ? Status::ok : Status::bad_params;
  if (!is_aligned(f.offset, 4)) return Status::misaligned;
  if (!in_range(f.offset, f.size, 1, h.header_size, h.total_size)) return Status::truncated;
  return check_frontend(blob + f.offset, f.size);
}

// One field of the header check_layout() accepted, read alone: the frames under the
// kernels' checks hold no copy of the header.
#define TINYFORGE_HEADER(field) read_header_word(blob, offsetof(PlanHeader, field))

// The op's kernel check on views of its tensors: constants in the blob carry their data,
// arena tensors none (the arena is not bound yet). Views sized like the executor's (runtime.cc).
template <uint8_t kOutputs>
__attribute__((noinline, cold)) Status check_op_io(const uint8_t* blob, const OpRecord& op,
                                                   OpCode code) {
  TensorView in[kImageInputs], out[kOutputs];
  for (uint8_t k = 0; k < op.num_inputs + op.num_outputs; ++k) {
    const uint16_t t = read_index(blob, TINYFORGE_HEADER(indices_offset), op.io_at + k);
    const bool is_output = k >= op.num_inputs;
    if (t == kNoTensor && !is_output) {
      in[k] = TensorView{};
      continue;
    }
    if (t >= TINYFORGE_HEADER(num_tensors)) return Status::out_of_bounds;
    const TensorRecord rec = read_tensor(blob, TINYFORGE_HEADER(tensors_offset), t);
    // Outputs are written: never into the blob's constants.
    if (is_output && static_cast<Storage>(rec.storage) != Storage::arena) return Status::bad_params;
    // A stateful op writes its state input too, and only a state tensor keeps it from one
    // invocation to the next; no other op reads a state tensor.
    if (kImageState &&
        is_state_input(code, k) != (static_cast<Storage>(rec.storage) == Storage::state))
      return Status::bad_params;
    // Built in place (guaranteed copy elision): no temporary view in this frame.
    ::new (is_output ? &out[k - op.num_inputs] : &in[k]) TensorView(make_view(rec, blob, nullptr));
  }
  const KernelIO io{in, op.num_inputs, out, op.num_outputs, nullptr, op.scratch_size};
  return check_op(code, blob + op.params_offset, io);
}

// Everything but the ops: header, sections, checksum, target, regions, front-end, tensors and
// the model's inputs and outputs. Its own frame: check_ops() runs below validate_plan() only.
__attribute__((noinline, cold)) Status check_layout(const uint8_t* blob, uint32_t size) {
  if (blob == nullptr || size < sizeof(PlanHeader)) return Status::truncated;
  if (!is_aligned(reinterpret_cast<uintptr_t>(blob), 4)) return Status::misaligned;
  const PlanHeader h = read_header(blob);
  Status s = check_sections(h, size);
  if (s != Status::ok) return s;
  if (plan_checksum(blob, h.total_size) != h.checksum) return Status::bad_hash;
  if (h.version_minor >= 1) {
    PlanTarget t;
    std::memcpy(&t, blob + sizeof(PlanHeader), sizeof t);
    if (t.target[sizeof t.target - 1] != 0) return Status::bad_params;
    if (t.kernels > static_cast<uint32_t>(KernelVariant::armv7em)) return Status::bad_enum;
  }

  Regions regions;
  s = check_regions(blob, h, regions);
  if (s != Status::ok) return s;
  s = check_frontend_section(blob, h);
  if (s != Status::ok) return s;
  for (uint32_t i = 0; i < h.num_tensors; ++i) {
    s = check_tensor(read_tensor(blob, h, i), h, regions);
    if (s != Status::ok) return s;
  }
  // Model inputs and outputs live in the arena (the caller writes and reads them there).
  for (uint32_t i = 0; i < h.num_inputs + h.num_outputs; ++i) {
    const uint32_t at = i < h.num_inputs ? h.inputs_at + i : h.outputs_at + (i - h.num_inputs);
    const uint16_t t = read_index(blob, h, at);
    if (t >= h.num_tensors) return Status::out_of_bounds;
    if (static_cast<Storage>(read_tensor(blob, h, t).storage) != Storage::arena)
      return Status::bad_params;
  }
  return Status::ok;
}

// Every op record, then its kernel's check (check_op_io). Runs after check_layout().
__attribute__((noinline, cold)) Status check_ops(const uint8_t* blob) {
  const uint32_t num_ops = TINYFORGE_HEADER(num_ops);
  for (uint32_t i = 0; i < num_ops; ++i) {
    const OpRecord op = read_op(blob, TINYFORGE_HEADER(ops_offset), i);
    if (op.opcode >= kNumOps) return Status::unsupported_op;
    const OpCode code = static_cast<OpCode>(op.opcode);
    const OpInfo& info = op_info(code);
    if (info.name == nullptr) return Status::unsupported_op;  // not in this image's kernel set
    if (op.num_inputs < info.min_inputs || op.num_inputs > info.max_inputs || op.num_outputs < 1 ||
        op.num_outputs > info.outputs || op.num_inputs > kImageInputs ||
        op.num_outputs > kMaxOpOutputs)
      return Status::bad_params;
    if (!in_range(op.io_at, uint64_t{op.num_inputs} + op.num_outputs, 1, 0,
                  TINYFORGE_HEADER(num_indices)))
      return Status::out_of_bounds;
    if (op.params_size != info.params_size) return Status::bad_params;
    if (!is_aligned(op.params_offset, 4)) return Status::misaligned;
    const uint32_t data_offset = TINYFORGE_HEADER(data_offset);
    if (!in_range(op.params_offset, op.params_size, 1, data_offset,
                  uint64_t{data_offset} + TINYFORGE_HEADER(data_size)))
      return Status::out_of_bounds;
    if (!in_range(op.scratch_offset, op.scratch_size, 1, 0, TINYFORGE_HEADER(arena_size)))
      return Status::out_of_bounds;
    if (!is_aligned(op.scratch_offset, 4)) return Status::misaligned;  // kernels load words

    const Status s = kImageManyOutputs && op.num_outputs > kCommonOutputs
                         ? check_op_io<kMaxOpOutputs>(blob, op, code)
                         : check_op_io<kCommonOutputs>(blob, op, code);
    if (s != Status::ok) return s;
  }
  return Status::ok;
}

#undef TINYFORGE_HEADER

}  // namespace

// Runs once per plan, at init: cold, optimized for size (flash), like the kernels' checks.
__attribute__((cold)) Status validate_plan(const uint8_t* blob, uint32_t size) {
  const Status s = check_layout(blob, size);
  return s == Status::ok ? check_ops(blob) : s;
}

}  // namespace tinyforge
