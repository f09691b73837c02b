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
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool read_varint(const uint8_t*& p, const uint8_t* end, uint64_t& value) {
  value = 0;
  for (int shift = 0; shift < 64 && p < end; shift += 7) {
    const uint8_t b = *p++;
    value |= uint64_t{b & 0x7Fu} << shift;
    if (!(b & 0x80)) return true;
  }
  return false;
}

// Protobuf wire format (protobuf.dev/programming-guides/encoding): tag = field << 3 | type;
// types 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32. ModelProto (onnx/onnx.proto):
// field 1 ir_version (varint), 7 graph (message); other fields are skipped by their type.
bool looks_like_onnx(const std::vector<uint8_t>& bytes) {
  const uint8_t* p = bytes.data();
  const uint8_t* end = p + bytes.size();
  bool ir_version = false, graph = false;
  while (p < end) {
    uint64_t tag, value;
    if (!read_varint(p, end, tag)) return false;
    const uint64_t field = tag >> 3;
    if (field == 0 || field > 100) return false;
    switch (tag & 7) {
      case 0:
        if (!read_varint(p, end, value)) return false;
        ir_version |= field == 1;
        break;
      case 1:
        if (end - p < 8) return false;
        p += 8;
        break;
      case 2:
        if (!read_varint(p, end, value) || value > static_cast<uint64_t>(end - p)) return false;
        p += value;
        graph |= field == 7;
        break;
      case 5:
        if (end - p < 4) return false;
        p += 4;
        break;
      default:
        return false;
    }
  }
  return ir_version && graph;
}

}  // namespace

FileKind detect_file_kind(const std::vector<uint8_t>& bytes) {
  if (bytes.size() >= 8 && std::memcmp(bytes.data() + 4, "TFL3", 4) == 0) return FileKind::tflite;
  if (bytes.size() >= 4) {
    uint32_t magic;
    std::memcpy(&magic, bytes.data(), 4);
    if (magic == kPlanMagic) return FileKind::plan_blob;
  }
  if (ota::is_package(bytes)) return FileKind::ota_package;
  if (looks_like_onnx(bytes)) return FileKind::onnx;
  return FileKind::unknown;
}

FileKind kind_from_extension(const std::string& path) {
  if (ends_with(path, ".tflite")) return FileKind::tflite;
  if (ends_with(path, ".onnx")) return FileKind::onnx;
  if (ends_with(path, ".tfp")) return FileKind::plan_blob;
  if (ends_with(path, ".tfu")) return FileKind::ota_package;
  return FileKind::unknown;
}

const char* file_kind_name(FileKind kind) {
  switch (kind) {
    case FileKind::tflite:
      return "a TFLite model";
    case FileKind::onnx:
      return "an ONNX model";
    case FileKind::plan_blob:
      return "a plan blob";
    case FileKind::ota_package:
      return "an OTA package";
    case FileKind::unknown:
      break;
  }
  return "not a file tinyforge reads";
}

ir::Graph load_model(const std::string& path) {
  const std::vector<uint8_t> bytes = io::read_file(path);
  switch (detect_file_kind(bytes)) {
    case FileKind::tflite:
      return import_tflite(bytes.data(), bytes.size(), path);
    case FileKind::onnx:
      return import_onnx(bytes.data(), bytes.size(), path);
    case FileKind::plan_blob:
      throw tinyforge::Error(
          path + ": a compiled plan blob, not a model (give the .tflite or .onnx model)");
    case FileKind::ota_package:
      throw tinyforge::Error(path +
                             ": an OTA package, not a model (give the .tflite or .onnx model)");
    case FileKind::unknown:
      break;
  }
  throw tinyforge::Error(path +
                         ": not a model tinyforge reads (expected a TFLite flatbuffer with "
                         "identifier TFL3, or an ONNX protobuf)");
}

}  // namespace tinyforge
