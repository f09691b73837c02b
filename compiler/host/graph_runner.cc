// The host's definition of passes::prepare_graph: the planner, the blob writer and the
// device runtime, so passes see exactly what the device computes.
#include "passes/graph_runner.h"

#include "emit/plan_writer.h"
#include "host/host_runner.h"
#include "plan/build_plan.h"

namespace tinyforge::passes {
namespace {

// Plans run here only: the arena size does not matter, so no search for the smallest.
plan::PlanOptions host_only() {
  plan::PlanOptions o;
  o.minimize_arena = false;
  return o;
}

class HostPreparedGraph : public PreparedGraph {
 public:
  HostPreparedGraph(const ir::Graph& graph, const std::string& source)
      : runner_(emit::write_plan_blob(plan::build_plan(graph, host_only())), source) {}
  std::vector<std::vector<uint8_t>> run(const std::vector<std::vector<uint8_t>>& inputs,
                                        uint32_t cases) override {
    return runner_.run(inputs, cases);
  }
  void reset_state() override { runner_.reset_state(); }

 private:
  host::HostRunner runner_;
};

}  // namespace

std::unique_ptr<PreparedGraph> prepare_graph(const ir::Graph& graph, const std::string& source) {
  return std::make_unique<HostPreparedGraph>(graph, source);
}

}  // namespace tinyforge::passes
