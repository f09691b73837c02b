// Whole-file reads and writes for the host tools; errors name the path.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace tinyforge::io {

std::vector<uint8_t> read_file(const std::string& path);  // throws tinyforge::Error
void write_file(const std::string& path,
                const std::vector<uint8_t>& bytes);  // throws tinyforge::Error

}  // namespace tinyforge::io
