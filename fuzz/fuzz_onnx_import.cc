// Fuzz target: arbitrary bytes as an .onnx file. The importer must return a graph or throw
// tinyforge::Error (one printable line; UnsupportedOps: one printable line per refused node);
// any other exception, crash or sanitizer report is a bug.
// A model that imports is also planned; a plan that builds must serialize to a blob the
// runtime validates, and (when small) runs without touching memory outside its buffers.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "fuzz/plan_and_run.h"
#include "import/onnx/import_onnx.h"
#include "ir/unsupported.h"

namespace {

void require_printable_line(const std::string& line) {
  for (char c : line)
    if (static_cast<unsigned char>(c) < 0x20) {
      std::fprintf(stderr, "error message is not one printable line: %s\n", line.c_str());
      std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tinyforge::ir::Graph graph;
  try {
    graph = tinyforge::import_onnx(data, size, "fuzz.onnx");
  } catch (const tinyforge::UnsupportedOps& e) {
    for (const std::string& line : e.lines()) require_printable_line(line);
    return 0;
  } catch (const tinyforge::Error& e) {
    require_printable_line(e.what());
    return 0;
  }
  tinyforge::fuzz::plan_and_run(graph);
  return 0;
}
