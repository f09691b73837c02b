// A thin RAII client over libmosquitto (MQTT 3.1.1) for the service, the rollout and the
// simulated devices: TLS against a CA file, username/password, QoS 1, and reconnects with
// resubscription. Either a background network thread (start()) or, for thousands of
// simulated devices in a few threads, poll() called by the owner. Never select(): it
// cannot watch a descriptor above FD_SETSIZE (1024), which a process with many
// connections reaches.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <vector>

struct mosquitto;
struct mosquitto_message;

namespace tinyforge::fleet {

struct BrokerAddress {
  std::string host = "127.0.0.1";
  int port = 8883;
  std::string ca_file;  // TLS when set (mqtts://)
};

// "mqtts://HOST:PORT" (TLS, needs a CA file) or "mqtt://HOST:PORT"; throws a message naming
// the expected form.
BrokerAddress parse_broker_url(const std::string& url, const std::string& ca_file);

class MqttClient {
 public:
  using OnMessage = std::function<void(const std::string& topic, const uint8_t* data, size_t)>;

  // Connects (throws tinyforge::Error when the broker refuses or cannot be reached).
  // clean_session = false: the broker queues QoS 1 messages for us while we are away.
  MqttClient(const BrokerAddress& broker, const std::string& client_id, const std::string& username,
             const std::string& password, bool clean_session, OnMessage on_message);
  ~MqttClient();
  MqttClient(const MqttClient&) = delete;
  MqttClient& operator=(const MqttClient&) = delete;

  void subscribe(const std::string& pattern);  // QoS 1; renewed after a reconnect
  // false when the message could not be queued (disconnected). QoS 1, or 0 for messages
  // whose loss the protocol repairs by itself (acks: the device sends again).
  bool publish(const std::string& topic, const uint8_t* data, size_t size, int qos = 1);
  // Waits for the broker's answer to the login: throws when it refuses (wrong password,
  // unknown user) or does not answer within `timeout_ms`. Before start().
  void wait_connected(int timeout_ms);
  void start();               // network in a background thread (publish is then thread-safe)
  void poll(int timeout_ms);  // network work for one round, reconnecting when needed
  int socket() const;         // the connection's descriptor, -1 while there is none
  bool connected() const { return connected_; }
  // poll() reconnects only when `gate` says yes (a simulator's thousands of clients share
  // a rate the broker can take); by default always.
  void set_reconnect_gate(std::function<bool()> gate) { reconnect_gate_ = std::move(gate); }

 private:
  static void on_connect(mosquitto*, void* self, int rc);
  static void on_disconnect(mosquitto*, void* self, int rc);
  static void on_message(mosquitto*, void* self, const mosquitto_message* message);

  mosquitto* handle_ = nullptr;
  OnMessage on_message_;
  std::vector<std::string> subscriptions_;
  std::thread network_;
  std::atomic<bool> stopping_{false};
  int wake_fd_ = -1;               // start(): a publish wakes the network thread's poll
  int64_t next_reconnect_ms_ = 0;  // poll(): at most one reconnect attempt a second
  std::function<bool()> reconnect_gate_;
  std::atomic<bool> connected_{false};
  std::atomic<int> connack_{-1};  // the broker's last CONNACK code, -1 before any
  std::string who_;
};

}  // namespace tinyforge::fleet
