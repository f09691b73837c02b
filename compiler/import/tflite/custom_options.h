// Internal to the TFLite importer: a custom operator's options (Operator.custom_options,
// format FLEXBUFFERS, schema.fbs), a FlexBuffer map read by key. The bytes come from the
// file: they are verified (flexbuffers::Verifier) before any read, and every key an op reads
// is checked for presence, type and range, so a damaged or foreign map fails with a message
// naming the op and the key.
#pragma once
#include <flatbuffers/flexbuffers.h>

#include <cstdint>
#include <string>
#include <vector>

#include "import/tflite/op_mapper.h"

namespace tinyforge::tflite_import {

class CustomOptions {
 public:
  // The options of the operator `m` maps; `keys` are all those the op defines (TFLM's
  // kernels read them by their position in the key-sorted map, so another key would shift
  // them: refused). An operator without options reads as an empty map.
  CustomOptions(const OpMapper& m, std::vector<std::string> keys);

  // The integer under `key`, in [min, max]; missing or of another type: an error.
  int32_t integer(const std::string& key, int64_t min, int64_t max) const;
  // The boolean under `key` (TensorFlow writes a bool attribute as a FlexBuffer bool; an
  // integer 0 or 1 reads as TFLM's AsBool reads it); missing or of another type: an error.
  bool boolean(const std::string& key) const;
  // A valid option value tinyforge does not implement (the importer names the op and reads
  // on).
  [[noreturn]] void unsupported(const std::string& what) const { m_.unsupported(what); }

 private:
  const OpMapper& m_;
  std::vector<uint8_t> bytes_;  // a copy: flexbuffers reads scalars in place
  flexbuffers::Map map_ = flexbuffers::Map::EmptyMap();
};

}  // namespace tinyforge::tflite_import
