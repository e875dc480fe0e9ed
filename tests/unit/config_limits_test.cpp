// The HTTP overload limits read from the environment (docs/runbook.md "Limits").
#include <gtest/gtest.h>

#include <map>

#include "catalog/config/config.hpp"
#include "catalog/core/errors.hpp"

namespace catalog::config {
namespace {

EnvLookup env(std::map<std::string, std::string> values) {
  values.emplace("DATABASE_URL", "host=x");
  values.emplace("AUTH_DISABLED", "1");
  return [values = std::move(values)](const std::string& name) -> std::optional<std::string> {
    auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

TEST(ConfigLimitsTest, DefaultsAndOverrides) {
  const auto d = load(env({}));
  EXPECT_EQ(d.max_connections, 10000u);
  EXPECT_EQ(d.max_buffered_body_bytes, std::size_t{64} << 20);
  EXPECT_EQ(d.body_timeout.count(), 30);
  EXPECT_EQ(d.feed_body_timeout.count(), 3600);
  EXPECT_EQ(d.worker_queue_limit, 1024u);

  const auto c = load(env({{"MAX_CONNECTIONS", "50"}, {"MAX_BUFFERED_BODY_BYTES", "1048576"}, {"BODY_TIMEOUT", "5"},
                           {"FEED_BODY_TIMEOUT", "600"}, {"WORKER_QUEUE_LIMIT", "8"}}));
  EXPECT_EQ(c.max_connections, 50u);
  EXPECT_EQ(c.max_buffered_body_bytes, 1048576u);
  EXPECT_EQ(c.body_timeout.count(), 5);
  EXPECT_EQ(c.feed_body_timeout.count(), 600);
  EXPECT_EQ(c.worker_queue_limit, 8u);
}

TEST(ConfigLimitsTest, BadValuesNameTheVariable) {
  for (const std::string name :
       {"MAX_CONNECTIONS", "MAX_BUFFERED_BODY_BYTES", "BODY_TIMEOUT", "FEED_BODY_TIMEOUT", "WORKER_QUEUE_LIMIT"}) {
    for (const std::string value : {"0", "-1", "lots"}) {
      try {
        load(env({{name, value}}));
        ADD_FAILURE() << name << "=" << value << " accepted";
      } catch (const ConfigError& e) {
        EXPECT_EQ(std::string(e.what()).rfind(name + ":", 0), 0u) << e.what();
      }
    }
  }
}

}  // namespace
}  // namespace catalog::config
