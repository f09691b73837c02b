// IR params of MirrorPad: declared here so importers (ONNX Pad) and tests can build nodes.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "tinyforge/params.h"

namespace tinyforge::ops {

struct MirrorPadAttrs {
  MirrorPadMode mode = MirrorPadMode::reflect;
  std::vector<int32_t> pads;  // before[0..rank), then after[0..rank)
  bool operator==(const MirrorPadAttrs& o) const { return mode == o.mode && pads == o.pads; }
};

// Empty when `pads` (as in MirrorPadAttrs) can pad `shape` in `mode`, else what is wrong.
std::string mirror_pad_problem(MirrorPadMode mode, const std::vector<int32_t>& shape,
                               const std::vector<int32_t>& pads);

}  // namespace tinyforge::ops
