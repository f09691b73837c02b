// The plan: the graph lowered to runtime ops (params structs filled, requantization
// constants computed) with every activation placed in the arena. emit/ serializes it.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "tinyforge/plan_format.h"

namespace tinyforge::plan {

struct PlanTensor {
  std::string name;
  DType type = DType::f32;
  std::vector<int32_t> shape;
  float scale = 0.0f;
  int32_t zero_point = 0;
  Storage storage = Storage::arena;
  std::vector<uint8_t> data;  // Storage::constant and Storage::copied
  uint32_t arena_offset = 0;  // Storage::arena, state and copied, set by the memory planner
  uint8_t region = 0;         // Storage::arena, state and copied: index into Plan::regions
  uint32_t bytes() const;
};

struct PlanOp {
  OpCode op;
  std::vector<uint16_t> inputs;  // plan tensor indices, kNoTensor for absent
  std::vector<uint16_t> outputs;
  std::vector<uint8_t> params;  // the op's params struct, byte for byte
  uint32_t scratch_size = 0;
  uint32_t scratch_offset = 0;
  std::string name;
};

struct Plan {
  std::vector<PlanTensor> tensors;
  std::vector<PlanOp> ops;
  std::vector<uint16_t> inputs, outputs;
  uint32_t arena_size = 0;  // region 0's bytes
  // Memory regions (--memory), fastest first; empty: one arena of arena_size bytes.
  struct Region {
    std::string name;
    uint32_t size = 0;
  };
  std::vector<Region> regions;
  // The audio front-end section (tinyforge/audio_frontend.h); empty: none.
  std::vector<uint8_t> frontend;
};

// Storage the memory planner places in an arena: activations and stateful ops' state.
inline bool in_arena(Storage s) { return s == Storage::arena || s == Storage::state; }

template <typename Params>
std::vector<uint8_t> params_bytes(const Params& p) {
  std::vector<uint8_t> b(sizeof(Params));
  std::memcpy(b.data(), &p, sizeof(Params));
  return b;
}

}  // namespace tinyforge::plan
