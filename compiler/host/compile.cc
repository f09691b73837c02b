#include "host/compile.h"

#include "emit/plan_writer.h"
#include "import/load_model.h"
#include "io/files.h"
#include "plan/build_plan.h"

namespace tinyforge::host {

Compiled compile_model_file(const std::string& path) {
  Compiled c;
  c.graph = load_model(path);
  c.plan = plan::build_plan(c.graph);
  c.blob = emit::write_plan_blob(c.plan);
  return c;
}

std::vector<uint8_t> blob_from_file(const std::string& path) {
  std::vector<uint8_t> bytes = io::read_file(path);
  if (detect_file_kind(bytes, path) == FileKind::plan_blob) return bytes;
  return compile_model_file(path).blob;
}

}  // namespace tinyforge::host
