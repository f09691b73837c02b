// A Mosquitto broker of our own in a folder: TLS (a throwaway CA and a server certificate
// for 127.0.0.1), a password per device and for the service, and an ACL under which a device
// may publish only to devices/<its name>/telemetry and read only its own ack and update
// topics. Used by `tinyforge fleet broker`, the tests and the benchmark.
//
// Files in the folder: ca.crt (what clients trust), credentials ("user password" lines, the
// service first), mosquitto.conf, passwd (hashed), acl, mosquitto.log, the persistence file.
#pragma once
#include <sys/types.h>

#include <string>
#include <vector>

#include "fleet/mqtt.h"

namespace tinyforge::fleet {

constexpr const char* kServiceUser = "tinyforge-fleet";

struct Credential {
  std::string user, password;
};

// "user password" lines; throws naming the line that is malformed.
std::vector<Credential> read_credentials(const std::string& path);
// The password of `user` in `credentials` (throws when absent).
std::string password_of(const std::vector<Credential>& credentials, const std::string& user);

class LocalBroker {
 public:
  // Writes certificates, credentials for the service and `devices` (ids device-00000...,
  // plus `extra` names), the ACL and the configuration. Needs openssl, mosquitto and
  // mosquitto_passwd (Debian mosquitto); throws naming what is missing.
  LocalBroker(const std::string& folder, int port, int devices,
              const std::vector<std::string>& extra = {});
  ~LocalBroker();  // stops the broker if it runs

  void start();           // spawns mosquitto and waits until it accepts connections
  void stop(bool kill9);  // SIGTERM (saves its persistence) or SIGKILL
  BrokerAddress address() const;
  const std::vector<Credential>& credentials() const { return credentials_; }
  std::string config_path() const { return folder_ + "/mosquitto.conf"; }

  static std::string device_name(int index);  // "device-00042"
  static int free_port();                     // a TCP port nobody listens on now

 private:
  std::string folder_;
  int port_;
  std::vector<Credential> credentials_;
  pid_t pid_ = -1;
};

}  // namespace tinyforge::fleet
