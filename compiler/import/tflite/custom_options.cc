// FlexBuffer options of a custom operator (custom_options.h). The layout facts used: a
// FlexBuffer's root is read from its last bytes (flexbuffers.h, GetRoot / Verifier); TFLM's
// signal kernels build their options as a map (tflite-micro signal/micro/kernels/*.cc,
// FlexbufferWrapper::ElementAsInt32 by the index of the key in sorted order).
#include "import/tflite/custom_options.h"

#include <algorithm>

namespace tinyforge::tflite_import {
namespace {

// FlexBuffers nest vectors in maps; the signal ops' options are one flat map.
constexpr size_t kMaxDepth = 8;

}  // namespace

CustomOptions::CustomOptions(const OpMapper& m, std::vector<std::string> keys) : m_(m) {
  const tfl::Operator& op = m.op();
  if (op.large_custom_options_size() > 0)
    m.unsupported(
        "its options are stored outside the flatbuffer (large_custom_options); expected "
        "custom_options");
  if (!op.custom_options() || op.custom_options()->size() == 0) return;
  if (op.custom_options_format() != tfl::CustomOptionsFormat::FLEXBUFFERS)
    m.fail(fmt::format("custom_options_format is {}; expected FLEXBUFFERS (0)",
                       static_cast<int>(op.custom_options_format())));
  bytes_.assign(op.custom_options()->begin(), op.custom_options()->end());
  std::vector<uint8_t> reuse_tracker;
  flexbuffers::Verifier verifier(bytes_.data(), bytes_.size(), &reuse_tracker, true, kMaxDepth);
  if (!verifier.VerifyBuffer())
    m.fail(
        fmt::format("custom_options ({} bytes) are not a well-formed FlexBuffer; expected a "
                    "map of the op's options (damaged file)",
                    bytes_.size()));
  const flexbuffers::Reference root = flexbuffers::GetRoot(bytes_.data(), bytes_.size());
  if (!root.IsMap())
    m.fail(fmt::format("custom_options hold a FlexBuffer of type {}; expected a map",
                       static_cast<int>(root.GetType())));
  map_ = root.AsMap();
  const flexbuffers::TypedVector names = map_.Keys();
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string key = names[i].AsKey();
    if (std::find(keys.begin(), keys.end(), key) == keys.end())
      m.fail(fmt::format(
          "custom_options hold key '{}'; expected only {}", printable(key, 40),
          keys.empty() ? std::string("none") : fmt::format("{}", fmt::join(keys, ", "))));
  }
}

int32_t CustomOptions::integer(const std::string& key, int64_t min, int64_t max) const {
  const flexbuffers::Reference value = map_[key.c_str()];
  if (value.IsNull())
    m_.fail(fmt::format("custom_options lack '{}'; expected an integer in {}..{}", key, min, max));
  if (!value.IsIntOrUint())
    m_.fail(fmt::format("custom_options '{}' is of FlexBuffer type {}; expected an integer", key,
                        static_cast<int>(value.GetType())));
  const bool is_uint = value.IsUInt();
  const uint64_t u = is_uint ? value.AsUInt64() : 0;
  const int64_t v =
      is_uint ? static_cast<int64_t>(std::min<uint64_t>(u, INT64_MAX)) : value.AsInt64();
  if (v < min || v > max)
    m_.fail(fmt::format("custom_options '{}' is {}; expected {}..{}", key, v, min, max));
  return static_cast<int32_t>(v);
}

bool CustomOptions::boolean(const std::string& key) const {
  const flexbuffers::Reference value = map_[key.c_str()];
  if (value.IsNull()) m_.fail(fmt::format("custom_options lack '{}'; expected a boolean", key));
  if (value.IsBool()) return value.AsBool();
  if (!value.IsIntOrUint())
    m_.fail(fmt::format("custom_options '{}' is of FlexBuffer type {}; expected a boolean", key,
                        static_cast<int>(value.GetType())));
  return integer(key, 0, 1) != 0;
}

}  // namespace tinyforge::tflite_import
