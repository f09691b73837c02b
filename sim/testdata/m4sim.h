// Runs the neutral yardstick ../shared/tools/m4sim on an ELF (tests only). Available when
// the shared folder has it and /usr/bin/python3 imports unicorn, capstone and elftools
// (Debian's python3-unicorn python3-capstone python3-pyelftools).
#pragma once
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "emit/subprocess.h"
#include "shared_data.h"

namespace tinyforge::testing {

inline std::string m4sim_path() { return (shared_dir() / "tools" / "m4sim" / "m4sim").string(); }

// Empty when m4sim can run; else why not.
inline std::string m4sim_unavailable() {
  if (!std::filesystem::exists(m4sim_path())) return "m4sim not found at " + m4sim_path();
  if (!std::filesystem::exists("/usr/bin/python3")) return "/usr/bin/python3 not found";
  const auto r =
      emit::run_process({"/usr/bin/python3", "-c", "import unicorn, capstone, elftools"});
  if (r.exit_code != 0)
    return "m4sim needs python3-unicorn python3-capstone python3-pyelftools: " + r.output;
  return "";
}

// m4sim's JSON for `elf` with `input` written to tinyforge_input; throws on failure.
inline nlohmann::json run_m4sim(const std::string& elf, const std::vector<uint8_t>& input,
                                const std::string& scratch_dir, bool verify_count = false) {
  const std::string in = scratch_dir + "/m4sim_input.bin";
  {
    std::FILE* f = std::fopen(in.c_str(), "wb");
    if (!f) throw std::runtime_error("cannot write " + in);
    std::fwrite(input.data(), 1, input.size(), f);
    std::fclose(f);
  }
  std::vector<std::string> cmd = {"/usr/bin/python3", m4sim_path(), elf, "--input", in};
  if (verify_count) cmd.push_back("--verify-count");
  const auto r = emit::run_process(cmd);
  if (r.exit_code != 0) throw std::runtime_error("m4sim failed: " + r.output);
  // m4sim prints semihosting text on stderr and the JSON (the last '{'...'}') on stdout.
  const size_t open = r.output.find("{\n");
  if (open == std::string::npos) throw std::runtime_error("m4sim printed no JSON: " + r.output);
  return nlohmann::json::parse(r.output.substr(open, r.output.rfind('}') - open + 1));
}

}  // namespace tinyforge::testing
