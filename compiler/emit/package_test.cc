// Packages of `tinyforge export --as`: names, the runtime files they carry (only the
// kernels of the plan, the DSP twins only when it uses them), the generated header read
// back by a C compiler, each format's manifest against that format's documented rules, and
// each manifest's own source list compiled with arm-none-eabi-g++ for the target. The
// vendor tools (west, pio, arduino-cli, idf.py) are not installed here; the CMake package
// is built and run for real by tests/package_consumer_test.cc.
#include "emit/package.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "emit/cortex_m_targets.h"
#include "emit/cross_build.h"
#include "emit/subprocess.h"
#include "emit/validated_plan.h"
#include "expect_error.h"
#include "host/compile.h"
#include "ir/error.h"
#include "shared_data.h"

namespace tinyforge::emit {
namespace {

namespace fs = std::filesystem;

const std::string kDigits = std::string(TINYFORGE_SOURCE_DIR) + "/examples/digits/digits.onnx";

class Scratch {
 public:
  explicit Scratch(const std::string& name)
      : path_(fs::temp_directory_path() /
              ("tinyforge-pkg-" + name + "-" + std::to_string(getpid()))) {
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<uint8_t> compile_for(const std::string& model, const std::string& target) {
  return host::compile_model_file(model, host::plan_options_for_target(target)).blob;
}

PackageContents export_to(const std::vector<uint8_t>& blob, PackageFormat format,
                          const fs::path& dir, bool aot = false) {
  PackageOptions options;
  options.format = format;
  options.name = "digits";
  options.model_version = "2.1.0";
  options.aot = aot;
  return write_package(blob, options, dir.string());
}

// Every source file under `dir`, relative to `root`, as the Arduino and PlatformIO builds
// find them (recursively, by extension).
std::vector<std::string> sources_under(const fs::path& root, const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(root / dir)) {
    const std::string ext = e.path().extension().string();
    if (ext == ".cc" || ext == ".cpp" || ext == ".c" || ext == ".S")
      out.push_back(fs::relative(e.path(), root).generic_string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The .cc/.cpp paths a CMake-language manifest names, relative to the package root.
std::vector<std::string> sources_named_in(const fs::path& root, const std::string& manifest) {
  std::vector<std::string> out;
  static const std::regex source(R"(([A-Za-z0-9_${}./-]+\.(cc|cpp)))");
  const std::string text = read_text(root / manifest);
  for (auto it = std::sregex_iterator(text.begin(), text.end(), source);
       it != std::sregex_iterator(); ++it) {
    std::string path = (*it)[1].str();
    const std::string here = "${CMAKE_CURRENT_LIST_DIR}/";
    if (path.rfind(here, 0) == 0)
      path = (fs::path(manifest).parent_path() / path.substr(here.size())).generic_string();
    out.push_back(fs::path(path).lexically_normal().generic_string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// `key: value` lines of a small YAML file, nested keys joined with '.' by indentation.
std::map<std::string, std::string> yaml_values(const std::string& text) {
  std::map<std::string, std::string> out;
  std::vector<std::pair<size_t, std::string>> parents;
  std::istringstream lines(text);
  static const std::regex entry(R"(^( *)([A-Za-z0-9_.-]+):\s*(.*)$)");
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (line.empty() || line[0] == '#' || !std::regex_match(line, m, entry)) continue;
    const size_t indent = m[1].length();
    while (!parents.empty() && parents.back().first >= indent) parents.pop_back();
    std::string key;
    for (const auto& p : parents) key += p.second + ".";
    key += m[2].str();
    std::string value = m[3].str();
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
      value = value.substr(1, value.size() - 2);
    if (value.empty())
      parents.emplace_back(indent, m[2].str());
    else
      out[key] = value;
  }
  return out;
}

std::map<std::string, std::string> properties(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    const size_t eq = line.find('=');
    if (!line.empty() && line[0] != '#' && eq != std::string::npos)
      out[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return out;
}

bool is_semver(const std::string& v) { return std::regex_match(v, std::regex(R"(\d+\.\d+\.\d+)")); }

TEST(PackageName, MustBeACIdentifierStartingWithALetter) {
  EXPECT_EQ(package_name_problem("digits"), "");
  EXPECT_EQ(package_name_problem("kws_v2"), "");
  EXPECT_NE(package_name_problem(""), "");
  EXPECT_NE(package_name_problem("2digits").find("start with a letter"), std::string::npos);
  EXPECT_NE(package_name_problem("_digits").find("start with a letter"), std::string::npos);
  EXPECT_NE(package_name_problem("my-model").find("C identifier"), std::string::npos);
  EXPECT_NE(package_name_problem("my model").find("C identifier"), std::string::npos);
  EXPECT_NE(package_name_problem("int").find("keyword"), std::string::npos);
  EXPECT_NE(package_name_problem("class").find("keyword"), std::string::npos);
  EXPECT_NE(package_name_problem(std::string(64, 'a')).find("63"), std::string::npos);
  EXPECT_EQ(package_name_problem(std::string(63, 'a')), "");
}

TEST(Package, RefusesABadNameAndAnInvalidBlob) {
  Scratch dir("refuse");
  PackageOptions options;
  options.name = "9lives";
  EXPECT_ERROR(write_package(compile_for(kDigits, "host"), options, dir.path().string()),
               tinyforge::Error, "package name '9lives' must start with a letter");
  options.name = "digits";
  std::vector<uint8_t> garbage(200, 0x5A);
  EXPECT_ERROR(write_package(garbage, options, dir.path().string()), tinyforge::Error,
               "invalid plan blob");
  options.model_version = "1.0";
  EXPECT_ERROR(write_package(compile_for(kDigits, "host"), options, dir.path().string()),
               tinyforge::Error, "not MAJOR.MINOR.PATCH");
}

TEST(Package, CarriesTheAudioFrontEndOnlyForABlobWithOne) {
  TINYFORGE_REQUIRE_SHARED("models/micro_speech_quantized.tflite");
  const std::string model =
      (testing::shared_dir() / "models" / "micro_speech_quantized.tflite").string();
  const plan::PlanOptions options = host::plan_options_for_target("host");
  host::Compiled c = host::compile_model_file(model, options);
  Scratch plain("plain"), audio("audio");
  const auto has_frontend = [](const PackageContents& p) {
    return std::count(p.sources.begin(), p.sources.end(), "src/audio/frontend.cc") == 1;
  };
  EXPECT_FALSE(has_frontend(export_to(c.blob, PackageFormat::cmake, plain.path())));
  host::add_frontend(c, audio::FrontendSpec{}, options, model);
  EXPECT_TRUE(has_frontend(export_to(c.blob, PackageFormat::cmake, audio.path())));
}

TEST(Package, CarriesOnlyTheKernelsOfThePlan) {
  Scratch dir("kernels");
  const PackageContents p =
      export_to(compile_for(kDigits, "host"), PackageFormat::cmake, dir.path());
  std::set<std::string> kernels;
  for (const std::string& s : p.sources)
    if (s.rfind("src/kernels/", 0) == 0) kernels.insert(fs::path(s).filename().string());
  // The digits CNN (examples/digits/README.md): conv, pooling, fully connected, softmax.
  EXPECT_TRUE(kernels.count("conv2d.cc"));
  EXPECT_TRUE(kernels.count("fully_connected.cc"));
  EXPECT_TRUE(kernels.count("softmax.cc"));
  EXPECT_FALSE(kernels.count("transpose.cc"));  // ops it does not have
  EXPECT_FALSE(kernels.count("strided_slice.cc"));
  size_t all_kernels = 0;
  for (const auto& e :
       fs::recursive_directory_iterator(fs::path(TINYFORGE_SOURCE_DIR) / "runtime" / "kernels"))
    if (e.path().extension() == ".cc" &&
        e.path().filename().string().find("_test") == std::string::npos)
      ++all_kernels;
  EXPECT_LT(kernels.size(), all_kernels / 2);
  EXPECT_FALSE(fs::exists(dir.path() / "src" / "kernels" / "armv7em"));
  EXPECT_FALSE(p.dsp_kernels);
  // Every file of the tree is listed, and every listed file is there.
  size_t on_disk = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir.path()))
    if (e.is_regular_file()) ++on_disk;
  EXPECT_EQ(on_disk, p.files.size());
  for (const std::string& f : p.files) EXPECT_TRUE(fs::is_regular_file(dir.path() / f)) << f;
}

TEST(Package, DspTwinsOnlyForADspPlan) {
  const std::string kws = (testing::shared_dir() / "models" / "kws_ref_model.tflite").string();
  TINYFORGE_REQUIRE_SHARED("models/kws_ref_model.tflite");
  Scratch m4("dsp-m4"), m0("dsp-m0");
  const PackageContents with =
      export_to(compile_for(kws, "cortex-m4"), PackageFormat::cmake, m4.path());
  const PackageContents without =
      export_to(compile_for(kws, "cortex-m0plus"), PackageFormat::cmake, m0.path());
  EXPECT_TRUE(with.dsp_kernels);
  EXPECT_TRUE(fs::exists(m4.path() / "src" / "kernels" / "armv7em" / "conv2d_dsp.cc"));
  EXPECT_TRUE(fs::exists(m4.path() / "src" / "kernels" / "armv7em" / "dsp.h"));
  EXPECT_FALSE(without.dsp_kernels);
  EXPECT_FALSE(fs::exists(m0.path() / "src" / "kernels" / "armv7em"));
  EXPECT_NE(read_text(m4.path() / "src" / "digits_model.h").find("#define DIGITS_DSP_KERNELS 1"),
            std::string::npos);
}

// The header, compiled as C99 and as C++17 by the host compilers, prints what the runtime
// reads from the blob itself.
TEST(Package, HeaderIsCAndCppAndAgreesWithThePlan) {
  if (!program_available("cc") || !program_available("c++"))
    TINYFORGE_SKIP_MISSING("no host C and C++ compilers (cc, c++)");
  Scratch dir("header");
  const std::vector<uint8_t> blob = compile_for(kDigits, "host");
  export_to(blob, PackageFormat::cmake, dir.path());
  const fs::path probe = dir.path() / "probe.c";
  std::ofstream(probe)
      << "#include <stdio.h>\n#include \"digits_model.h\"\n"
         "int main(void) {\n"
         "  const int shape[] = DIGITS_INPUT0_SHAPE;\n"
         "  DIGITS_INPUT0_TYPE first = 0;\n"
         "  printf(\"%u %u %u %u %u %d %a %d %s %s %u %d\\n\",\n"
         "         DIGITS_ARENA_BYTES, DIGITS_NUM_INPUTS, DIGITS_NUM_OUTPUTS,\n"
         "         DIGITS_INPUT0_BYTES, DIGITS_OUTPUT0_BYTES, DIGITS_INPUT0_DTYPE,\n"
         "         (double)DIGITS_OUTPUT0_SCALE, shape[1] + (int)first,\n"
         "         DIGITS_MODEL_VERSION, DIGITS_MODEL_SHA256,\n"
         "         DIGITS_PLAN_BYTES, (int)sizeof(first));\n"
         "  return 0;\n}\n";
  const ProcessResult cc =
      run_process({"cc", "-std=c99", "-Wall", "-Werror", "-I", (dir.path() / "src").string(),
                   probe.string(), "-o", (dir.path() / "probe").string()});
  ASSERT_EQ(cc.exit_code, 0) << cc.output;
  const ProcessResult run = run_process({(dir.path() / "probe").string()});
  ASSERT_EQ(run.exit_code, 0) << run.output;

  const ValidatedPlan plan(blob, "test");
  const TensorRecord in = plan.reader().tensor(plan.reader().model_input(0));
  const TensorRecord out = plan.reader().tensor(plan.reader().model_output(0));
  std::istringstream fields(run.output);
  unsigned arena, n_in, n_out, in_bytes, out_bytes, plan_bytes;
  int dtype, dim1, elem_size;
  std::string scale, version, sha;
  fields >> arena >> n_in >> n_out >> in_bytes >> out_bytes >> dtype >> scale >> dim1 >> version >>
      sha >> plan_bytes >> elem_size;
  EXPECT_EQ(arena, plan.header().arena_size);
  EXPECT_EQ(n_in, plan.header().num_inputs);
  EXPECT_EQ(n_out, plan.header().num_outputs);
  EXPECT_EQ(in_bytes, in.size_bytes);
  EXPECT_EQ(out_bytes, out.size_bytes);
  EXPECT_EQ(dtype, in.dtype);
  EXPECT_EQ(std::strtof(scale.c_str(), nullptr), out.scale);
  EXPECT_EQ(dim1, in.dims[1]);
  EXPECT_EQ(version, "2.1.0");
  EXPECT_EQ(plan_bytes, blob.size());
  EXPECT_EQ(elem_size, 4);  // the digits model's input is float32
  // The C++ constants, from a C++17 program.
  const fs::path cpp_probe = dir.path() / "probe.cc";
  std::ofstream(cpp_probe)
      << "#include <cstdio>\n#include \"digits_model.h\"\n"
         "int main() {\n"
         "  using namespace digits_model;\n"
         "  std::printf(\"%u %u %u %d %a %d\\n\", kArenaBytes, kInputs[0].bytes,\n"
         "              kOutputs[0].elements, kInputs[0].shape[3],\n"
         "              (double)kOutputs[0].scale, kOutputs[0].dtype);\n"
         "  return sizeof kInputs / sizeof kInputs[0] == 1 ? 0 : 1;\n}\n";
  const ProcessResult cxx =
      run_process({"c++", "-std=c++17", "-Wall", "-Werror", "-I", (dir.path() / "src").string(),
                   cpp_probe.string(), "-o", (dir.path() / "cpp_probe").string()});
  ASSERT_EQ(cxx.exit_code, 0) << cxx.output;
  const ProcessResult cpp_run = run_process({(dir.path() / "cpp_probe").string()});
  ASSERT_EQ(cpp_run.exit_code, 0) << cpp_run.output;
  std::istringstream cpp_fields(cpp_run.output);
  unsigned cpp_arena, cpp_in_bytes, cpp_out_elements;
  int cpp_width, cpp_dtype;
  std::string cpp_scale;
  cpp_fields >> cpp_arena >> cpp_in_bytes >> cpp_out_elements >> cpp_width >> cpp_scale >>
      cpp_dtype;
  EXPECT_EQ(cpp_arena, plan.header().arena_size);
  EXPECT_EQ(cpp_in_bytes, in.size_bytes);
  EXPECT_EQ(cpp_out_elements, out.size_bytes / 4);  // float32 scores
  EXPECT_EQ(cpp_width, in.dims[3]);
  EXPECT_EQ(std::strtof(cpp_scale.c_str(), nullptr), out.scale);
  EXPECT_EQ(cpp_dtype, out.dtype);
  // SHA-256 of the blob, by coreutils rather than our own implementation.
  if (program_available("sha256sum")) {
    const fs::path blob_file = dir.path() / "blob.tfp";
    std::ofstream(blob_file, std::ios::binary)
        .write(reinterpret_cast<const char*>(blob.data()), blob.size());
    const ProcessResult sum = run_process({"sha256sum", blob_file.string()});
    EXPECT_EQ(sum.output.substr(0, 64), sha);
  }
}

// The package's sources and its example/main.cc make a program that runs (the example
// returns 0 only when the model initialises, runs and gives the header's output size).
TEST(Package, ExampleRunsOnTheHostFromBlobAndAot) {
  if (!program_available("g++")) TINYFORGE_SKIP_MISSING("no host C++ compiler (g++)");
  const std::vector<uint8_t> blob = compile_for(kDigits, "host");
  for (const bool aot : {false, true}) {
    SCOPED_TRACE(aot ? "aot" : "blob");
    Scratch dir(aot ? "example-aot" : "example-blob");
    const PackageContents p = export_to(blob, PackageFormat::cmake, dir.path(), aot);
    EXPECT_EQ(fs::exists(dir.path() / "src" / "src" / "runtime.cc"), !aot);
    EXPECT_EQ(fs::exists(dir.path() / "src" / "digits_model_aot.cc"), aot);
    std::vector<std::string> cmd = {"g++",       "-std=c++17", "-fno-exceptions",
                                    "-fno-rtti", "-I",         (dir.path() / "src").string()};
    for (const std::string& s : p.sources) cmd.push_back((dir.path() / s).string());
    cmd.insert(cmd.end(), {(dir.path() / "example" / "main.cc").string(), "-o",
                           (dir.path() / "example_main").string()});
    const ProcessResult build = run_process(cmd);
    ASSERT_EQ(build.exit_code, 0) << build.output;
    EXPECT_EQ(run_process({(dir.path() / "example_main").string()}).exit_code, 0);
  }
}

TEST(PackageManifest, ArduinoLibrarySpecification15) {
  Scratch dir("arduino");
  export_to(compile_for(kDigits, "host"), PackageFormat::arduino, dir.path());
  const auto p = properties(read_text(dir.path() / "library.properties"));
  for (const char* key : {"name", "version", "author", "maintainer", "sentence", "paragraph",
                          "category", "url", "architectures"})
    EXPECT_TRUE(p.count(key) && !p.at(key).empty()) << "library.properties lacks " << key;
  EXPECT_TRUE(std::regex_match(p.at("name"), std::regex(R"([A-Za-z0-9][A-Za-z0-9 _.-]{0,62})")));
  EXPECT_TRUE(is_semver(p.at("version")));
  const std::set<std::string> categories = {
      "Display", "Communication", "Signal Input/Output", "Sensors", "Device Control",
      "Timing",  "Data Storage",  "Data Processing",     "Other"};
  EXPECT_TRUE(categories.count(p.at("category"))) << p.at("category");
  EXPECT_TRUE(fs::is_regular_file(dir.path() / "src" / p.at("includes")));
  // 1.5 layout: sources only under src/ (compiled recursively), with extensions every IDE
  // compiles (.cc only in recent arduino-cli).
  const std::vector<std::string> sources = sources_under(dir.path(), "src");
  EXPECT_GT(sources.size(), 5u);
  for (const std::string& s : sources) EXPECT_EQ(fs::path(s).extension(), ".cpp") << s;
  EXPECT_FALSE(fs::exists(dir.path() / "library.json"));
}

TEST(PackageManifest, PlatformioLibraryJson) {
  Scratch dir("pio");
  export_to(compile_for(kDigits, "host"), PackageFormat::platformio, dir.path());
  const auto j = nlohmann::json::parse(read_text(dir.path() / "library.json"));
  ASSERT_TRUE(j.contains("name") && j.contains("version"));
  EXPECT_EQ(j["name"], "digits");
  EXPECT_TRUE(is_semver(j["version"].get<std::string>()));
  EXPECT_TRUE(fs::is_directory(dir.path() / j["build"]["srcDir"].get<std::string>()));
  EXPECT_TRUE(fs::is_regular_file(dir.path() / j["build"]["includeDir"].get<std::string>() /
                                  "digits_model.h"));
  EXPECT_TRUE(fs::is_regular_file(dir.path() / j["build"]["includeDir"].get<std::string>() /
                                  "tinyforge" / "runtime.h"));
}

TEST(PackageManifest, ZephyrModule) {
  Scratch dir("zephyr");
  const PackageContents p =
      export_to(compile_for(kDigits, "host"), PackageFormat::zephyr, dir.path());
  const auto y = yaml_values(read_text(dir.path() / "zephyr" / "module.yml"));
  ASSERT_TRUE(y.count("build.cmake") && y.count("build.kconfig"));
  EXPECT_TRUE(fs::is_regular_file(dir.path() / y.at("build.cmake") / "CMakeLists.txt"));
  EXPECT_TRUE(fs::is_regular_file(dir.path() / y.at("build.kconfig")));
  EXPECT_TRUE(std::regex_match(y.at("name"), std::regex("[A-Za-z0-9_-]+")));
  const std::string kconfig = read_text(dir.path() / y.at("build.kconfig"));
  const std::string cmake = read_text(dir.path() / y.at("build.cmake") / "CMakeLists.txt");
  EXPECT_NE(kconfig.find("config DIGITS\n"), std::string::npos);
  EXPECT_NE(cmake.find("if(CONFIG_DIGITS)"), std::string::npos);
  EXPECT_NE(cmake.find("zephyr_library"), std::string::npos);
  EXPECT_EQ(sources_named_in(dir.path(), "zephyr/CMakeLists.txt"), p.sources);
}

TEST(PackageManifest, EspIdfComponent) {
  Scratch dir("idf");
  const PackageContents p =
      export_to(compile_for(kDigits, "host"), PackageFormat::esp_idf, dir.path());
  const auto y = yaml_values(read_text(dir.path() / "idf_component.yml"));
  ASSERT_TRUE(y.count("version"));
  EXPECT_TRUE(is_semver(y.at("version")));
  EXPECT_TRUE(y.count("dependencies.idf"));
  const std::string cmake = read_text(dir.path() / "CMakeLists.txt");
  EXPECT_NE(cmake.find("idf_component_register("), std::string::npos);
  EXPECT_NE(cmake.find("INCLUDE_DIRS \"src\""), std::string::npos);
  EXPECT_EQ(sources_named_in(dir.path(), "CMakeLists.txt"), p.sources);
}

TEST(PackageManifest, CmakeExportsTheTargetAndAConfigFile) {
  Scratch dir("cmake");
  const PackageContents p =
      export_to(compile_for(kDigits, "host"), PackageFormat::cmake, dir.path());
  const std::string cmake = read_text(dir.path() / "CMakeLists.txt");
  for (const char* part : {"add_library(digits STATIC", "add_library(digits::digits ALIAS digits)",
                           "install(EXPORT digitsTargets NAMESPACE digits::", "digitsConfig.cmake",
                           "digitsConfigVersion.cmake", "project(digits VERSION 2.1.0"})
    EXPECT_NE(cmake.find(part), std::string::npos) << part;
  EXPECT_EQ(sources_named_in(dir.path(), "CMakeLists.txt"), p.sources);
}

// Each format's own source list (read back from its manifest, or found the way its tool
// finds sources) plus example/main.cc compile for Cortex-M4 with the DSP twins.
TEST(PackageManifest, EachFormatsSourcesCompileForCortexM4) {
  if (!cross_toolchain_available())
    TINYFORGE_SKIP_MISSING("arm-none-eabi-gcc not found (scripts/bootstrap installs it)");
  const std::string kws = (testing::shared_dir() / "models" / "kws_ref_model.tflite").string();
  TINYFORGE_REQUIRE_SHARED("models/kws_ref_model.tflite");
  const std::vector<uint8_t> blob = compile_for(kws, "cortex-m4");
  const CortexMTarget m4 = find_target("cortex-m4");
  for (const std::string& format : package_format_names()) {
    SCOPED_TRACE(format);
    Scratch dir("cross-" + format);
    const PackageContents p = export_to(blob, *package_format_from_name(format), dir.path());
    ASSERT_TRUE(p.dsp_kernels);
    std::vector<std::string> sources;
    if (format == "cmake" || format == "esp-idf")
      sources = sources_named_in(dir.path(), "CMakeLists.txt");
    else if (format == "zephyr")
      sources = sources_named_in(dir.path(), "zephyr/CMakeLists.txt");
    else
      sources = sources_under(dir.path(), "src");
    ASSERT_FALSE(sources.empty());
    sources.push_back("example/main.cc");
    std::vector<std::vector<std::string>> cmds;
    for (size_t i = 0; i < sources.size(); ++i) {
      std::vector<std::string> cmd = {"arm-none-eabi-g++"};
      cmd.insert(cmd.end(), m4.cpu_flags.begin(), m4.cpu_flags.end());
      cmd.insert(cmd.end(),
                 {"-std=c++17", "-Os", "-fno-exceptions", "-fno-rtti", "-fno-threadsafe-statics",
                  "-Wall", "-Wextra", "-Werror", "-I", (dir.path() / "src").string(), "-x", "c++",
                  "-c", (dir.path() / sources[i]).string(), "-o",
                  (dir.path() / (std::to_string(i) + ".o")).string()});
      cmds.push_back(cmd);
    }
    const std::vector<ProcessResult> results = run_processes(cmds, 2);
    for (size_t i = 0; i < results.size(); ++i)
      EXPECT_EQ(results[i].exit_code, 0) << sources[i] << ":\n" << results[i].output;
  }
}

}  // namespace
}  // namespace tinyforge::emit
