#include "fleet/local_broker.h"

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "fleet/process.h"
#include "io/files.h"
#include "ir/error.h"

namespace tinyforge::fleet {
namespace {

namespace fs = std::filesystem;

void write_text(const std::string& path, const std::string& text) {
  io::write_file(path, std::vector<uint8_t>(text.begin(), text.end()));
}

std::string quoted(const std::string& s) { return "'" + s + "'"; }

void run(const std::string& command, const std::string& what) {
  if (std::system((command + " >/dev/null 2>&1").c_str()) != 0)
    throw Error(what + " failed: " + command +
                " (are openssl and Debian's mosquitto installed? scripts/bootstrap)");
}

std::string random_password(std::mt19937_64& rng) {
  static const char alphabet[] = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  std::string out;
  for (int i = 0; i < 20; ++i) out += alphabet[rng() % (sizeof(alphabet) - 1)];
  return out;
}

std::string current_user() {
  const char* user = std::getenv("USER");
  if (getuid() == 0) return "root";
  return user != nullptr ? user : "nobody";
}

bool accepts(int port) {
  const int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(s);
  return ok;
}

}  // namespace

std::vector<Credential> read_credentials(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(path + ": cannot read the credentials file (written by fleet broker)");
  std::vector<Credential> out;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    Credential c;
    std::string extra;
    if (!(fields >> c.user >> c.password) || (fields >> extra))
      throw Error(path + ": line " + std::to_string(n) + " is not `user password`");
    out.push_back(c);
  }
  return out;
}

std::string password_of(const std::vector<Credential>& credentials, const std::string& user) {
  for (const Credential& c : credentials)
    if (c.user == user) return c.password;
  throw Error("no credentials for `" + user + "` (add it to the credentials file)");
}

std::string LocalBroker::device_name(int index) {
  char name[32];
  std::snprintf(name, sizeof name, "device-%05d", index);
  return name;
}

int LocalBroker::free_port() {
  const int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof a;
  if (bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      getsockname(s, reinterpret_cast<sockaddr*>(&a), &length) != 0) {
    close(s);
    throw Error("cannot find a free TCP port on 127.0.0.1");
  }
  close(s);
  return ntohs(a.sin_port);
}

LocalBroker::LocalBroker(const std::string& folder, int port, int devices,
                         const std::vector<std::string>& extra)
    : folder_(fs::absolute(folder).string()), port_(port) {
  fs::create_directories(folder_);
  const std::string f = folder_ + "/";
  // A CA valid for a day and a server certificate for the loopback address, both P-256.
  run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
      "-subj /CN=tinyforge-fleet-ca -keyout " +
          quoted(f + "ca.key") + " -out " + quoted(f + "ca.crt"),
      "the broker's CA");
  write_text(f + "server.ext", "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=localhost "
      "-keyout " +
          quoted(f + "server.key") + " -out " + quoted(f + "server.csr"),
      "the broker's key");
  run("openssl x509 -req -days 1 -in " + quoted(f + "server.csr") + " -CA " + quoted(f + "ca.crt") +
          " -CAkey " + quoted(f + "ca.key") + " -CAcreateserial -extfile " +
          quoted(f + "server.ext") + " -out " + quoted(f + "server.crt"),
      "the broker's certificate");

  std::mt19937_64 rng(std::random_device{}());
  credentials_.push_back({kServiceUser, random_password(rng)});
  for (int i = 0; i < devices; ++i) credentials_.push_back({device_name(i), random_password(rng)});
  for (const std::string& name : extra) credentials_.push_back({name, random_password(rng)});
  std::string plain;
  for (const Credential& c : credentials_) plain += c.user + ":" + c.password + "\n";
  write_text(f + "passwd", plain);
  write_text(f + "credentials", [&] {
    std::string text = "# user password (the service first, then the devices)\n";
    for (const Credential& c : credentials_) text += c.user + " " + c.password + "\n";
    return text;
  }());
  fs::permissions(f + "credentials", fs::perms::owner_read | fs::perms::owner_write);
  run("mosquitto_passwd -U " + quoted(f + "passwd"), "hashing the broker's passwords");

  // mosquitto.conf(5): the service reads every device's telemetry and writes acks and
  // updates; %u is the connecting user, so a device reaches only its own topics.
  write_text(f + "acl", std::string("user ") + kServiceUser +
                            "\n"
                            "topic read devices/+/telemetry\n"
                            "topic write devices/+/ack\n"
                            "topic write devices/+/update\n\n"
                            "pattern write devices/%u/telemetry\n"
                            "pattern read devices/%u/ack\n"
                            "pattern read devices/%u/update\n");
  const std::vector<std::string> config = {
      "per_listener_settings false",
      "allow_anonymous false",
      "password_file " + f + "passwd",
      "acl_file " + f + "acl",
      "listener " + std::to_string(port) + " 127.0.0.1",
      "cafile " + f + "ca.crt",
      "certfile " + f + "server.crt",
      "keyfile " + f + "server.key",
      // Sessions and queued messages survive a restart; 0 = no limit on the queues a
      // service that is away leaves behind.
      "persistence true",
      "persistence_location " + f,
      "autosave_interval 1",
      "max_queued_messages 0",
      "max_inflight_messages 0",
      "set_tcp_nodelay true",
      "log_dest file " + f + "mosquitto.log",
      "user " + current_user(),
  };
  std::string text;
  for (const std::string& line : config) text += line + "\n";
  write_text(config_path(), text);
}

LocalBroker::~LocalBroker() {
  if (pid_ > 0) stop(true);
}

BrokerAddress LocalBroker::address() const {
  BrokerAddress b;
  b.port = port_;
  b.ca_file = folder_ + "/ca.crt";
  return b;
}

void LocalBroker::start() {
  raise_descriptor_limit();  // one descriptor per device connection; the broker inherits it
  pid_ = spawn({"mosquitto", "-c", config_path()}, true);  // it logs to mosquitto.log
  for (int i = 0; i < 200; ++i) {
    if (accepts(port_)) return;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw Error(folder_ +
                  "/mosquitto.log: mosquitto exited at start (see the log; is "
                  "Debian's mosquitto installed?)");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  stop(true);
  throw Error("mosquitto did not listen on port " + std::to_string(port_) + " within 5 s");
}

void LocalBroker::stop(bool kill9) {
  if (pid_ <= 0) return;
  kill(pid_, kill9 ? SIGKILL : SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

}  // namespace tinyforge::fleet
