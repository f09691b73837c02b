// Device runtime API: validate a plan blob once, then run it any number of times.
//
//   tinyforge::Runtime rt;
//   if (rt.init(blob, blob_size, arena, arena_size) != Status::ok) ...;
//   memcpy(rt.input(0).data, features, rt.input(0).bytes);
//   rt.invoke();
//   use rt.output(0).data
//
// No heap, no exceptions, no RTTI. The blob must stay readable (e.g. in flash) and 4-byte
// aligned for the Runtime's lifetime; the arena must be 4-byte aligned (16 recommended).
#pragma once
#include <cstdint>

#include "tinyforge/kernel.h"
#include "tinyforge/plan_format.h"

namespace tinyforge {

// Checks a blob completely: header, section bounds, alignment, checksum, every tensor
// record, every op (opcode, arity, params size, index ranges, and the kernel's own
// check_ of shapes and params). Nothing in the blob is trusted before this returns ok.
Status validate_plan(const uint8_t* blob, uint32_t size);

// One arena of a plan that places tensors in several memory regions (docs/plan-format.md):
// regions[i] backs the blob's region i (e.g. 0 SRAM, 1 PSRAM), 4-byte aligned.
struct ArenaRegion {
  uint8_t* data;
  uint32_t size;
};

class Runtime {
 public:
  Status init(const uint8_t* blob, uint32_t blob_size, uint8_t* arena, uint32_t arena_size);
  // A plan with memory regions: one arena per region, at least as large as region_size(i).
  // Copies the constants the plan moves into a region. A single-arena plan takes one region.
  Status init(const uint8_t* blob, uint32_t blob_size, const ArenaRegion* regions,
              uint32_t num_regions);
  Status invoke();
  // Sets the state of stateful ops (SVDF's past frames, LSTM's states) to its zero point, as
  // init() leaves it: the next invoke() starts a new sequence. Plans without state: nothing.
  void reset_state();

  bool initialized() const { return blob_ != nullptr; }  // the last init() returned ok
  uint32_t num_inputs() const;
  uint32_t num_outputs() const;
  TensorView input(uint32_t i) const;   // precondition: i < num_inputs()
  TensorView output(uint32_t i) const;  // precondition: i < num_outputs()
  uint32_t arena_size() const;          // bytes the plan uses (in region 0)
  // The arenas a validated blob needs: 1 unless it has memory regions (plan format 1.2).
  static uint32_t num_regions(const uint8_t* blob);
  static uint32_t region_size(const uint8_t* blob, uint32_t region);
  uint32_t num_ops() const;

  // Per-op hook for profiling/monitoring (optional): called after each op.
  using OpHook = void (*)(void* user, uint32_t op_index, OpCode op);
  void set_op_hook(OpHook hook, void* user) {
    hook_ = hook;
    hook_user_ = user;
  }

 private:
  TensorView view(uint16_t tensor_index) const;
  const uint8_t* blob_ = nullptr;
  uint8_t* arenas_[kMaxRegions] = {};
  OpHook hook_ = nullptr;
  void* hook_user_ = nullptr;
};

}  // namespace tinyforge
