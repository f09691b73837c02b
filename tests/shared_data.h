// Where the third-party models and golden vectors live (../shared beside the checkout,
// or $TINYFORGE_SHARED), and what a test does when something it needs is missing.
//
// Lenient (a developer by hand): the test skips with a message. Strict (TINYFORGE_STRICT=1,
// which `make test` sets): the same condition is a failure, so a CI run on a machine without
// ../shared, a cross-compiler or QEMU cannot come out green. `make test` also fails on any
// skip ctest counts (scripts/run-tests), which covers GTEST_SKIP calls made elsewhere.
#pragma once
#include <cstdlib>
#include <cstring>
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

inline bool strict_mode() {
  const char* env = std::getenv("TINYFORGE_STRICT");
  return env != nullptr && std::strcmp(env, "0") != 0 && env[0] != '\0';
}

}  // namespace tinyforge::testing

// Skips the test (lenient) or fails it (strict) because a dependency is missing.
#define TINYFORGE_SKIP_MISSING(message)                                       \
  do {                                                                        \
    if (::tinyforge::testing::strict_mode())                                  \
      GTEST_FAIL() << "missing dependency (TINYFORGE_STRICT=1): " << message; \
    else                                                                      \
      GTEST_SKIP() << message;                                                \
  } while (0)

#define TINYFORGE_REQUIRE_SHARED(relative)                                        \
  do {                                                                            \
    if (!::tinyforge::testing::have_shared(relative))                             \
      TINYFORGE_SKIP_MISSING("third-party data not found: "                       \
                             << (::tinyforge::testing::shared_dir() / (relative)) \
                             << " (set TINYFORGE_SHARED to the shared/ folder)"); \
  } while (0)
