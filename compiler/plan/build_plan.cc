#include "plan/build_plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

#include "ir/unsupported.h"
#include "plan/lower.h"
#include "plan/memory_planner.h"
#include "plan/region_planner.h"
#include "plan/reorder.h"

namespace tinyforge::plan {
namespace {

// Ops whose output may share the input's memory: the kernel leaves the bytes as they are.
bool output_aliases_input(OpCode op) { return op == OpCode::Reshape; }

uint32_t find_root(std::vector<uint32_t>& parent, uint32_t x) {
  while (parent[x] != x) x = parent[x] = parent[parent[x]];
  return x;
}

// The used tensors of `graph`, numbered in order of first appearance, and the ops with
// their lowered inputs and params.
Plan number_tensors_and_ops(const ir::Graph& graph, const std::vector<LoweredOp>& lowered) {
  Plan plan;
  std::vector<int> plan_index(graph.tensors.size(), -1);
  auto use = [&](int t) -> uint16_t {
    if (t < 0) return kNoTensor;
    if (plan_index[t] < 0) {
      const ir::Tensor& src = graph.tensors[t];
      if (src.shape.size() > kMaxRank)
        throw tinyforge::Error(
            fmt::format("{}: tensor '{}' has rank {}, the runtime supports up to {}", graph.source,
                        src.name, src.shape.size(), kMaxRank));
      PlanTensor pt;
      pt.name = src.name;
      pt.type = src.type;
      pt.shape = src.shape;
      if (src.quant.present()) {
        pt.scale = src.quant.scale[0];
        pt.zero_point = src.quant.zero_point.empty() ? 0 : src.quant.zero_point[0];
      }
      if (src.constant) {
        pt.storage = Storage::constant;
        pt.data = src.data;
      }
      if (src.variable) pt.storage = Storage::state;
      plan_index[t] = static_cast<int>(plan.tensors.size());
      plan.tensors.push_back(std::move(pt));
      if (plan.tensors.size() >= kNoTensor)
        throw tinyforge::Error(
            fmt::format("{}: more than {} tensors", graph.source, kNoTensor - 1));
    }
    return static_cast<uint16_t>(plan_index[t]);
  };
  for (int t : graph.inputs) plan.inputs.push_back(use(t));
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    PlanOp op;
    op.op = graph.nodes[i].op;
    op.name = graph.nodes[i].name;
    for (size_t k = 0; k < lowered[i].inputs.size(); ++k) {
      const int t = lowered[i].inputs[k];
      // A state tensor belongs to the one input of a stateful op that updates it.
      if (t >= 0 && graph.tensors[t].variable != is_state_input(op.op, static_cast<int>(k)))
        throw tinyforge::Error(fmt::format(
            "{}: tensor '{}' is {}", graph.node_label(i), graph.tensors[t].name,
            graph.tensors[t].variable ? "a variable (state) tensor read by an op without state"
                                      : "the op's state; expected a variable tensor"));
      op.inputs.push_back(use(t));
    }
    for (int t : graph.nodes[i].outputs) op.outputs.push_back(use(t));
    op.params = lowered[i].params;
    op.scratch_size = lowered[i].scratch_size;
    plan.ops.push_back(std::move(op));
  }
  for (int t : graph.outputs) plan.outputs.push_back(use(t));
  for (uint16_t t : plan.inputs)
    if (plan.tensors[t].storage != Storage::arena)
      throw tinyforge::Error(fmt::format("{}: model input '{}' is a constant or a state",
                                         graph.source, plan.tensors[t].name));
  for (uint16_t t : plan.outputs)
    if (plan.tensors[t].storage != Storage::arena)
      throw tinyforge::Error(
          fmt::format("{}: model output '{}' is a constant (fold it away) or a state", graph.source,
                      plan.tensors[t].name));
  return plan;
}

// The arena's buffers: one per arena tensor (merged across in-place aliases) with its
// lifetime in op indices (-1: model input, ops.size(): model output), then one per scratch.
struct ArenaBuffers {
  std::vector<Buffer> buffers;
  std::vector<uint32_t> parent;     // alias forest over plan tensors
  std::vector<int> buffer_of;       // by alias root; -1 for constants
  std::vector<int> scratch_buffer;  // by op; -1 without scratch

  int of_tensor(uint16_t t) { return buffer_of[find_root(parent, t)]; }
};

ArenaBuffers arena_buffers(const Plan& plan) {
  ArenaBuffers a;
  const uint32_t n = static_cast<uint32_t>(plan.tensors.size());
  a.parent.resize(n);
  std::iota(a.parent.begin(), a.parent.end(), 0);
  for (const PlanOp& op : plan.ops)
    if (output_aliases_input(op.op) && plan.tensors[op.inputs[0]].storage == Storage::arena &&
        plan.tensors[op.inputs[0]].bytes() == plan.tensors[op.outputs[0]].bytes())
      a.parent[find_root(a.parent, op.outputs[0])] = find_root(a.parent, op.inputs[0]);

  const int end = static_cast<int>(plan.ops.size());
  a.buffer_of.assign(n, -1);
  auto touch = [&](uint16_t t, int when) {
    if (t == kNoTensor || !in_arena(plan.tensors[t].storage)) return;
    const uint32_t root = find_root(a.parent, t);
    if (a.buffer_of[root] < 0) {
      a.buffer_of[root] = static_cast<int>(a.buffers.size());
      a.buffers.push_back({0, when, when});
    }
    Buffer& b = a.buffers[a.buffer_of[root]];
    b.size = std::max(b.size, plan.tensors[t].bytes());
    b.first = std::min(b.first, when);
    b.last = std::max(b.last, when);
  };
  for (uint16_t t : plan.inputs) touch(t, -1);
  for (int i = 0; i < end; ++i) {
    for (uint16_t t : plan.ops[i].inputs) touch(t, i);
    for (uint16_t t : plan.ops[i].outputs) touch(t, i);
  }
  for (uint16_t t : plan.outputs) touch(t, end);
  // State lives from before the first op to after the last: no other buffer shares it.
  for (uint16_t t = 0; t < n; ++t)
    if (plan.tensors[t].storage == Storage::state) {
      touch(t, -1);
      touch(t, end);
    }
  a.scratch_buffer.assign(plan.ops.size(), -1);
  for (int i = 0; i < end; ++i) {
    if (plan.ops[i].scratch_size == 0) continue;
    a.scratch_buffer[i] = static_cast<int>(a.buffers.size());
    a.buffers.push_back({plan.ops[i].scratch_size, i, i});
  }
  return a;
}

// In-place ops: an input whose last use is this op may overlap the output created here.
std::vector<Overlap> in_place_overlaps(const Plan& plan, const std::vector<LoweredOp>& lowered,
                                       ArenaBuffers& a) {
  std::vector<Overlap> overlaps;
  for (int i = 0; i < static_cast<int>(plan.ops.size()); ++i) {
    for (const InPlace& rule : lowered[i].in_place) {
      const uint16_t in = plan.ops[i].inputs.at(static_cast<size_t>(rule.input));
      const uint16_t out = plan.ops[i].outputs.at(0);
      if (in == kNoTensor || plan.tensors[in].storage != Storage::arena) continue;
      const int x = a.of_tensor(in), y = a.of_tensor(out);
      if (x != y && a.buffers[x].last == i && a.buffers[y].first == i)
        overlaps.push_back({static_cast<size_t>(x), static_cast<size_t>(y), rule.min_gap});
    }
  }
  return overlaps;
}

uint32_t align_up(uint32_t v, uint32_t a) { return (v + a - 1) / a * a; }

// Copies hot constants from the xip region into the fastest region with room left after
// the activations, when that pays within one inference: the wait cycles saved on its reads,
// (accesses / 4 words) x (xip - region wait states), exceed the one-time copy, (bytes / 4)
// x (a read of xip + a write of the region + 2 cycles of the copy loop).
void copy_hot_constants(Plan& plan, const std::vector<uint64_t>& accesses,
                        const std::vector<MemoryRegionSpec>& regions, const MemoryRegionSpec& xip,
                        std::vector<uint32_t>& used) {
  auto gain = [&](const PlanTensor& pt, uint64_t reads, double ws) {
    return static_cast<double>(reads) / 4 * (xip.wait_states - ws) -
           pt.bytes() / 4.0 * (xip.wait_states + ws + 2);
  };
  // FullyConnectedSparse's steps and row records are checked by value when the plan is
  // validated (runtime/kernels/armv7em/fully_connected_sparse.cc): they stay in the blob.
  std::vector<bool> checked_by_value(plan.tensors.size(), false);
  for (const PlanOp& op : plan.ops)
    if (op.op == OpCode::FullyConnectedSparse)
      for (size_t k = 2; k < op.inputs.size(); ++k) checked_by_value[op.inputs[k]] = true;
  std::vector<uint16_t> candidates;
  for (size_t t = 0; t < plan.tensors.size(); ++t) {
    const PlanTensor& pt = plan.tensors[t];
    if (pt.storage == Storage::constant && pt.bytes() > 0 && !checked_by_value[t] &&
        gain(pt, accesses[t], regions[0].wait_states) > 0)
      candidates.push_back(static_cast<uint16_t>(t));
  }
  // Most cycles saved per byte of RAM first.
  std::stable_sort(candidates.begin(), candidates.end(), [&](uint16_t a, uint16_t b) {
    return gain(plan.tensors[a], accesses[a], regions[0].wait_states) / plan.tensors[a].bytes() >
           gain(plan.tensors[b], accesses[b], regions[0].wait_states) / plan.tensors[b].bytes();
  });
  for (uint16_t t : candidates) {
    PlanTensor& pt = plan.tensors[t];
    for (size_t r = 0; r < regions.size(); ++r) {
      if (gain(pt, accesses[t], regions[r].wait_states) <= 0) break;
      const uint32_t at = align_up(used[r], 4);
      if (uint64_t{at} + pt.bytes() > regions[r].bytes) continue;
      pt.storage = Storage::copied;
      pt.region = static_cast<uint8_t>(r);
      pt.arena_offset = at;
      used[r] = at + pt.bytes();
      break;
    }
  }
}

// The plan's buffers over the --memory regions (region_planner.h), then hot constants.
void place_in_regions(Plan& plan, ArenaBuffers& a, const std::vector<Overlap>& overlaps,
                      const PlanOptions& options) {
  const std::vector<MemoryRegionSpec> regions = writable_regions_by_speed(options.memory);
  std::vector<RegionCapacity> capacities;
  for (const MemoryRegionSpec& r : regions) capacities.push_back({r.name, r.bytes});
  const std::vector<uint64_t> accesses = estimate_accesses(plan);
  std::vector<RegionBuffer> buffers(a.buffers.size());
  for (size_t i = 0; i < a.buffers.size(); ++i) buffers[i].buffer = a.buffers[i];
  for (uint32_t t = 0; t < plan.tensors.size(); ++t)
    if (in_arena(plan.tensors[t].storage))
      buffers[a.of_tensor(static_cast<uint16_t>(t))].heat += static_cast<double>(accesses[t]);
  for (int b : a.scratch_buffer)
    if (b >= 0) buffers[b].pinned = true;
  for (RegionBuffer& b : buffers) b.heat /= std::max<uint32_t>(b.buffer.size, 1);

  const RegionPlan placed =
      plan_regions(buffers, capacities, options.arena_alignment, overlaps, options.minimize_arena);
  for (uint32_t t = 0; t < plan.tensors.size(); ++t)
    if (in_arena(plan.tensors[t].storage)) {
      const int b = a.of_tensor(static_cast<uint16_t>(t));
      plan.tensors[t].arena_offset = placed.offsets[b];
      plan.tensors[t].region = static_cast<uint8_t>(placed.region[b]);
    }
  for (size_t i = 0; i < plan.ops.size(); ++i)
    if (a.scratch_buffer[i] >= 0) plan.ops[i].scratch_offset = placed.offsets[a.scratch_buffer[i]];

  std::vector<uint32_t> used = placed.region_bytes;
  bool copies = false;
  if (const auto xip = xip_region(options.memory)) {
    copy_hot_constants(plan, accesses, regions, *xip, used);
    for (const PlanTensor& t : plan.tensors) copies = copies || t.storage == Storage::copied;
  }
  for (uint32_t& u : used) u = align_up(u, 4);
  plan.arena_size = used[0];
  if (regions.size() > 1 || copies)
    for (size_t r = 0; r < regions.size(); ++r) plan.regions.push_back({regions[r].name, used[r]});
}

}  // namespace

uint32_t PlanTensor::bytes() const {
  uint64_t n = dtype_size(type);
  for (int32_t d : shape) n *= static_cast<uint64_t>(d);
  return static_cast<uint32_t>(n);
}

namespace {

// Lowers every node (after kernel selection); a node without a kernel for these types
// is refused and the others are still lowered, so that one error names them all.
std::vector<LoweredOp> lower_all(ir::Graph& graph, std::vector<Refusal>& refusals) {
  std::vector<LoweredOp> lowered;
  lowered.reserve(graph.nodes.size());
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    try {
      lowered.push_back(lower_node(graph, i));
    } catch (const tinyforge::Error& e) {
      const ir::Node& n = graph.nodes[i];
      Refusal r;
      r.index = n.source_index;
      r.op = op_info(n.op).name;
      r.name = n.name;
      const int t = !n.inputs.empty() ? n.inputs[0] : n.outputs.empty() ? -1 : n.outputs[0];
      if (t >= 0 && t < static_cast<int>(graph.tensors.size()))
        r.dtype = dtype_name(graph.tensors[t].type);
      r.stage = "lowering";
      r.reason = strip_prefix(e.what(), graph.node_label(i));
      refusals.push_back(std::move(r));
      lowered.emplace_back();
    }
  }
  return lowered;
}

}  // namespace

std::vector<Refusal> lowering_refusals(ir::Graph graph, const PlanOptions& options) {
  select_kernels(graph, options.kernels);
  std::vector<Refusal> refusals;
  lower_all(graph, refusals);
  return refusals;
}

// The planner's offset alignment for `plan`: the validator requires every tensor's offset to
// be a multiple of its element size, so a uint64 tensor (the signal filter bank's sums) makes
// it 8.
PlanOptions aligned_for_elements(const Plan& plan, PlanOptions options) {
  for (const PlanTensor& t : plan.tensors)
    if (in_arena(t.storage))
      options.arena_alignment = std::max(options.arena_alignment, dtype_size(t.type));
  return options;
}

Plan build_plan(ir::Graph graph, const PlanOptions& options) {
  graph.check();
  select_kernels(graph, options.kernels);
  std::vector<Refusal> refusals;
  std::vector<LoweredOp> lowered = lower_all(graph, refusals);
  if (!refusals.empty()) throw UnsupportedOps(graph.source, std::move(refusals), options.target);

  // --optimize balanced and ram: the RAM-saving transformations (speed keeps the plan the
  // model's order gives). Host-only plans skip them: their arena does not matter.
  if (options.minimize_arena && options.optimize != Optimize::speed) {
    const ArenaOf arena_of = [&](const ir::Graph& g, const std::vector<LoweredOp>& l) {
      const Plan p = number_tensors_and_ops(g, l);
      ArenaBuffers a = arena_buffers(p);
      return plan_memory(a.buffers, options.arena_alignment, in_place_overlaps(p, l, a)).arena_size;
    };
    fuse_conv_chains(graph, lowered, options.optimize, arena_of);
    reorder_for_arena(graph, lowered, arena_of);
  }
  Plan plan = number_tensors_and_ops(graph, lowered);
  const PlanOptions aligned = aligned_for_elements(plan, options);
  ArenaBuffers a = arena_buffers(plan);
  const std::vector<Overlap> overlaps = in_place_overlaps(plan, lowered, a);
  if (!options.memory.empty()) {
    place_in_regions(plan, a, overlaps, aligned);
    return plan;
  }
  const MemoryPlan mem =
      plan_memory(a.buffers, aligned.arena_alignment, overlaps, options.minimize_arena);
  if (!memory_plan_is_valid(a.buffers, mem, overlaps))
    throw tinyforge::Error("internal error: memory planner produced overlapping buffers");
  for (uint32_t t = 0; t < plan.tensors.size(); ++t)
    if (in_arena(plan.tensors[t].storage))
      plan.tensors[t].arena_offset = mem.offsets[a.of_tensor(static_cast<uint16_t>(t))];
  for (size_t i = 0; i < plan.ops.size(); ++i)
    if (a.scratch_buffer[i] >= 0) plan.ops[i].scratch_offset = mem.offsets[a.scratch_buffer[i]];
  plan.arena_size = mem.arena_size;
  return plan;
}

}  // namespace tinyforge::plan
