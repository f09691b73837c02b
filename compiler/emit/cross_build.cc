#include "emit/cross_build.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "emit/subprocess.h"
#include "ir/graph.h"

namespace tinyforge::emit {
namespace {

namespace fs = std::filesystem;

const char* const kCxx = "arm-none-eabi-g++";
const char* const kCc = "arm-none-eabi-gcc";
const char* const kAr = "arm-none-eabi-ar";
const char* const kLtoAr = "arm-none-eabi-gcc-ar";  // indexes the LTO objects' symbols
constexpr unsigned kJobs = 2;                       // the machine's cores are shared: never more

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw tinyforge::Error(path + ": cannot open");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) throw tinyforge::Error(path + ": cannot write");
}

// FNV-1a, 64 bit: a cache key, not a security hash.
struct Fnv {
  uint64_t h = 1469598103934665603ull;
  void add(const std::string& s) {
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
    h = (h ^ 0xFF) * 1099511628211ull;  // separator
  }
};

std::string hex(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::vector<std::string> sources_in(const fs::path& dir) {
  std::vector<std::string> out;
  if (!fs::is_directory(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (e.is_regular_file() && e.path().extension() == ".cc" && name.size() > 3 &&
        name.find("_test.cc") == std::string::npos)
      out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> common_flags(const CortexMTarget& target) {
  std::vector<std::string> f = target.cpu_flags;
  for (const char* x :
       {"-std=c++17", "-ffunction-sections", "-fdata-sections", "-fno-exceptions", "-fno-rtti",
        "-fno-threadsafe-statics", "-fno-use-cxa-atexit", "-DNDEBUG", "-Wall", "-Wextra"})
    f.push_back(x);
  return f;
}

// The line of a tool's output that says what went wrong, without the tool's path prefix:
// the linker's own message (a region overflow, the linker script's ASSERT) before gcc's
// "error:" lines, and collect2's "ld returned 1" only when nothing better is there.
std::string first_problem(const std::string& output) {
  std::string linker, error, any;
  std::istringstream lines(output);
  for (std::string line; std::getline(lines, line);) {
    const size_t ld = line.find("ld: ");
    if (linker.empty() && ld != std::string::npos && line.find("ld returned") == std::string::npos)
      linker = line.substr(ld + 4);
    const size_t err = line.find("error: ");
    if (error.empty() && err != std::string::npos && line.find("collect2") == std::string::npos)
      error = line.substr(err);
    if (any.empty() && !line.empty()) any = line;
  }
  return !linker.empty() ? linker : !error.empty() ? error : any;
}

// A failed tool: its command lines and output go to `log_path`; the error names the log and
// quotes the one line that says what went wrong, never the whole output.
void check_results(const std::vector<ProcessResult>& results,
                   const std::vector<std::vector<std::string>>& cmds, const std::string& what,
                   const std::string& log_path) {
  std::string log, first;
  for (size_t i = 0; i < results.size(); ++i) {
    if (results[i].exit_code == 0) continue;
    std::string cmd;
    for (const std::string& a : cmds[i]) cmd += (cmd.empty() ? "" : " ") + a;
    log += "$ " + cmd + "\n" + results[i].output + "\n";
    if (first.empty()) first = first_problem(results[i].output);
    if (first.empty()) first = "exit code " + std::to_string(results[i].exit_code);
  }
  if (log.empty()) return;
  std::ofstream(log_path, std::ios::binary | std::ios::trunc) << log;
  throw tinyforge::Error(what + " failed: " + first + " (full log: " + log_path + ")");
}

std::vector<std::string> object_commands(const std::vector<std::string>& sources,
                                         const std::vector<std::string>& flags,
                                         const std::string& out_dir,
                                         std::vector<std::vector<std::string>>& cmds) {
  std::vector<std::string> objects;
  for (size_t i = 0; i < sources.size(); ++i) {
    const std::string obj =
        out_dir + "/" + std::to_string(i) + "_" + fs::path(sources[i]).stem().string() + ".o";
    std::vector<std::string> cmd = {kCxx};
    cmd.insert(cmd.end(), flags.begin(), flags.end());
    cmd.insert(cmd.end(), {"-c", sources[i], "-o", obj});
    cmds.push_back(std::move(cmd));
    objects.push_back(obj);
  }
  return objects;
}

// "runtime-cortex-m4-" or, the LTO form, "runtime-lto-cortex-m4-"; a form built with image
// switches off names them before the target ("runtime-no_int16-cortex-m4-" for
// TINYFORGE_IMAGE_INT16=0): none prefixes another.
std::string library_prefix(const std::string& target, bool lto,
                           const std::vector<std::string>& defines) {
  std::string prefix = lto ? "runtime-lto-" : "runtime-";
  for (std::string d : defines) {
    const std::string head = "TINYFORGE_IMAGE_";
    if (d.rfind(head, 0) == 0) d = d.substr(head.size());
    const bool off = d.size() > 2 && d.compare(d.size() - 2, 2, "=0") == 0;
    if (off) d = "no_" + d.substr(0, d.size() - 2);
    for (char& c : d) c = std::isalnum(static_cast<unsigned char>(c)) ? std::tolower(c) : '_';
    prefix += d + "-";
  }
  return prefix + target + "-";
}

// Keeps the newest few runtimes of a target (each form): each edit of runtime/ makes a new one.
void prune_old_runtimes(const fs::path& dir, const std::string& prefix) {
  constexpr size_t kKeep = 3;
  std::vector<std::pair<fs::file_time_type, fs::path>> libs;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(prefix, 0) == 0 && e.path().extension() == ".a")
      libs.emplace_back(e.last_write_time(ec), e.path());
  }
  if (libs.size() <= kKeep) return;
  std::sort(libs.begin(), libs.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });
  for (size_t i = kKeep; i < libs.size(); ++i) fs::remove(libs[i].second, ec);
}

}  // namespace

bool cross_toolchain_available() { return program_available(kCxx) && program_available(kCc); }

std::string cache_dir() {
  if (const char* d = std::getenv("TINYFORGE_CACHE_DIR"); d && *d) return d;
  if (const char* d = std::getenv("XDG_CACHE_HOME"); d && *d) return std::string(d) + "/tinyforge";
  if (const char* d = std::getenv("HOME"); d && *d) return std::string(d) + "/.cache/tinyforge";
  return (fs::temp_directory_path() / "tinyforge-cache").string();
}

std::string runtime_library(const CortexMTarget& target, const Logger& log, bool lto,
                            const std::vector<std::string>& defines) {
  const fs::path runtime = fs::path(tinyforge_home()) / "runtime";
  if (!fs::is_directory(runtime / "include"))
    throw tinyforge::Error(runtime.string() + ": no runtime sources (set TINYFORGE_HOME)");
  // The executor and every kernel folder: the dispatch table names every op of ops.def,
  // and optimized kernels carry portable fallbacks, so all of them build for every core.
  std::vector<std::string> sources = sources_in(runtime / "src");
  const std::vector<std::string> audio = sources_in(runtime / "audio");  // the front-end
  sources.insert(sources.end(), audio.begin(), audio.end());
  std::vector<fs::path> kernel_dirs;
  std::error_code list_ec;
  for (const auto& e : fs::directory_iterator(runtime / "kernels", list_ec))
    if (e.is_directory()) kernel_dirs.push_back(e.path());
  std::sort(kernel_dirs.begin(), kernel_dirs.end());
  for (const fs::path& dir : kernel_dirs) {
    const auto more = sources_in(dir);
    sources.insert(sources.end(), more.begin(), more.end());
  }
  std::vector<std::string> flags = common_flags(target);
  flags.insert(flags.end(),
               {"-O2", "-I" + (runtime / "include").string(), "-I" + runtime.string()});
  if (lto) flags.push_back("-flto");
  for (const std::string& d : defines) flags.push_back("-D" + d);

  // Key: compiler version, flags, and every file of the runtime tree (tests excluded).
  Fnv key;
  key.add(run_process({kCxx, "--version"}).output);
  for (const std::string& f : flags) key.add(f);
  std::vector<std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(runtime))
    if (e.is_regular_file() && e.path().string().find("_test.cc") == std::string::npos)
      files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  for (const std::string& f : files) {
    key.add(fs::relative(f, runtime).string());
    key.add(read_text(f));
  }
  for (const std::string& s : sources) key.add("source:" + fs::relative(s, runtime).string());

  const fs::path dir = cache_dir();
  const std::string prefix = library_prefix(target.name, lto, defines);
  const fs::path lib = dir / (prefix + hex(key.h) + ".a");
  if (fs::exists(lib)) return lib.string();

  std::string form;
  for (const std::string& d : defines) form += " " + d;
  log("building the " + target.name + (lto ? " LTO" : "") + " runtime" +
      (form.empty() ? "" : " with" + form) + " (" + std::to_string(sources.size()) +
      " files, cached in " + dir.string() + ")");
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    throw tinyforge::Error(dir.string() + ": cannot create the cache folder: " + ec.message());
  char tmpl[4096];
  std::snprintf(tmpl, sizeof tmpl, "%s/build-XXXXXX", dir.string().c_str());
  if (!mkdtemp(tmpl)) throw tinyforge::Error(dir.string() + ": cannot create a build folder");
  const std::string work = tmpl;
  std::vector<std::vector<std::string>> cmds;
  const std::vector<std::string> objects = object_commands(sources, flags, work, cmds);
  const std::string log_path = (dir / ("runtime-" + target.name + "-build.log")).string();
  check_results(run_processes(cmds, kJobs), cmds, "the " + target.name + " runtime: compiling",
                log_path);
  const std::string tmp_lib = work + "/runtime.a";
  std::vector<std::string> ar = {lto ? kLtoAr : kAr, "rcs", tmp_lib};
  ar.insert(ar.end(), objects.begin(), objects.end());
  check_results({run_process(ar)}, {ar}, "the " + target.name + " runtime: archiving", log_path);
  fs::rename(tmp_lib, lib, ec);  // atomic: a concurrent build of the same key is harmless
  if (ec) throw tinyforge::Error(lib.string() + ": cannot store the runtime: " + ec.message());
  fs::remove_all(work, ec);
  prune_old_runtimes(dir, prefix);
  return lib.string();
}

std::string linker_script(const MemoryRegion& flash, const MemoryRegion& ram, uint32_t min_stack,
                          const std::vector<LinkRegion>& regions) {
  std::string text = read_text(tinyforge_home() + "/targets/link/cortex_m.ld.in");
  auto hex32 = [](uint32_t v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%08X", v);
    return std::string(buf);
  };
  std::string region_memory, region_sections;
  for (const LinkRegion& r : regions) {
    region_memory += "  REGION_" + r.name + " (rw) : ORIGIN = " + hex32(r.memory.origin) +
                     ", LENGTH = " + hex32(r.memory.bytes) + "\n";
    region_sections += "  .tinyforge.region." + r.name + " (NOLOAD) : ALIGN(16)\n  {\n    KEEP(*(" +
                       ".tinyforge.region." + r.name + "))\n  } > REGION_" + r.name + "\n\n";
  }
  const std::pair<const char*, std::string> fields[] = {
      {"@FLASH_ORIGIN@", hex32(flash.origin)}, {"@FLASH_LENGTH@", hex32(flash.bytes)},
      {"@RAM_ORIGIN@", hex32(ram.origin)},     {"@RAM_LENGTH@", hex32(ram.bytes)},
      {"@MIN_STACK@", hex32(min_stack)},       {"@REGION_MEMORY@", region_memory},
      {"@REGION_SECTIONS@", region_sections}};
  for (const auto& [field, value] : fields) {
    size_t at;
    bool found = false;
    while ((at = text.find(field)) != std::string::npos) {
      text.replace(at, std::string(field).size(), value);
      found = true;
    }
    if (!found)
      throw tinyforge::Error("targets/link/cortex_m.ld.in: field " + std::string(field) +
                             " missing");
  }
  return text;
}

void build_image(const ImageSpec& spec, const std::string& work_dir, const std::string& elf_path,
                 const Logger& log) {
  if (!cross_toolchain_available())
    throw tinyforge::Error(
        std::string(kCxx) +
        " not found: install Debian's gcc-arm-none-eabi and libnewlib-arm-none-eabi "
        "(scripts/bootstrap)");
  const fs::path home = tinyforge_home();
  std::error_code ec;
  fs::create_directories(work_dir, ec);
  if (ec) throw tinyforge::Error(work_dir + ": cannot create: " + ec.message());
  const std::string ld = work_dir + "/link.ld";
  write_text(ld, linker_script(spec.flash, spec.ram, spec.min_stack, spec.regions));

  const std::string library =
      spec.link_runtime ? runtime_library(spec.target, log, spec.lto, spec.runtime_defines) : "";
  std::vector<std::string> flags = common_flags(spec.target);
  flags.insert(flags.end(), {"-Os", "-I" + (home / "runtime" / "include").string(),
                             "-I" + (home / "targets" / "firmware").string()});
  if (spec.lto) flags.push_back("-flto");
  for (const std::string& d : spec.include_dirs) flags.push_back("-I" + d);
  for (const std::string& d : spec.defines) flags.push_back("-D" + d);
  std::vector<std::string> sources = spec.sources;
  sources.push_back((home / "targets" / "startup" / "startup.cc").string());
  std::vector<std::vector<std::string>> cmds;
  const std::vector<std::string> objects = object_commands(sources, flags, work_dir, cmds);
  const std::string log_path = work_dir + "/build.log";
  check_results(run_processes(cmds, kJobs), cmds, work_dir + ": compiling the firmware", log_path);

  std::vector<std::string> link = {kCc};
  link.insert(link.end(), spec.target.cpu_flags.begin(), spec.target.cpu_flags.end());
  if (spec.lto) link.push_back("-flto");  // each function keeps its -O2 / -Os
  link.insert(link.end(),
              {"-nostartfiles", "--specs=nano.specs", "--specs=nosys.specs", "-Wl,--gc-sections",
               "-Wl,-Map=" + fs::path(elf_path).replace_extension(".map").string(), "-T", ld});
  link.insert(link.end(), objects.begin(), objects.end());
  if (!library.empty()) link.push_back(library);
  link.insert(link.end(), {"-lm", "-o", elf_path});
  check_results({run_process(link)}, {link}, elf_path + ": linking", log_path);
}

}  // namespace tinyforge::emit
