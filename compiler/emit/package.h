// `tinyforge export --as FORMAT`: a compiled model as a ready library for someone else's
// firmware build. The package holds the device runtime's sources for one target (only the
// kernels the plan uses; the DSP twins only when the plan uses them), the model (the plan
// blob as a const array, or the AOT C++), a generated header `<name>_model.h` with the
// model's sizes, shapes, dtypes and quantization as macros usable from C and C++, a short
// example (example/main.cc) and the build manifest of one format (docs/device-api.md,
// "Packages"). Every format uses the same tree under DIR/src/, the runtime's own layout:
// src/tinyforge/ (public headers), src/src/ (executor), src/kernels/<variant>/.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tinyforge::emit {

enum class PackageFormat { cmake, zephyr, platformio, arduino, esp_idf };

// "cmake", "zephyr", "platformio", "arduino", "esp-idf".
const char* package_format_name(PackageFormat format);
std::optional<PackageFormat> package_format_from_name(const std::string& name);
std::vector<std::string> package_format_names();

// Empty when `name` can name a package (a C identifier starting with a letter, not a C or
// C++ keyword, at most 63 characters: Arduino's limit), else what is wrong with it.
std::string package_name_problem(const std::string& name);

struct PackageOptions {
  PackageFormat format = PackageFormat::cmake;
  std::string name;                     // checked with package_name_problem()
  std::string model_version = "1.0.0";  // MAJOR.MINOR.PATCH, checked by the caller
  bool aot = false;                     // the AOT C++ (emit/aot_cpp.h) instead of the blob
};

struct PackageContents {
  std::vector<std::string> files;    // every file written, relative to the package folder
  std::vector<std::string> sources;  // the library's compiled sources, relative; include: src/
  uint32_t arena_bytes = 0;
  bool dsp_kernels = false;  // the Armv7E-M DSP twins are part of it
};

// Validates the blob with the runtime first (tinyforge::Error naming the status) and writes
// the package into `out_dir` (created if missing; existing files are overwritten: the
// caller refuses a non-empty folder).
PackageContents write_package(const std::vector<uint8_t>& blob, const PackageOptions& options,
                              const std::string& out_dir);

}  // namespace tinyforge::emit
