// Graph IR -> Plan: lower every node, keep the tensors the ops use, alias in-place ops,
// and place every activation and scratch buffer in the arena.
#pragma once
#include "ir/graph.h"
#include "plan/plan.h"
#include "plan/select_kernels.h"

namespace tinyforge::plan {

struct PlanOptions {
  uint32_t arena_alignment = 4;  // offset alignment of every arena buffer
  KernelSet kernels = KernelSet::reference;  // which kernels the target's runtime has
};

// Throws tinyforge::Error for graphs it cannot lower. Takes the graph by value: lowering adds
// constants (multipliers/shifts) to it.
Plan build_plan(ir::Graph graph, const PlanOptions& options = {});

}  // namespace tinyforge::plan
