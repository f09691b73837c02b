// Fuzz target: arbitrary bytes as an .onnx file. The importer must return a graph or throw
// ir::Error (one printable line); any other exception, crash or sanitizer report is a bug.
// A model that imports is also planned; a plan that builds must serialize to a blob the
// runtime validates, and (when small) runs without touching memory outside its buffers.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "emit/plan_writer.h"
#include "import/onnx/import_onnx.h"
#include "ir/metrics.h"
#include "plan/build_plan.h"
#include "tinyforge/runtime.h"

namespace {

constexpr uint32_t kMaxArenaToRun = 1u << 20;
constexpr int64_t kMaxWorkToRun = 5'000'000;

// Inner-loop iterations of one inference, roughly (MACs, pool windows, one pass per op):
// keeps legal but huge fuzzed models from stalling the fuzzer.
int64_t estimated_work(const tinyforge::ir::Graph& g) {
  using namespace tinyforge;
  int64_t work = ir::graph_metrics(g).macs;
  for (const ir::Node& n : g.nodes) {
    const int64_t out = g.tensors[static_cast<size_t>(n.outputs[0])].elements();
    const bool pool = n.op == OpCode::AveragePool2D || n.op == OpCode::MaxPool2D;
    work += pool ? out * n.attrs.filter_h * n.attrs.filter_w : out;
    for (int t : n.inputs)
      if (t >= 0) work += g.tensors[static_cast<size_t>(t)].elements();
  }
  return work;
}

void run_plan(const tinyforge::ir::Graph& graph) {
  using namespace tinyforge;
  plan::Plan p;
  try {
    p = plan::build_plan(graph);
  } catch (const ir::Error&) {
    return;  // refused with a message: fine
  }
  const std::vector<uint8_t> bytes = emit::write_plan_blob(p);
  const auto size = static_cast<uint32_t>(bytes.size());
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

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tinyforge::ir::Graph graph;
  try {
    graph = tinyforge::import_onnx(data, size, "fuzz.onnx");
  } catch (const tinyforge::ir::Error& e) {
    for (const char* c = e.what(); *c; ++c)
      if (static_cast<unsigned char>(*c) < 0x20) {
        std::fprintf(stderr, "error message is not one printable line: %s\n", e.what());
        std::abort();
      }
    return 0;
  }
  run_plan(graph);
  return 0;
}
