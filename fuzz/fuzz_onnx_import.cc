// Fuzz target: arbitrary bytes as an .onnx file. The importer must return a graph or throw
// tinyforge::Error (one printable line); any other exception, crash or sanitizer report is a bug.
// A model that imports is also planned; a plan that builds must serialize to a blob the
// runtime validates, and (when small) runs without touching memory outside its buffers.
#include <cstdio>
#include <cstdlib>

#include "fuzz/plan_and_run.h"
#include "import/onnx/import_onnx.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tinyforge::ir::Graph graph;
  try {
    graph = tinyforge::import_onnx(data, size, "fuzz.onnx");
  } catch (const tinyforge::Error& e) {
    for (const char* c = e.what(); *c; ++c)
      if (static_cast<unsigned char>(*c) < 0x20) {
        std::fprintf(stderr, "error message is not one printable line: %s\n", e.what());
        std::abort();
      }
    return 0;
  }
  tinyforge::fuzz::plan_and_run(graph);
  return 0;
}
