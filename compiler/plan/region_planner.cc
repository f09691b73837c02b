#include "plan/region_planner.h"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

#include "ir/error.h"

namespace tinyforge::plan {
namespace {

struct RegionMemoryPlan : MemoryPlan {
  bool valid = true;
};

// plan_memory over the buffers `members` (indices into `all`), overlaps among them kept.
RegionMemoryPlan plan_members(const std::vector<RegionBuffer>& all,
                              const std::vector<size_t>& members,
                              const std::vector<Overlap>& overlaps, uint32_t alignment,
                              bool search) {
  std::vector<Buffer> buffers;
  std::vector<int> local(all.size(), -1);
  for (size_t i : members) {
    local[i] = static_cast<int>(buffers.size());
    buffers.push_back(all[i].buffer);
  }
  std::vector<Overlap> kept;
  for (const Overlap& o : overlaps)
    if (local[o.input] >= 0 && local[o.output] >= 0)
      kept.push_back(
          {static_cast<size_t>(local[o.input]), static_cast<size_t>(local[o.output]), o.min_gap});
  RegionMemoryPlan p{plan_memory(buffers, alignment, kept, search), true};
  if (search) p.valid = memory_plan_is_valid(buffers, p, kept);
  return p;
}

bool is_mac_op(OpCode op) {
  switch (op) {
    case OpCode::Conv2D:
    case OpCode::DepthwiseConv2D:
    case OpCode::FullyConnected:
    case OpCode::Conv2DDsp:
    case OpCode::DepthwiseConv2DDsp:
    case OpCode::FullyConnectedDsp:
    case OpCode::FullyConnectedSparse:
    case OpCode::Conv2DInt16:
    case OpCode::DepthwiseConv2DInt16:
    case OpCode::FullyConnectedInt16:
    case OpCode::ConvChainDsp:  // its first conv's reads; the second's are counted per pixel
      return true;
    default:
      return false;
  }
}

uint64_t elements(const PlanTensor& t) {
  uint64_t n = 1;
  for (int32_t d : t.shape) n *= static_cast<uint64_t>(d);
  return n;
}

}  // namespace

RegionPlan plan_regions(const std::vector<RegionBuffer>& buffers,
                        const std::vector<RegionCapacity>& regions, uint32_t alignment,
                        const std::vector<Overlap>& overlaps, bool search) {
  if (regions.empty()) throw tinyforge::Error("internal error: no memory region to plan in");
  const size_t n = buffers.size();
  std::vector<std::vector<size_t>> members(regions.size());
  std::vector<size_t> all(n);
  std::iota(all.begin(), all.end(), 0);
  if (plan_members(buffers, all, overlaps, alignment, false).arena_size <= regions[0].bytes) {
    members[0] = all;  // everything fits in the fastest region
  } else {
    std::vector<size_t> order = all;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      const RegionBuffer &x = buffers[a], &y = buffers[b];
      if (x.pinned != y.pinned) return x.pinned;
      if (x.heat != y.heat) return x.heat > y.heat;
      return x.buffer.size < y.buffer.size;
    });
    for (size_t b : order) {
      const size_t last = buffers[b].pinned ? 0 : regions.size() - 1;
      for (size_t r = 0; r <= last; ++r) {
        members[r].push_back(b);
        const uint32_t needed =
            plan_members(buffers, members[r], overlaps, alignment, false).arena_size;
        if (needed <= regions[r].bytes) break;
        if (r == last)
          throw tinyforge::Error(fmt::format(
              "memory region '{}' ({} bytes) is too small: the plan needs {} bytes there, {} "
              "bytes missing{}",
              regions[r].name, regions[r].bytes, needed, needed - regions[r].bytes,
              buffers[b].pinned ? " (op scratch buffers stay in the fastest region)" : ""));
        members[r].pop_back();
      }
    }
  }
  RegionPlan out;
  out.region.assign(n, 0);
  out.offsets.assign(n, 0);
  out.region_bytes.assign(regions.size(), 0);
  for (size_t r = 0; r < regions.size(); ++r) {
    if (members[r].empty()) continue;
    std::sort(members[r].begin(), members[r].end());  // the search is order-sensitive
    const RegionMemoryPlan p = plan_members(buffers, members[r], overlaps, alignment, search);
    if (!p.valid) throw tinyforge::Error("internal error: overlapping buffers in a memory region");
    if (p.arena_size > regions[r].bytes)
      throw tinyforge::Error(fmt::format(
          "memory region '{}' ({} bytes) is too small: the plan needs {} bytes there, {} bytes "
          "missing",
          regions[r].name, regions[r].bytes, p.arena_size, p.arena_size - regions[r].bytes));
    for (size_t k = 0; k < members[r].size(); ++k) {
      out.region[members[r][k]] = static_cast<uint32_t>(r);
      out.offsets[members[r][k]] = p.offsets[k];
    }
    out.region_bytes[r] = p.arena_size;
  }
  return out;
}

std::vector<uint64_t> estimate_accesses(const Plan& plan) {
  std::vector<uint64_t> bytes(plan.tensors.size(), 0);
  for (const PlanOp& op : plan.ops) {
    const PlanTensor& out = plan.tensors[op.outputs.at(0)];
    const bool mac = is_mac_op(op.op) && op.inputs.size() >= 2 && op.inputs[1] != kNoTensor;
    uint64_t macs = 0, pixels = 1;
    if (mac) {
      const PlanTensor& filter = plan.tensors[op.inputs[1]];
      // float filters hold 4-byte weights; int8 and the DSP twins' packed words one per byte;
      // 16x8 activations are read 2 bytes a MAC
      const uint64_t weights = filter.type == DType::f32 ? filter.bytes() / 4 : filter.bytes();
      const uint64_t channels = out.shape.empty() ? 1 : std::max<int32_t>(out.shape.back(), 1);
      macs = elements(out) * weights / channels;
      pixels = elements(out) / channels;
    }
    for (size_t k = 0; k < op.inputs.size(); ++k) {
      const uint16_t t = op.inputs[k];
      if (t == kNoTensor) continue;
      const PlanTensor& in = plan.tensors[t];
      if (mac && k < 2)
        bytes[t] +=
            macs * dtype_size(in.type == DType::f32 || in.type == DType::i16 ? in.type : DType::i8);
      else
        bytes[t] += mac ? uint64_t{in.bytes()} * pixels : in.bytes();
    }
    for (uint16_t t : op.outputs) bytes[t] += plan.tensors[t].bytes();
  }
  return bytes;
}

}  // namespace tinyforge::plan
