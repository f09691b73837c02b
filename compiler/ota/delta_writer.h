// Host side of delta updates: encodes a payload as a TFD1 delta stream against the plan a
// device runs (format: runtime/include/tinyforge/ota/delta.h, docs/ota-format.md) and signs
// it into a delta package. Errors throw tinyforge::Error.
#pragma once
#include <cstdint>
#include <vector>

#include "ota/package_writer.h"

namespace tinyforge::ota {

// The stream that rebuilds `target` from `base`: copies of unchanged ranges, bytewise
// differences against the aligned base where bytes changed a little, literals elsewhere.
std::vector<uint8_t> encode_delta(const std::vector<uint8_t>& base,
                                  const std::vector<uint8_t>& target);

// Decodes `delta` against `base` with the device's own decoder; the Status it reports
// (ok, bad_delta, wrong_base) goes to `status`, the output to the result.
std::vector<uint8_t> apply_delta(const std::vector<uint8_t>& base,
                                 const std::vector<uint8_t>& delta, uint32_t output_size,
                                 Status* status);

// The plan bytes a device holds for `plan`: padded with zeros to 4 bytes, as they lie in
// the payload in front of the self-test block (what base_sha256 covers).
std::vector<uint8_t> base_image(const std::vector<uint8_t>& plan);

// A signed delta package: the same payload write_package() would ship (`plan`, then
// `self_test`), sent as a delta against `base_plan` (base_sha256 names it).
std::vector<uint8_t> write_delta_package(const PackageSpec& spec,
                                         const std::vector<uint8_t>& base_plan,
                                         const std::vector<uint8_t>& plan, const SecretKey& key,
                                         const std::vector<uint8_t>& self_test = {});

}  // namespace tinyforge::ota
