// Graph IR -> Plan: lower every node, keep the tensors the ops use, alias in-place ops,
// and place every activation and scratch buffer in the arena.
#pragma once
#include <string>

#include "ir/graph.h"
#include "ir/unsupported.h"
#include "plan/conv_chain.h"
#include "plan/memory_spec.h"
#include "plan/plan.h"
#include "plan/select_kernels.h"

namespace tinyforge::plan {

struct PlanOptions {
  uint32_t arena_alignment = 4;              // offset alignment of every arena buffer
  KernelSet kernels = KernelSet::reference;  // which kernels the target's runtime has
  std::string target = "host";               // recorded in the blob (PlanTarget)
  // false: one greedy placement instead of the search for the smallest arena -- for plans
  // the compiler only runs on the host (calibration probes, constant folding), where the
  // arena size does not matter and the search would cost time quadratic in the model.
  bool minimize_arena = true;
  // --memory: the device's regions. Empty: one arena, the plan as before regions existed.
  // Otherwise activations go to the fastest writable region with room, hottest first, and
  // constants that pay for it are copied from the xip region into a faster one at init.
  std::vector<MemoryRegionSpec> memory;
  // --optimize: which RAM-saving transformations (conv chains, plan/conv_chain.h) to apply.
  Optimize optimize = Optimize::balanced;
};

// Throws tinyforge::Error for graphs it cannot lower: UnsupportedOps (ir/unsupported.h)
// naming every node without a kernel. Takes the graph by value: lowering adds constants
// (multipliers/shifts) to it.
Plan build_plan(ir::Graph graph, const PlanOptions& options = {});

// The nodes of `graph` that have no kernel for `options`' target, each lowered on its own;
// the graph need not be whole (the ops an importer could read of a partly unsupported model).
std::vector<Refusal> lowering_refusals(ir::Graph graph, const PlanOptions& options);

}  // namespace tinyforge::plan
