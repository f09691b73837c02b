// Where the third-party models and golden vectors live (../shared beside the checkout,
// or $TINYFORGE_SHARED). Tests that need them skip with a message when absent.
#pragma once
#include <cstdlib>
#include <filesystem>
#include <string>

namespace tinyforge::testing {

inline std::filesystem::path shared_dir() {
  if (const char* env = std::getenv("TINYFORGE_SHARED")) return env;
  return TINYFORGE_SHARED_DIR;
}

inline bool have_shared(const std::string& relative) {
  return std::filesystem::exists(shared_dir() / relative);
}

}  // namespace tinyforge::testing

#define TINYFORGE_REQUIRE_SHARED(relative)                                              \
  do {                                                                                  \
    if (!::tinyforge::testing::have_shared(relative))                                   \
      GTEST_SKIP() << "third-party data not found: " << (::tinyforge::testing::shared_dir() / (relative)) \
                   << " (set TINYFORGE_SHARED to the shared/ folder)";                  \
  } while (0)
