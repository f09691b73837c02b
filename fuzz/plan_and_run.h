// Shared tail of the import fuzz targets: a graph that imported is planned for both kernel
// sets (the host reference kernels and the cortex-m4 DSP twins, whose plans add scratch
// buffers, packed constants and in-place memory); a plan that builds must serialize to a
// blob the runtime validates and, when small, runs without touching memory outside its
// buffers. Anything else aborts (a finding).
#pragma once
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "emit/plan_writer.h"
#include "ir/metrics.h"
#include "ops/pool.h"
#include "plan/build_plan.h"
#include "tinyforge/runtime.h"

namespace tinyforge::fuzz {

constexpr uint32_t kMaxArenaToRun = 1u << 20;
constexpr int64_t kMaxWorkToRun = 5'000'000;

// Inner-loop iterations of one inference, roughly (MACs, pool windows, one pass over each
// op's inputs and output): keeps legal but huge fuzzed models from stalling the fuzzer.
inline int64_t estimated_work(const ir::Graph& g) {
  int64_t work = ir::graph_metrics(g).macs;
  for (const ir::Node& n : g.nodes) {
    const int64_t out = g.tensors[static_cast<size_t>(n.outputs[0])].elements();
    const auto* pool = n.params.find<ops::PoolAttrs>();
    work += pool ? out * pool->window.filter_h * pool->window.filter_w : out;
    for (int t : n.inputs)
      if (t >= 0) work += g.tensors[static_cast<size_t>(t)].elements();
  }
  return work;
}

inline void plan_and_run_with(const ir::Graph& graph, plan::KernelSet kernels) {
  plan::Plan p;
  try {
    plan::PlanOptions options;
    options.kernels = kernels;
    p = plan::build_plan(graph, options);
  } catch (const tinyforge::Error&) {
    return;  // refused with a message: fine
  }
  const std::vector<uint8_t> bytes = emit::write_plan_blob(p);
  const auto size = static_cast<uint32_t>(bytes.size());
  // Exact-size heap copies (operator new aligns to 16): ASan sees any access past the end.
  std::unique_ptr<uint8_t[]> blob(new uint8_t[size]);
  std::memcpy(blob.get(), bytes.data(), size);
  const Status valid = validate_plan(blob.get(), size);
  if (valid != Status::ok) {
    std::fprintf(stderr, "compiler wrote a blob the runtime refuses: %s\n", status_name(valid));
    std::abort();
  }
  if (p.arena_size > kMaxArenaToRun || estimated_work(graph) > kMaxWorkToRun) return;
  std::unique_ptr<uint8_t[]> arena(new uint8_t[p.arena_size ? p.arena_size : 1]());
  Runtime rt;
  const Status init = rt.init(blob.get(), size, arena.get(), p.arena_size);
  if (init != Status::ok) {
    std::fprintf(stderr, "runtime refuses the planned arena: %s\n", status_name(init));
    std::abort();
  }
  rt.invoke();
}

inline void plan_and_run(const ir::Graph& graph) {
  plan_and_run_with(graph, plan::KernelSet::reference);
  plan_and_run_with(graph, plan::KernelSet::armv7em);
}

}  // namespace tinyforge::fuzz
