// Building bare-metal Cortex-M images with Debian's arm-none-eabi-gcc: the device runtime
// compiled once per target and cached, then application sources + targets/startup +
// the linker script from targets/link/cortex_m.ld.in linked into an ELF.
//
// Flags: the target's cpu flags from targets/targets.json; the runtime at -O2 and the
// application at -Os (the split the reference engine's anchors were built with:
// ../shared/anchors); -ffunction-sections -fdata-sections and --gc-sections; newlib-nano
// and nosys. Not -ffreestanding: it implies -fno-builtin, which would turn every small
// memcpy in the kernels into a call (the runtime's CMake build still checks that it
// compiles freestanding).
//
// Link-time optimization (ImageSpec::lto, the --aot images): the runtime is then a second
// library of LTO objects, and the image's constant tensor views and params let the linker
// specialize the kernels it calls and drop the paths the model never takes (a smaller image,
// the same arithmetic). Plan images keep the plain library: their kernels take every
// operand from the blob at run time, and their executor's frames stay as measured.
//
// An image whose plan needs fewer kernel paths than the library has (ImageSpec::
// runtime_defines, e.g. TINYFORGE_IMAGE_INT16=0 for a plan without int16 tensors: the image
// switches of runtime/src/enabled_ops.h) links a form of the library built with those
// defines, cached beside the others: its kernels leave those paths out.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "emit/cortex_m_targets.h"

namespace tinyforge::emit {

using Logger = std::function<void(const std::string&)>;

// arm-none-eabi-g++ and -gcc are in PATH.
bool cross_toolchain_available();

// Where compiled runtimes are kept: $TINYFORGE_CACHE_DIR, else $XDG_CACHE_HOME/tinyforge,
// else $HOME/.cache/tinyforge.
std::string cache_dir();

// The runtime for `target` as a static library (`lto`: of LTO objects; `defines`: NAME=VALUE
// image switches it is compiled with), rebuilt only when the compiler, the flags or any file
// under runtime/ changed. Throws tinyforge::Error naming the log file (in the cache folder)
// that holds the compiler's output.
std::string runtime_library(const CortexMTarget& target, const Logger& log, bool lto = false,
                            const std::vector<std::string>& defines = {});

// A further RAM region (--memory) with its own NOLOAD section .tinyforge.region.NAME.
struct LinkRegion {
  std::string name;
  MemoryRegion memory;
};

struct ImageSpec {
  CortexMTarget target;
  MemoryRegion flash, ram;
  std::vector<LinkRegion> regions;
  uint32_t min_stack = 8192;              // linker check: RAM left for the stack
  std::vector<std::string> sources;       // application C++ sources
  std::vector<std::string> include_dirs;  // besides runtime/include and targets/firmware
  std::vector<std::string> defines;       // -D NAME[=VALUE] for the application sources
  bool link_runtime = true;
  bool lto = false;  // link-time optimization of the sources and the runtime (see above)
  std::vector<std::string> runtime_defines;  // image switches of the runtime's form (above)
};

// Writes work_dir/link.ld, compiles into work_dir, links `elf_path` (and
// elf_path's .map beside it). On failure the tools' output goes to work_dir/build.log and
// the tinyforge::Error names it with the first error line.
void build_image(const ImageSpec& spec, const std::string& work_dir, const std::string& elf_path,
                 const Logger& log);

// The linker script for a memory map (targets/link/cortex_m.ld.in filled in).
std::string linker_script(const MemoryRegion& flash, const MemoryRegion& ram, uint32_t min_stack,
                          const std::vector<LinkRegion>& regions = {});

}  // namespace tinyforge::emit
