// Opens a page in headless Chromium for the page tests: the DOM after its scripts ran and
// Chromium's log, which holds the page's console messages and uncaught errors.
#pragma once
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace tinyforge::testing {

inline bool have_chromium() { return std::system("command -v chromium >/dev/null 2>&1") == 0; }

struct Browser {
  std::string dom, log;
  bool ran = false;  // chromium exited 0
};

// `url`: file://... or http://...; `virtual_time_ms` > 0 lets the page's timers and fetches
// run that long (in virtual time) before the DOM is dumped.
inline Browser open_in_chromium(const std::string& url, const std::filesystem::path& scratch,
                                int virtual_time_ms = 0) {
  const std::filesystem::path profile = scratch / "chromium-profile";
  std::filesystem::create_directories(profile);
  const std::string budget =
      virtual_time_ms > 0 ? " --virtual-time-budget=" + std::to_string(virtual_time_ms) : "";
  const std::string cmd =
      "timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
      "--disable-background-networking --disable-component-update --disable-sync "
      "--user-data-dir='" +
      profile.string() + "' --enable-logging=stderr --v=0" + budget + " --dump-dom '" + url +
      "' >'" + (scratch / "dom.html").string() + "' 2>'" + (scratch / "chromium.log").string() +
      "'";
  Browser b;
  b.ran = std::system(cmd.c_str()) == 0;
  for (auto [path, text] :
       {std::pair{scratch / "dom.html", &b.dom}, std::pair{scratch / "chromium.log", &b.log}}) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    *text = ss.str();
  }
  return b;
}

}  // namespace tinyforge::testing
