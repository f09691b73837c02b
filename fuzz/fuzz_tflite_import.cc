// Fuzz target: arbitrary bytes as a .tflite file. The importer must return a graph or
// throw tinyforge::Error; any other exception, crash or sanitizer report is a bug. A model that
// imports is also planned; a plan that builds must serialize to a blob the runtime
// validates, and (when small) runs without touching memory outside its buffers.
#include <cstdio>
#include <cstdlib>

#include "fuzz/plan_and_run.h"
#include "import/tflite/import_tflite.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tinyforge::ir::Graph graph;
  try {
    graph = tinyforge::import_tflite(data, size, "fuzz.tflite");
  } catch (const tinyforge::Error&) {
    return 0;
  }
  tinyforge::ir::graph_metrics(graph);
  tinyforge::fuzz::plan_and_run(graph);
  return 0;
}
