// Strip-wise execution of conv -> conv (-> residual add) chains (ConvChainDsp): the first
// conv's output is never whole in the arena, only the rows the second conv's window spans.
// The planner forms a chain where it lowers the arena, by the --optimize mode.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "plan/lower.h"

namespace tinyforge::plan {

// --optimize: which RAM-saving transformations the planner applies.
enum class Optimize {
  speed,     // none that costs cycles
  balanced,  // those whose cycle cost is small (chain_is_cheap)
  ram,       // every one that lowers the arena
};

const char* optimize_name(Optimize o);
std::optional<Optimize> parse_optimize(const std::string& name);

// The arena bytes of a graph lowered as `lowered` (the memory planner's answer).
using ArenaOf = std::function<uint32_t(const ir::Graph&, const std::vector<LoweredOp>&)>;

// Fuses, in op order, each chain of consecutive lowered nodes Conv2DDsp -> Conv2DDsp
// (-> AddDsp of the chain's input) that `optimize` allows and that makes `arena_of` smaller,
// into one ConvChainDsp node. `graph` and `lowered` stay index-aligned.
void fuse_conv_chains(ir::Graph& graph, std::vector<LoweredOp>& lowered, Optimize optimize,
                      const ArenaOf& arena_of);

// How far below its input a chain's output may start (plan/overlap.h's gap), by the
// kernel's order of reads and writes (runtime/kernels/armv7em/conv_chain_dsp.cc).
int64_t conv_chain_gap(const ConvChainDspParams& p, const std::vector<int32_t>& in_nhwc,
                       const std::vector<int32_t>& out_nhwc);

// Balanced's rule: the chain's only extra work, moving the kept middle rows down before
// each output row, is at most 1% of its multiply-accumulates (a byte moved costs about a
// cycle, a MAC about one and a half on the DSP kernels: well under 1% of the cycles).
bool chain_is_cheap(const ConvChainDspParams& p, int64_t macs, int32_t out_h);

}  // namespace tinyforge::plan
