// Throwaway servers for the fleet tests: a PostgreSQL cluster in a temp folder (initdb and
// pg_ctl of Debian's postgresql-15, as the `postgres` user when the tests run as root) and
// a Mosquitto broker (fleet/local_broker.h). Tests skip with the reason, or fail in strict
// mode, when the server binaries are missing.
#pragma once
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "fleet/local_broker.h"

namespace tinyforge::testing {

inline constexpr const char* kPostgresBin = "/usr/lib/postgresql/15/bin";

inline bool have_postgres() {
  return std::filesystem::exists(std::string(kPostgresBin) + "/initdb") &&
         std::filesystem::exists(std::string(kPostgresBin) + "/pg_ctl");
}

inline bool have_mosquitto() {
  return std::system(
             "command -v mosquitto >/dev/null 2>&1 && "
             "command -v mosquitto_passwd >/dev/null 2>&1 && "
             "command -v openssl >/dev/null 2>&1") == 0;
}

inline std::filesystem::path temp_folder(const std::string& tag) {
  char pattern[] = "/tmp/tinyforge_fleet_XXXXXX";
  const char* made = mkdtemp(pattern);
  if (made == nullptr) return {};
  return std::filesystem::path(made) / tag;
}

class PostgresServer {
 public:
  PostgresServer() : folder_(temp_folder("pg")), port_(fleet::LocalBroker::free_port()) {
    std::filesystem::create_directories(folder_);
    std::filesystem::permissions(folder_.parent_path(), std::filesystem::perms::owner_all |
                                                            std::filesystem::perms::group_exec |
                                                            std::filesystem::perms::others_exec);
    const std::string as_user = getuid() == 0 ? "runuser -u postgres -- " : "";
    if (getuid() == 0) run("chown postgres " + folder_.string());
    const std::string bin = kPostgresBin;
    ok_ = run(as_user + bin + "/initdb -D " + folder_.string() + "/data -A trust -U fleet " +
              "--no-sync") &&
          run(as_user + bin + "/pg_ctl -D " + folder_.string() + "/data -l " + folder_.string() +
              "/log -w -o '-p " + std::to_string(port_) + " -k " + folder_.string() +
              " -c listen_addresses=127.0.0.1 -c fsync=off' start");
    stop_ = as_user + bin + "/pg_ctl -D " + folder_.string() + "/data -m immediate stop";
  }
  ~PostgresServer() {
    if (ok_) run(stop_);
    std::filesystem::remove_all(folder_.parent_path());
  }
  bool ok() const { return ok_; }
  std::string url(const std::string& database) const {
    return "postgresql://fleet@127.0.0.1:" + std::to_string(port_) + "/" + database;
  }
  std::string log() const { return (folder_ / "log").string(); }

 private:
  static bool run(const std::string& command) {
    return std::system((command + " >/dev/null 2>&1").c_str()) == 0;
  }
  std::filesystem::path folder_;
  int port_;
  bool ok_ = false;
  std::string stop_;
};

}  // namespace tinyforge::testing
