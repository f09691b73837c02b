#include "fleet/mqtt.h"

#include <mosquitto.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <thread>

#include "ir/error.h"

namespace tinyforge::fleet {
namespace {

void init_library() {
  static std::once_flag once;
  std::call_once(once, [] { mosquitto_lib_init(); });
}

std::string where(const BrokerAddress& b) {
  return (b.ca_file.empty() ? "mqtt://" : "mqtts://") + b.host + ":" + std::to_string(b.port);
}

}  // namespace

BrokerAddress parse_broker_url(const std::string& url, const std::string& ca_file) {
  BrokerAddress b;
  std::string rest;
  if (url.rfind("mqtts://", 0) == 0) {
    rest = url.substr(8);
    if (ca_file.empty())
      throw Error(url + ": mqtts needs the broker's CA certificate (give --ca FILE)");
    b.ca_file = ca_file;
  } else if (url.rfind("mqtt://", 0) == 0) {
    rest = url.substr(7);
  } else {
    throw Error(url + ": not a broker URL (expected mqtts://HOST:PORT or mqtt://HOST:PORT)");
  }
  const size_t colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0)
    throw Error(url + ": no port (expected mqtts://HOST:PORT)");
  b.host = rest.substr(0, colon);
  try {
    size_t used = 0;
    b.port = std::stoi(rest.substr(colon + 1), &used);
    if (used != rest.size() - colon - 1 || b.port <= 0 || b.port > 65535) throw 0;
  } catch (...) {
    throw Error(url + ": the port must be a number 1..65535");
  }
  return b;
}

MqttClient::MqttClient(const BrokerAddress& broker, const std::string& client_id,
                       const std::string& username, const std::string& password, bool clean_session,
                       OnMessage on_message)
    : on_message_(std::move(on_message)), who_(where(broker) + " as " + username) {
  init_library();
  handle_ = mosquitto_new(client_id.c_str(), clean_session, this);
  if (handle_ == nullptr) throw Error("mqtt: cannot create a client for " + client_id);
  mosquitto_int_option(handle_, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
  mosquitto_int_option(handle_, MOSQ_OPT_TCP_NODELAY, 1);  // small messages, sent at once
  mosquitto_connect_callback_set(handle_, &MqttClient::on_connect);
  mosquitto_disconnect_callback_set(handle_, &MqttClient::on_disconnect);
  mosquitto_message_callback_set(handle_, &MqttClient::on_message);
  mosquitto_reconnect_delay_set(handle_, 1, 4, false);
  mosquitto_max_inflight_messages_set(handle_, 1000);
  if (mosquitto_username_pw_set(handle_, username.c_str(), password.c_str()) != MOSQ_ERR_SUCCESS)
    throw Error("mqtt: cannot set the credentials of " + username);
  if (!broker.ca_file.empty() && mosquitto_tls_set(handle_, broker.ca_file.c_str(), nullptr,
                                                   nullptr, nullptr, nullptr) != MOSQ_ERR_SUCCESS)
    throw Error(broker.ca_file + ": cannot use it as the broker's CA certificate (a PEM file?)");
  const int rc = mosquitto_connect(handle_, broker.host.c_str(), broker.port, 30);
  if (rc != MOSQ_ERR_SUCCESS) {
    mosquitto_destroy(handle_);
    throw Error(where(broker) + ": cannot connect: " + mosquitto_strerror(rc) +
                " (is the broker running?)");
  }
}

MqttClient::~MqttClient() {
  if (network_.joinable()) {
    stopping_ = true;
    network_.join();
    close(wake_fd_);
  }
  mosquitto_disconnect(handle_);
  mosquitto_loop_write(handle_, 1);  // the DISCONNECT, so the broker sees a clean goodbye
  mosquitto_destroy(handle_);
}

void MqttClient::on_connect(mosquitto*, void* self, int rc) {
  auto* client = static_cast<MqttClient*>(self);
  client->connack_ = rc;
  client->connected_ = rc == 0;
  if (rc != 0) return;
  for (const std::string& s : client->subscriptions_)
    mosquitto_subscribe(client->handle_, nullptr, s.c_str(), 1);
}

void MqttClient::on_disconnect(mosquitto*, void* self, int) {
  static_cast<MqttClient*>(self)->connected_ = false;
}

void MqttClient::on_message(mosquitto*, void* self, const mosquitto_message* message) {
  static_cast<MqttClient*>(self)->on_message_(message->topic,
                                              static_cast<const uint8_t*>(message->payload),
                                              static_cast<size_t>(message->payloadlen));
}

void MqttClient::subscribe(const std::string& pattern) {
  subscriptions_.push_back(pattern);
  mosquitto_subscribe(handle_, nullptr, pattern.c_str(), 1);
}

bool MqttClient::publish(const std::string& topic, const uint8_t* data, size_t size, int qos) {
  const bool queued = mosquitto_publish(handle_, nullptr, topic.c_str(), static_cast<int>(size),
                                        data, qos, false) == MOSQ_ERR_SUCCESS;
  if (wake_fd_ >= 0) eventfd_write(wake_fd_, 1);  // the network thread sends it now
  return queued;
}

void MqttClient::wait_connected(int timeout_ms) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (connack_ < 0 && std::chrono::steady_clock::now() < end) poll(50);
  if (connack_ < 0) throw Error(who_ + ": the broker did not answer the login");
  if (connack_ != 0)
    throw Error(who_ + ": the broker refused the login: " + mosquitto_connack_string(connack_) +
                " (check --credentials)");
}

void MqttClient::start() {
  // The library's own thread (mosquitto_loop_start) waits in select(); ours polls. In this
  // mode mosquitto_publish only queues, and the network thread alone touches the socket.
  mosquitto_threaded_set(handle_, true);
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) throw Error("mqtt: cannot create the network thread's wake-up descriptor");
  network_ = std::thread([this] {
    while (!stopping_) poll(100);
  });
}

int MqttClient::socket() const { return mosquitto_socket(handle_); }

void MqttClient::poll(int timeout_ms) {
  // Not mosquitto_loop(): it waits in select() and fails at once with MOSQ_ERR_INVAL for a
  // descriptor at or above FD_SETSIZE (Mosquitto 2.0 lib/loop.c). The sockets are
  // non-blocking, so reading when nothing came (or TLS holds buffered bytes) is harmless.
  int rc = MOSQ_ERR_NO_CONN;
  const int sock = mosquitto_socket(handle_);
  if (sock >= 0) {
    pollfd ready[2] = {
        {sock, static_cast<short>(POLLIN | (mosquitto_want_write(handle_) ? POLLOUT : 0)), 0},
        {wake_fd_, POLLIN, 0}};
    if (::poll(ready, wake_fd_ >= 0 ? 2 : 1, timeout_ms) > 0 && (ready[1].revents & POLLIN)) {
      eventfd_t ignored;
      eventfd_read(wake_fd_, &ignored);
    }
    rc = mosquitto_loop_read(handle_, 1);
    if (rc == MOSQ_ERR_SUCCESS && mosquitto_want_write(handle_))
      rc = mosquitto_loop_write(handle_, 1);
    if (rc == MOSQ_ERR_SUCCESS) rc = mosquitto_loop_misc(handle_);
  } else if (timeout_ms > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min(timeout_ms, 50)));
  }
  // After a broker restart the failure may be a TLS or socket error rather than
  // CONN_LOST: any failure but a full outgoing queue means the link is gone.
  if (rc == MOSQ_ERR_SUCCESS || rc == MOSQ_ERR_NOMEM) return;
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now().time_since_epoch())
                          .count();
  if (now < next_reconnect_ms_ || (reconnect_gate_ && !reconnect_gate_())) return;
  next_reconnect_ms_ = now + 1000;
  mosquitto_reconnect(handle_);
}

}  // namespace tinyforge::fleet
