#include "emit/package.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "emit/aot_cpp.h"
#include "emit/cortex_m_targets.h"
#include "emit/model_ops.h"
#include "emit/validated_plan.h"
#include "ir/error.h"
#include "tinyforge/ota/sha256.h"
#include "tinyforge/plan_format.h"
#include "tinyforge/plan_reader.h"

namespace tinyforge::emit {
namespace {

namespace fs = std::filesystem;

struct FormatName {
  PackageFormat format;
  const char* name;
};
constexpr FormatName kFormats[] = {{PackageFormat::cmake, "cmake"},
                                   {PackageFormat::zephyr, "zephyr"},
                                   {PackageFormat::platformio, "platformio"},
                                   {PackageFormat::arduino, "arduino"},
                                   {PackageFormat::esp_idf, "esp-idf"}};

// C17 and C++17 keywords (plus the alternative operator spellings): not usable as names.
const std::set<std::string>& keywords() {
  static const std::set<std::string> k = {
      "alignas",      "alignof",  "and",           "and_eq",
      "asm",          "auto",     "bitand",        "bitor",
      "bool",         "break",    "case",          "catch",
      "char",         "char16_t", "char32_t",      "class",
      "compl",        "const",    "constexpr",     "const_cast",
      "continue",     "decltype", "default",       "delete",
      "do",           "double",   "dynamic_cast",  "else",
      "enum",         "explicit", "export",        "extern",
      "false",        "float",    "for",           "friend",
      "goto",         "if",       "inline",        "int",
      "long",         "mutable",  "namespace",     "new",
      "noexcept",     "not",      "not_eq",        "nullptr",
      "operator",     "or",       "or_eq",         "private",
      "protected",    "public",   "register",      "reinterpret_cast",
      "restrict",     "return",   "short",         "signed",
      "sizeof",       "static",   "static_assert", "static_cast",
      "struct",       "switch",   "template",      "this",
      "thread_local", "throw",    "true",          "try",
      "typedef",      "typeid",   "typename",      "union",
      "unsigned",     "using",    "virtual",       "void",
      "volatile",     "wchar_t",  "while",         "xor",
      "xor_eq"};
  return k;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw tinyforge::Error(path.string() + ": cannot open");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// An exact C99/C++17 literal (hexadecimal float) for a finite scale.
std::string float_literal(float f) { return fmt::format("{:a}f", f); }

const char* c_type(DType t) {
  switch (t) {
    case DType::f32:
      return "float";
    case DType::i8:
      return "int8_t";
    case DType::i32:
      return "int32_t";
    case DType::u8:
      return "uint8_t";
    case DType::i16:
      return "int16_t";
    case DType::u32:
      return "uint32_t";
    case DType::u64:
      return "uint64_t";
  }
  return "uint8_t";
}

// The dtype's name in tinyforge/c_api.h: TINYFORGE_<name>.
const char* c_api_dtype(DType t) {
  switch (t) {
    case DType::f32:
      return "F32";
    case DType::i8:
      return "I8";
    case DType::i32:
      return "I32";
    case DType::u8:
      return "U8";
    case DType::i16:
      return "I16";
    case DType::u32:
      return "U32";
    case DType::u64:
      return "U64";
  }
  return "?";
}

// The runtime's files a package needs, from their folder under runtime/ to the package's
// src/ (runtime/include/tinyforge/x.h -> src/tinyforge/x.h, runtime/src/x.cc -> src/src/x.cc).
class RuntimeFiles {
 public:
  explicit RuntimeFiles(fs::path runtime) : runtime_(std::move(runtime)) {}

  // Adds `file` and, transitively, every runtime header it includes by a quoted name.
  void add(const fs::path& file) {
    if (!files_.insert(file).second) return;
    static const std::regex include(R"re(^\s*#\s*include\s+"([^"]+)")re");
    std::istringstream lines(read_text(file));
    for (std::string line; std::getline(lines, line);) {
      std::smatch m;
      if (!std::regex_search(line, m, include)) continue;
      for (const fs::path& dir : {file.parent_path(), runtime_ / "include", runtime_}) {
        const fs::path candidate = dir / m[1].str();
        if (fs::is_regular_file(candidate)) {
          add(fs::weakly_canonical(candidate));
          break;
        }
      }  // not found: the package's generated tinyforge_model_ops.h
    }
  }

  const std::set<fs::path>& files() const { return files_; }

  fs::path package_path(const fs::path& file, bool cpp_extension) const {
    std::string rel = fs::relative(file, runtime_).generic_string();
    if (rel.rfind("include/", 0) == 0) rel = rel.substr(8);
    fs::path out = fs::path("src") / rel;
    if (cpp_extension && out.extension() == ".cc") out.replace_extension(".cpp");
    return out;
  }

 private:
  fs::path runtime_;
  std::set<fs::path> files_;
};

// The kernel sources defining `check_<Op>` for the ops of `ops`, found by reading the
// kernel folders (one file may hold several ops: pool2d.cc, reduce.cc, ...).
std::vector<fs::path> kernel_sources(const fs::path& runtime, const std::set<OpCode>& ops) {
  std::set<std::string> names;
  for (OpCode op : ops) names.insert(op_info(op).name);
  static const std::regex check_def(R"(^Status check_([A-Za-z0-9]+)\()");
  std::vector<fs::path> out;
  std::set<std::string> found;
  for (const auto& dir : fs::directory_iterator(runtime / "kernels")) {
    if (!dir.is_directory()) continue;
    for (const auto& e : fs::directory_iterator(dir.path())) {
      const std::string file = e.path().filename().string();
      if (e.path().extension() != ".cc" || file.find("_test.cc") != std::string::npos) continue;
      std::istringstream lines(read_text(e.path()));
      bool needed = false;
      for (std::string line; std::getline(lines, line);) {
        std::smatch m;
        if (std::regex_search(line, m, check_def) && names.count(m[1].str())) {
          needed = true;
          found.insert(m[1].str());
        }
      }
      if (needed) out.push_back(fs::weakly_canonical(e.path()));
    }
  }
  for (const std::string& name : names)
    if (!found.count(name))
      throw tinyforge::Error("runtime/kernels: no source defines check_" + name);
  std::sort(out.begin(), out.end());
  return out;
}

struct IoInfo {
  TensorRecord record;
  DType type() const { return static_cast<DType>(record.dtype); }
  uint32_t elements() const {
    uint32_t n = 1;
    for (uint8_t d = 0; d < record.rank; ++d) n *= static_cast<uint32_t>(record.dims[d]);
    return n;
  }
};

struct Version {
  unsigned long major = 0, minor = 0, patch = 0;
};

Version parse_version(const std::string& text) {
  static const std::regex semver(R"(^(\d{1,9})\.(\d{1,9})\.(\d{1,9})$)");
  std::smatch m;
  if (!std::regex_match(text, m, semver))
    throw tinyforge::Error("model version '" + text + "' is not MAJOR.MINOR.PATCH");
  return {std::stoul(m[1]), std::stoul(m[2]), std::stoul(m[3])};
}

std::string hex(const uint8_t* bytes, size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s += fmt::format("{:02x}", bytes[i]);
  return s;
}

struct ModelFacts {
  std::string name, upper_name, version, target, sha256;
  Version v;
  uint32_t plan_bytes = 0, arena_bytes = 0, crc32 = 0;
  bool dsp = false, aot = false;
  std::vector<IoInfo> inputs, outputs;
};

void io_macros(std::string& s, const std::string& prefix, const IoInfo& io) {
  const TensorRecord& r = io.record;
  std::string shape;
  for (uint8_t d = 0; d < r.rank; ++d) shape += (d ? ", " : "") + std::to_string(r.dims[d]);
  s += fmt::format("#define {}_RANK {}\n", prefix, r.rank);
  s += fmt::format("#define {}_SHAPE {{{}}}\n", prefix, r.rank ? shape : "1");
  s += fmt::format("#define {}_ELEMENTS {}u\n", prefix, io.elements());
  s += fmt::format("#define {}_BYTES {}u\n", prefix, r.size_bytes);
  s += fmt::format("#define {}_DTYPE {} /* TINYFORGE_{} of tinyforge/c_api.h */\n", prefix, r.dtype,
                   c_api_dtype(io.type()));
  s += fmt::format("#define {}_TYPE {}\n", prefix, c_type(io.type()));
  s += fmt::format("#define {}_SCALE {}\n", prefix, float_literal(r.scale));
  s += fmt::format("#define {}_ZERO_POINT ({})\n", prefix, r.zero_point);
}

// The same facts as constexpr values for C++: loops over the inputs and outputs.
std::string cpp_constants(const ModelFacts& m) {
  const std::string& P = m.upper_name;
  std::string s = fmt::format(
      "\n#ifdef __cplusplus\nnamespace {}_model {{\n\n"
      "struct Tensor {{\n  uint32_t rank;\n  int32_t shape[4];  // shape[rank..] are 1\n"
      "  uint32_t elements, bytes;\n  int32_t dtype;  // TINYFORGE_F32, ... of "
      "tinyforge/c_api.h\n  float scale;\n  int32_t zero_point;\n}};\n\n"
      "constexpr uint32_t kArenaBytes = {}_ARENA_BYTES;\n"
      "constexpr uint32_t kArenaAlignment = {}_ARENA_ALIGNMENT;\n",
      m.name, P, P);
  auto table = [&](const char* array, const char* macro, const std::vector<IoInfo>& io) {
    s += fmt::format("constexpr Tensor {}[] = {{\n", array);
    for (size_t i = 0; i < io.size(); ++i) {
      const TensorRecord& r = io[i].record;
      s += fmt::format(
          "    {{{p}_{m}{i}_RANK, {{{d0}, {d1}, {d2}, {d3}}},\n"
          "     {p}_{m}{i}_ELEMENTS, {p}_{m}{i}_BYTES, {p}_{m}{i}_DTYPE,\n"
          "     {p}_{m}{i}_SCALE, {p}_{m}{i}_ZERO_POINT}},\n",
          fmt::arg("p", P), fmt::arg("m", macro), fmt::arg("i", i), fmt::arg("d0", r.dims[0]),
          fmt::arg("d1", r.dims[1]), fmt::arg("d2", r.dims[2]), fmt::arg("d3", r.dims[3]));
    }
    s += "};\n";
  };
  table("kInputs", "INPUT", m.inputs);
  table("kOutputs", "OUTPUT", m.outputs);
  s += fmt::format("\n}}  // namespace {}_model\n#endif\n", m.name);
  return s;
}

std::string model_header(const ModelFacts& m) {
  const std::string& P = m.upper_name;
  std::string s = fmt::format(
      "/* Generated by `tinyforge export`: what the firmware needs to know about the model\n"
      " * \"{}\" (version {}), as macros for C and C++. Do not edit; export again instead.\n"
      " * Quantized values: real = SCALE * (q - ZERO_POINT); SCALE is 0 for float tensors. */\n"
      "#ifndef {}_MODEL_H_\n#define {}_MODEL_H_\n\n#include <stdint.h>\n\n",
      m.name, m.version, P, P);
  s += fmt::format("#define {}_MODEL_VERSION \"{}\"\n", P, m.version);
  s += fmt::format("#define {}_MODEL_VERSION_MAJOR {}u\n", P, m.v.major);
  s += fmt::format("#define {}_MODEL_VERSION_MINOR {}u\n", P, m.v.minor);
  s += fmt::format("#define {}_MODEL_VERSION_PATCH {}u\n", P, m.v.patch);
  s += fmt::format("/* SHA-256 of the plan blob{} and the blob header's CRC-32. */\n",
                   m.aot ? " the AOT code was generated from" : "");
  s += fmt::format("#define {}_MODEL_SHA256 \"{}\"\n", P, m.sha256);
  s += fmt::format("#define {}_MODEL_CRC32 0x{:08x}u\n", P, m.crc32);
  s += fmt::format("#define {}_TARGET \"{}\"\n", P, m.target);
  s += fmt::format("#define {}_DSP_KERNELS {}\n", P, m.dsp ? 1 : 0);
  s += fmt::format("#define {}_AOT {}\n", P, m.aot ? 1 : 0);
  s += fmt::format("#define {}_PLAN_BYTES {}u\n", P, m.plan_bytes);
  s += fmt::format("/* The arena: every activation and scratch buffer of one inference. */\n");
  s += fmt::format("#define {}_ARENA_BYTES {}u\n", P, m.arena_bytes);
  s += fmt::format("#define {}_ARENA_ALIGNMENT 16u\n", P);
  s += fmt::format("#define {}_NUM_INPUTS {}u\n", P, m.inputs.size());
  s += fmt::format("#define {}_NUM_OUTPUTS {}u\n\n", P, m.outputs.size());
  for (size_t i = 0; i < m.inputs.size(); ++i)
    io_macros(s, fmt::format("{}_INPUT{}", P, i), m.inputs[i]);
  for (size_t i = 0; i < m.outputs.size(); ++i)
    io_macros(s, fmt::format("{}_OUTPUT{}", P, i), m.outputs[i]);
  if (!m.aot)
    s += fmt::format(
        "\n#ifdef __cplusplus\nextern \"C\" {{\n#endif\n"
        "/* The plan blob, 16-byte aligned in flash: pass it to tinyforge::Runtime::init or\n"
        " * tinyforge_init (tinyforge/runtime.h, tinyforge/c_api.h). */\n"
        "extern const uint8_t {}_model_plan[];\nextern const uint32_t {}_model_plan_size;\n"
        "#ifdef __cplusplus\n}}\n#endif\n",
        m.name, m.name);
  else
    s += "\n/* The model's API is tinyforge/aot.h (namespace tinyforge_aot; C++ only). */\n";
  s += cpp_constants(m);
  s += fmt::format("\n#endif /* {}_MODEL_H_ */\n", P);
  return s;
}

std::string plan_source(const ModelFacts& m, const std::vector<uint8_t>& blob) {
  std::string s = fmt::format(
      "// Generated by `tinyforge export`: the plan blob of the model \"{}\". Do not edit.\n"
      "#include \"{}_model.h\"\n\nextern \"C\" {{\n"
      "alignas(16) const uint8_t {}_model_plan[{}] = {{",
      m.name, m.name, m.name, blob.size());
  for (size_t i = 0; i < blob.size(); ++i) {
    if (i % 24 == 0) s += "\n";
    s += fmt::format("0x{:02x},", blob[i]);
  }
  s += fmt::format("\n}};\nconst uint32_t {}_model_plan_size = {}u;\n}}\n", m.name, blob.size());
  return s;
}

std::string example_main(const ModelFacts& m) {
  const std::string& P = m.upper_name;
  if (m.aot)
    return fmt::format(
        "// One inference with the package \"{}\" (AOT): docs/device-api.md, section 4.\n"
        "#include <cstring>\n\n#include \"{}_model.h\"\n#include \"tinyforge/aot.h\"\n\n"
        "int main() {{\n"
        "  // Your sensor's data goes here ({}_INPUT0_BYTES bytes of {}_INPUT0_TYPE).\n"
        "  std::memset(tinyforge_aot::input(0), 0, {}_INPUT0_BYTES);\n"
        "  tinyforge_aot::invoke();\n"
        "  const uint8_t* result = tinyforge_aot::output(0);  // {}_OUTPUT0_BYTES bytes\n"
        "  return result != nullptr && tinyforge_aot::output_bytes(0) == {}_OUTPUT0_BYTES ? 0 "
        ": 1;\n}}\n",
        m.name, m.name, P, P, P, P, P);
  return fmt::format(
      "// One inference with the package \"{}\": docs/device-api.md, section 2.\n"
      "#include <cstring>\n\n#include \"{}_model.h\"\n#include \"tinyforge/runtime.h\"\n\n"
      "alignas({}_ARENA_ALIGNMENT) static uint8_t g_arena[{}_ARENA_BYTES];\n\n"
      "int main() {{\n"
      "  static tinyforge::Runtime runtime;\n"
      "  if (runtime.init({}_model_plan, {}_model_plan_size, g_arena, sizeof g_arena) !=\n"
      "      tinyforge::Status::ok)\n"
      "    return 1;\n"
      "  // Your sensor's data goes here ({}_INPUT0_BYTES bytes of {}_INPUT0_TYPE).\n"
      "  std::memset(runtime.input(0).data, 0, {}_INPUT0_BYTES);\n"
      "  if (runtime.invoke() != tinyforge::Status::ok) return 1;\n"
      "  return runtime.output(0).bytes == {}_OUTPUT0_BYTES ? 0 : 1;  // the scores\n}}\n",
      m.name, m.name, P, P, m.name, m.name, P, P, P, P);
}

std::string source_list(const std::vector<std::string>& sources, const std::string& prefix,
                        const std::string& indent) {
  std::string s;
  for (const std::string& f : sources) s += indent + prefix + f + "\n";
  return s;
}

// Flags the runtime needs besides C++17 (docs/device-api.md, section 5).
const char* const kRuntimeFlags = "-fno-exceptions -fno-rtti -fno-threadsafe-statics";

std::string cmake_lists(const ModelFacts& m, const std::vector<std::string>& sources) {
  const std::string& n = m.name;
  return fmt::format(
      "# Generated by `tinyforge export --as cmake`: the model \"{n}\" and the tinyforge\n"
      "# device runtime as the static library {n}::{n}. Use it either way:\n"
      "#   add_subdirectory(path/to/this/folder)  then target_link_libraries(app {n}::{n})\n"
      "#   cmake --install (this folder's build)   then find_package({n}) in the consumer\n"
      "cmake_minimum_required(VERSION 3.16)\n"
      "project({n} VERSION {ver} LANGUAGES CXX)\n\n"
      "include(GNUInstallDirs)\n"
      "include(CMakePackageConfigHelpers)\n\n"
      "add_library({n} STATIC\n{src})\n"
      "add_library({n}::{n} ALIAS {n})\n"
      "target_compile_features({n} PUBLIC cxx_std_17)\n"
      "target_link_libraries({n} PUBLIC m)  # the kernels call expf, tanhf, ...\n"
      "target_compile_options({n} PRIVATE\n"
      "  $<$<COMPILE_LANGUAGE:CXX>:{flags}>)\n"
      "target_include_directories({n} PUBLIC\n"
      "  $<BUILD_INTERFACE:${{CMAKE_CURRENT_SOURCE_DIR}}/src>\n"
      "  $<INSTALL_INTERFACE:${{CMAKE_INSTALL_INCLUDEDIR}}/{n}>)\n\n"
      "install(TARGETS {n} EXPORT {n}Targets ARCHIVE DESTINATION ${{CMAKE_INSTALL_LIBDIR}})\n"
      "install(FILES src/{n}_model.h DESTINATION ${{CMAKE_INSTALL_INCLUDEDIR}}/{n})\n"
      "install(DIRECTORY src/tinyforge DESTINATION ${{CMAKE_INSTALL_INCLUDEDIR}}/{n})\n"
      "install(EXPORT {n}Targets NAMESPACE {n}::\n"
      "        DESTINATION ${{CMAKE_INSTALL_LIBDIR}}/cmake/{n})\n"
      "file(WRITE ${{CMAKE_CURRENT_BINARY_DIR}}/{n}Config.cmake\n"
      "     \"include(\\\"\\${{CMAKE_CURRENT_LIST_DIR}}/{n}Targets.cmake\\\")\\n\")\n"
      "write_basic_package_version_file(${{CMAKE_CURRENT_BINARY_DIR}}/{n}ConfigVersion.cmake\n"
      "                                 COMPATIBILITY SameMajorVersion)\n"
      "install(FILES ${{CMAKE_CURRENT_BINARY_DIR}}/{n}Config.cmake\n"
      "              ${{CMAKE_CURRENT_BINARY_DIR}}/{n}ConfigVersion.cmake\n"
      "        DESTINATION ${{CMAKE_INSTALL_LIBDIR}}/cmake/{n})\n",
      fmt::arg("n", n), fmt::arg("ver", m.version), fmt::arg("flags", kRuntimeFlags),
      fmt::arg("src", source_list(sources, "", "  ")));
}

// Zephyr modules: zephyr/module.yml names the module's CMake folder and Kconfig file
// (docs.zephyrproject.org, "Modules (External projects)", module.yml build: cmake/kconfig).
std::string zephyr_module_yml(const ModelFacts& m) {
  return fmt::format(
      "# Generated by `tinyforge export --as zephyr`. Add this folder to ZEPHYR_EXTRA_MODULES\n"
      "# (or to your west manifest) and set CONFIG_{}=y.\n"
      "name: {}\nbuild:\n  cmake: zephyr\n  kconfig: zephyr/Kconfig\n",
      m.upper_name, m.name);
}

std::string zephyr_cmake(const ModelFacts& m, const std::vector<std::string>& sources) {
  return fmt::format(
      "# Generated by `tinyforge export --as zephyr`: the model \"{n}\" and the tinyforge\n"
      "# device runtime as a Zephyr library (needs CONFIG_CPP=y and CONFIG_STD_CPP17=y).\n"
      "if(CONFIG_{N})\n"
      "  zephyr_library_named({n})\n"
      "  zephyr_library_sources(\n{src}  )\n"
      "  zephyr_include_directories(${{CMAKE_CURRENT_LIST_DIR}}/../src)\n"
      "  zephyr_library_compile_options({flags})\n"
      "endif()\n",
      fmt::arg("n", m.name), fmt::arg("N", m.upper_name), fmt::arg("flags", kRuntimeFlags),
      fmt::arg("src", source_list(sources, "${CMAKE_CURRENT_LIST_DIR}/../", "    ")));
}

std::string zephyr_kconfig(const ModelFacts& m) {
  return fmt::format(
      "# Generated by `tinyforge export --as zephyr`.\n"
      "config {N}\n"
      "\tbool \"{n}: the tinyforge model {n} and its device runtime\"\n"
      "\tdepends on CPP\n"
      "\thelp\n"
      "\t  The model \"{n}\" (version {v}, target {t}) compiled by tinyforge, with the\n"
      "\t  freestanding tinyforge runtime. Include {n}_model.h.\n",
      fmt::arg("N", m.upper_name), fmt::arg("n", m.name), fmt::arg("v", m.version),
      fmt::arg("t", m.target));
}

// PlatformIO library manifest (docs.platformio.org, library.json: name and version are
// required; build.srcDir/includeDir/flags).
std::string platformio_json(const ModelFacts& m) {
  return fmt::format(
      "{{\n"
      "  \"name\": \"{n}\",\n"
      "  \"version\": \"{v}\",\n"
      "  \"description\": \"The model {n} compiled by tinyforge for {t}, with the tinyforge "
      "device runtime\",\n"
      "  \"keywords\": [\"tinyml\", \"tinyforge\", \"neural network\"],\n"
      "  \"frameworks\": \"*\",\n"
      "  \"platforms\": \"*\",\n"
      "  \"build\": {{\n"
      "    \"srcDir\": \"src\",\n"
      "    \"includeDir\": \"src\",\n"
      "    \"flags\": [\"-std=gnu++17\", \"-fno-exceptions\", \"-fno-rtti\", "
      "\"-fno-threadsafe-statics\"]\n"
      "  }}\n"
      "}}\n",
      fmt::arg("n", m.name), fmt::arg("v", m.version), fmt::arg("t", m.target));
}

// Arduino library specification 1.5: library.properties with name, version, author,
// maintainer, sentence, paragraph, category, url, architectures; sources under src/.
std::string arduino_properties(const ModelFacts& m) {
  return fmt::format(
      "name={n}\n"
      "version={v}\n"
      "author=tinyforge export\n"
      "maintainer=tinyforge export\n"
      "sentence=The model {n} compiled by tinyforge, with its device runtime.\n"
      "paragraph=Target {t}; needs a core whose compiler builds C++17. Include {n}_model.h.\n"
      "category=Data Processing\n"
      "url=https://github.com/tinyforge\n"
      "architectures=*\n"
      "includes={n}_model.h\n",
      fmt::arg("n", m.name), fmt::arg("v", m.version), fmt::arg("t", m.target));
}

// ESP-IDF component: idf_component.yml (component manager manifest) and a CMakeLists.txt
// calling idf_component_register(SRCS ... INCLUDE_DIRS ...).
std::string idf_component_yml(const ModelFacts& m) {
  return fmt::format(
      "# Generated by `tinyforge export --as esp-idf`.\n"
      "version: \"{v}\"\n"
      "description: \"The model {n} compiled by tinyforge, with the tinyforge device "
      "runtime\"\n"
      "dependencies:\n  idf: \">=4.4\"\n",
      fmt::arg("n", m.name), fmt::arg("v", m.version));
}

std::string idf_cmake(const ModelFacts& m, const std::vector<std::string>& sources) {
  return fmt::format(
      "# Generated by `tinyforge export --as esp-idf`: the model \"{n}\" and the tinyforge\n"
      "# device runtime as an ESP-IDF component (put this folder under components/).\n"
      "idf_component_register(\n  SRCS\n{src}  INCLUDE_DIRS \"src\")\n"
      "target_compile_options(${{COMPONENT_LIB}} PRIVATE -std=gnu++17 {flags})\n",
      fmt::arg("n", m.name), fmt::arg("flags", kRuntimeFlags),
      fmt::arg("src", source_list(sources, "", "    ")));
}

void write_text(const fs::path& dir, const std::string& rel, const std::string& text,
                std::vector<std::string>& written) {
  const fs::path path = dir / rel;
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec) throw tinyforge::Error(path.parent_path().string() + ": cannot create: " + ec.message());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) throw tinyforge::Error(path.string() + ": cannot write");
  written.push_back(rel);
}

}  // namespace

const char* package_format_name(PackageFormat format) {
  for (const FormatName& f : kFormats)
    if (f.format == format) return f.name;
  return "?";
}

std::optional<PackageFormat> package_format_from_name(const std::string& name) {
  for (const FormatName& f : kFormats)
    if (name == f.name) return f.format;
  return std::nullopt;
}

std::vector<std::string> package_format_names() {
  std::vector<std::string> names;
  for (const FormatName& f : kFormats) names.push_back(f.name);
  return names;
}

std::string package_name_problem(const std::string& name) {
  if (name.empty()) return "is empty";
  if (name.size() > 63) return "is longer than 63 characters";
  if (!std::isalpha(static_cast<unsigned char>(name[0])))
    return "must start with a letter (it names C symbols, macros and the library)";
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_')
      return "may only hold letters, digits and '_' (a C identifier)";
  if (keywords().count(name)) return "is a C or C++ keyword";
  return "";
}

PackageContents write_package(const std::vector<uint8_t>& blob, const PackageOptions& options,
                              const std::string& out_dir) {
  if (const std::string problem = package_name_problem(options.name); !problem.empty())
    throw tinyforge::Error("package name '" + options.name + "' " + problem);
  const ValidatedPlan plan(blob, "plan blob");
  const PlanReader& reader = plan.reader();
  ModelFacts m;
  m.name = options.name;
  m.upper_name = upper(options.name);
  m.version = options.model_version;
  m.v = parse_version(options.model_version);
  m.aot = options.aot;
  m.plan_bytes = plan.size();
  m.arena_bytes = plan.header().arena_size;
  m.crc32 = plan.header().checksum;
  m.target = "host";
  if (plan.header().header_size >= sizeof(PlanHeader) + sizeof(PlanTarget)) {
    PlanTarget t;
    std::memcpy(&t, plan.data() + sizeof(PlanHeader), sizeof t);
    m.target = std::string(t.target, strnlen(t.target, sizeof t.target));
  }
  uint8_t digest[ota::kSha256Bytes];
  ota::sha256(blob.data(), blob.size(), digest);
  m.sha256 = hex(digest, sizeof digest);
  for (uint32_t i = 0; i < plan.header().num_inputs; ++i)
    m.inputs.push_back({reader.tensor(reader.model_input(i))});
  for (uint32_t i = 0; i < plan.header().num_outputs; ++i)
    m.outputs.push_back({reader.tensor(reader.model_output(i))});

  // The runtime's sources: the executor and, when the blob carries one, the audio front-end
  // (blob only), and the kernels of the plan's ops.
  const fs::path runtime = fs::weakly_canonical(fs::path(tinyforge_home()) / "runtime");
  RuntimeFiles files(runtime);
  std::vector<std::string> folders;
  if (!options.aot) folders.push_back("src");
  if (!options.aot && read_frontend(plan.data(), plan.header()).size > 0)
    folders.push_back("audio");
  for (const std::string& folder : folders)
    for (const auto& e : fs::directory_iterator(runtime / folder))
      if (e.path().extension() == ".cc" &&
          e.path().filename().string().find("_test.cc") == std::string::npos)
        files.add(fs::weakly_canonical(e.path()));
  const std::set<OpCode> ops = ops_in_blob(blob);
  for (const fs::path& f : kernel_sources(runtime, ops)) {
    files.add(f);
    if (f.parent_path().filename() == "armv7em") m.dsp = true;
  }
  files.add(runtime / "include" / "tinyforge" / (options.aot ? "aot.h" : "runtime.h"));
  if (!options.aot) files.add(runtime / "include" / "tinyforge" / "c_api.h");

  const bool arduino = options.format == PackageFormat::arduino;
  const std::string cc = arduino ? ".cpp" : ".cc";
  PackageContents contents;
  contents.arena_bytes = m.arena_bytes;
  contents.dsp_kernels = m.dsp;
  const fs::path dir = out_dir;
  for (const fs::path& f : files.files()) {
    const fs::path rel = files.package_path(f, arduino);
    write_text(dir, rel.generic_string(), read_text(f), contents.files);
    if (rel.extension() == cc) contents.sources.push_back(rel.generic_string());
  }
  if (!options.aot)  // the dispatch switch: only the plan's kernels, regions and kernel paths
    write_text(dir, "src/tinyforge_model_ops.h",
               model_ops_header(ops, has_regions(plan.header()), kernel_paths(blob)),
               contents.files);
  write_text(dir, "src/" + m.name + "_model.h", model_header(m), contents.files);
  if (options.aot) {
    AotOptions aot;
    aot.model_section = false;  // the consumer's linker script need not know our section
    write_text(dir, "src/" + m.name + "_model_aot" + cc, emit_aot_cpp(blob, aot), contents.files);
    contents.sources.push_back("src/" + m.name + "_model_aot" + cc);
  } else {
    write_text(dir, "src/" + m.name + "_model" + cc, plan_source(m, blob), contents.files);
    contents.sources.push_back("src/" + m.name + "_model" + cc);
  }
  std::sort(contents.sources.begin(), contents.sources.end());
  write_text(dir, "example/main.cc", example_main(m), contents.files);

  switch (options.format) {
    case PackageFormat::cmake:
      write_text(dir, "CMakeLists.txt", cmake_lists(m, contents.sources), contents.files);
      break;
    case PackageFormat::zephyr:
      write_text(dir, "zephyr/module.yml", zephyr_module_yml(m), contents.files);
      write_text(dir, "zephyr/CMakeLists.txt", zephyr_cmake(m, contents.sources), contents.files);
      write_text(dir, "zephyr/Kconfig", zephyr_kconfig(m), contents.files);
      break;
    case PackageFormat::platformio:
      write_text(dir, "library.json", platformio_json(m), contents.files);
      break;
    case PackageFormat::arduino:
      write_text(dir, "library.properties", arduino_properties(m), contents.files);
      break;
    case PackageFormat::esp_idf:
      write_text(dir, "idf_component.yml", idf_component_yml(m), contents.files);
      write_text(dir, "CMakeLists.txt", idf_cmake(m, contents.sources), contents.files);
      break;
  }
  std::sort(contents.files.begin(), contents.files.end());
  return contents;
}

}  // namespace tinyforge::emit
