#include "io/files.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "ir/graph.h"

namespace tinyforge::io {

std::vector<uint8_t> read_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw tinyforge::Error(path + ": is a folder (give a file)");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw tinyforge::Error(path + ": cannot open: " + std::strerror(errno));
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
  if (in.bad()) throw tinyforge::Error(path + ": read failed");
  return bytes;
}

void write_file(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw tinyforge::Error(path + ": is a folder (give a file name to write)");
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw tinyforge::Error(path + ": cannot create: " + std::strerror(errno));
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  if (!out) throw tinyforge::Error(path + ": write failed");
}

}  // namespace tinyforge::io
