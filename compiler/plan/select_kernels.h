// Kernel selection, offline and per target: which runtime op (kernel) each IR node becomes.
// The 16x8 twins (ops.def's *Int16 rows) run the conv family's int16 nodes on every target;
// the DSP twins (ops.def's *Dsp rows, runtime/kernels/armv7em/) replace the reference ops
// where they apply; the node's op is rewritten so lowering packs its constants for them.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace tinyforge::plan {

enum class KernelSet {
  reference,  // the reference kernels only (host, cores without the DSP extension)
  armv7em,    // plus the Armv7E-M DSP twins (runtime/kernels/armv7em/)
};

// From a target's compiler flags (targets/targets.json "cpu_flags"): the DSP twins when
// -mcpu names a core with the DSP extension (Cortex-M4, M7, M33, M35P, M55, M85) not
// disabled by "+nodsp".
KernelSet kernel_set_for(const std::vector<std::string>& cpu_flags);

// Whether `op` is one of the DSP twins (selected only for KernelSet::armv7em).
bool is_dsp_twin(OpCode op);

// The DSP twin of node `node_index`, if its types, shapes and constants suit one.
std::optional<OpCode> dsp_twin(const ir::Graph& graph, size_t node_index);

// Whether `op` is one of the 16x8 twins (selected for int16 activations in every set).
bool is_int16_twin(OpCode op);

// The 16x8 twin of node `node_index`: its op has one and its input is int16.
std::optional<OpCode> int16_twin(const ir::Graph& graph, size_t node_index);

// Rewrites every node that has a twin in `set` to that twin.
void select_kernels(ir::Graph& graph, KernelSet set);

}  // namespace tinyforge::plan
