// Describes an OTA package (.tfu) as JSON for `tinyforge inspect`: header, manifest and
// whether the payload matches its hash. Needs no key, so it does NOT say the package is
// authentic: that is `tinyforge verify --pub KEY.pub`. Throws tinyforge::Error when the header
// or the manifest cannot be parsed.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

namespace tinyforge::ota {

bool is_package(const std::vector<uint8_t>& bytes);  // starts with the "TFU1" magic
nlohmann::json describe_package(const std::vector<uint8_t>& bytes);

}  // namespace tinyforge::ota
