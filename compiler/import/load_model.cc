#include "import/load_model.h"

#include <cstring>

#include "import/onnx/import_onnx.h"
#include "import/tflite/import_tflite.h"
#include "io/files.h"
#include "ota/package_describe.h"
#include "tinyforge/plan_format.h"

namespace tinyforge {
namespace {
bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
}  // namespace

FileKind detect_file_kind(const std::vector<uint8_t>& bytes, const std::string& path) {
  if (bytes.size() >= 8 && std::memcmp(bytes.data() + 4, "TFL3", 4) == 0) return FileKind::tflite;
  if (bytes.size() >= 4) {
    uint32_t magic;
    std::memcpy(&magic, bytes.data(), 4);
    if (magic == kPlanMagic) return FileKind::plan_blob;
  }
  if (ota::is_package(bytes)) return FileKind::ota_package;
  if (ends_with(path, ".onnx")) return FileKind::onnx;
  return FileKind::unknown;
}

ir::Graph load_model(const std::string& path) {
  const std::vector<uint8_t> bytes = io::read_file(path);
  switch (detect_file_kind(bytes, path)) {
    case FileKind::tflite: return import_tflite(bytes.data(), bytes.size(), path);
    case FileKind::onnx: return import_onnx(bytes.data(), bytes.size(), path);
    case FileKind::plan_blob:
      throw tinyforge::Error(path + ": this is a compiled plan blob, not a model (this command needs a .tflite or .onnx model)");
    case FileKind::ota_package:
      throw tinyforge::Error(path + ": this is an OTA package, not a model");
    case FileKind::unknown: break;
  }
  throw tinyforge::Error(path + ": not a model this tool reads (expected a TFLite flatbuffer with identifier TFL3, or an .onnx file)");
}

}  // namespace tinyforge
