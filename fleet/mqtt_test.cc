// Our MQTT client in a process with more than FD_SETSIZE descriptors open, as the simulator
// and the benchmark's processes are: the login, a subscription and messages both ways, for
// a client polled by its owner and one with its network thread; and the reconnect gate.
#include "fleet/mqtt.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/select.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

#include "fleet/local_broker.h"
#include "fleet/process.h"
#include "fleet/service.h"
#include "fleet_servers.h"
#include "shared_data.h"

namespace tinyforge::fleet {
namespace {

TEST(FleetMqtt, WorksAboveFdSetsizeAndReconnectsWhenItsGateAllows) {
  if (!testing::have_mosquitto())
    TINYFORGE_SKIP_MISSING("mosquitto, mosquitto_passwd or openssl not found (Debian mosquitto)");
  if (raise_descriptor_limit() < FD_SETSIZE + 64)
    GTEST_SKIP() << "the descriptor limit (ulimit -Hn) is below " << FD_SETSIZE + 64;
  const std::filesystem::path folder = testing::temp_folder("mqtt");
  LocalBroker broker(folder.string(), LocalBroker::free_port(), 1);
  broker.start();
  std::vector<int> filler;  // pushes the clients' sockets above FD_SETSIZE
  while (filler.empty() || filler.back() < FD_SETSIZE) filler.push_back(open("/dev/null", 0));
  const std::string device = LocalBroker::device_name(0);

  std::atomic<int> telemetry_seen{0};
  MqttClient service(broker.address(), kServiceUser, kServiceUser,
                     password_of(broker.credentials(), kServiceUser), true,
                     [&](const std::string& topic, const uint8_t*, size_t) {
                       telemetry_seen += topic == telemetry_topic(device);
                     });
  service.wait_connected(5000);
  service.subscribe("devices/+/telemetry");
  service.start();
  int acks_seen = 0;
  MqttClient client(broker.address(), device, device, password_of(broker.credentials(), device),
                    true, [&](const std::string& topic, const uint8_t*, size_t size) {
                      acks_seen += topic == ack_topic(device) && size == 1;
                    });
  client.wait_connected(5000);
  client.subscribe(ack_topic(device));
  EXPECT_GE(client.socket(), FD_SETSIZE);
  EXPECT_GE(service.socket(), FD_SETSIZE);

  const uint8_t byte = 1;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (acks_seen == 0 && std::chrono::steady_clock::now() < give_up) {
    client.publish(telemetry_topic(device), &byte, 1);
    for (int i = 0; i < 10; ++i) client.poll(10);
    if (telemetry_seen > 0) service.publish(ack_topic(device), &byte, 1);
    for (int i = 0; i < 10; ++i) client.poll(10);
  }
  EXPECT_GT(telemetry_seen, 0);
  EXPECT_GT(acks_seen, 0);

  // After a broker restart the client reconnects, but only once its gate allows it.
  bool may_reconnect = false;
  client.set_reconnect_gate([&] { return may_reconnect; });
  broker.stop(true);
  broker.start();
  const auto poll_for = [&](int ms) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (std::chrono::steady_clock::now() < end && !(may_reconnect && client.connected()))
      client.poll(10);
  };
  poll_for(1500);
  EXPECT_FALSE(client.connected());
  may_reconnect = true;
  poll_for(5000);
  EXPECT_TRUE(client.connected());
  for (int fd : filler) close(fd);
  broker.stop(true);
  std::filesystem::remove_all(folder.parent_path());
}

}  // namespace
}  // namespace tinyforge::fleet
