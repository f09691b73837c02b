#include "fleet/baseline.h"

#include <cstring>

#include "fleet/rollout.h"
#include "host/host_runner.h"
#include "ir/error.h"

namespace tinyforge::fleet {

telemetry::Record input_baseline(const std::vector<uint8_t>& package,
                                 const std::vector<uint8_t>& inputs, const std::string& source) {
  const ota::Manifest m = package_manifest(package, source);
  if (m.has_delta) throw Error(source + ": a delta package holds no plan (give the full one)");
  uint32_t manifest_size = 0;
  ota::parse_package_header(package.data(), package.size(), &manifest_size);
  const size_t at = ota::signed_block_bytes(manifest_size);
  const size_t plan_size = m.has_self_test ? m.self_test_offset : m.payload_size;
  if (package.size() < at + plan_size) throw Error(source + ": the package is truncated");
  const std::vector<uint8_t> plan(package.begin() + at, package.begin() + at + plan_size);
  host::HostRunner runner(plan, source);
  const TensorView input = runner.runtime().input(0);
  if (input.type != DType::i8 && input.type != DType::u8)
    throw Error(source + ": the model's input is not int8/uint8 (quantize it with --io int8)");
  if (inputs.empty() || inputs.size() % input.bytes != 0)
    throw Error(source + ": the input data is not a whole number of " +
                std::to_string(input.bytes) + "-byte tensors");
  telemetry::Collector collector;
  collector.init("baseline", 0, 0, 0);
  ota::ImageInfo image{};
  image.valid = true;
  std::memcpy(image.model_id, m.model_id, sizeof image.model_id);
  image.version = m.version;
  std::memcpy(image.payload_sha256, m.payload_sha256, sizeof image.payload_sha256);
  collector.set_model(image);
  for (size_t offset = 0; offset < inputs.size(); offset += input.bytes) {
    std::vector<uint8_t> one(inputs.begin() + offset, inputs.begin() + offset + input.bytes);
    TensorView view = input;
    view.data = one.data();
    collector.observe_input(view);
    runner.run({one}, 1);
    collector.observe_result(Status::ok, runner.runtime().output(0), 0);
  }
  return collector.current();
}

}  // namespace tinyforge::fleet
