// A build folder for one command: a fresh temporary folder, removed when the command
// succeeds (kept after an error, for its build.log), or `keep` when given (never removed).
#pragma once
#include <stdlib.h>

#include <exception>
#include <filesystem>
#include <string>

#include "ir/error.h"

namespace tinyforge::cli {

class TempDir {
 public:
  TempDir(const std::string& prefix, const std::string& keep) {
    if (!keep.empty()) {
      path_ = keep;
      return;
    }
    std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
    if (!mkdtemp(tmpl.data())) throw tinyforge::Error("cannot create a temporary folder");
    path_ = tmpl;
    owned_ = true;
  }
  ~TempDir() {
    std::error_code ec;
    if (owned_ && !std::uncaught_exceptions()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  bool owned_ = false;
};

}  // namespace tinyforge::cli
