// Admission classes (src/http/admission.cpp): which requests are expensive,
// and the gate that bounds how many of a class hold workers.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "catalog/http/message.hpp"
#include "http/admission.hpp"

namespace catalog::http {
namespace {

using namespace std::chrono_literals;

RequestClass of(const std::string& method, const std::string& target) {
  const auto q = target.find('?');
  return classify(method, target.substr(0, q), q == std::string::npos ? std::multimap<std::string, std::string>{}
                                                                       : parse_query(target.substr(q + 1)));
}

TEST(Admission, SearchesCountsLargePagesAndUnselectiveFiltersAreExpensive) {
  EXPECT_EQ(of("GET", "/products?q=ab"), RequestClass::expensive);
  EXPECT_EQ(of("GET", "/products?with_count=true"), RequestClass::expensive);
  EXPECT_EQ(of("GET", "/products?limit=1000"), RequestClass::expensive);
  EXPECT_EQ(of("GET", "/products?limit=x"), RequestClass::expensive);  // the handler answers 400, within the share
  EXPECT_EQ(of("GET", "/products?brand=acme"), RequestClass::expensive);
  EXPECT_EQ(of("HEAD", "/products?q=ab"), RequestClass::expensive);
  EXPECT_EQ(of("GET", "/products?source=a&brand=acme&limit=100"), RequestClass::cheap);
  EXPECT_EQ(of("GET", "/products?with_count=false"), RequestClass::cheap);
  EXPECT_EQ(of("GET", "/products"), RequestClass::cheap);
  EXPECT_EQ(of("GET", "/products/a/sku-1"), RequestClass::cheap);
  EXPECT_EQ(of("GET", "/items?limit=5"), RequestClass::cheap);
  EXPECT_EQ(of("GET", "/metrics"), RequestClass::cheap);
  EXPECT_EQ(of("POST", "/feeds?job=x"), RequestClass::upload);
}

TEST(Admission, GateRunsUpToItsSlotsQueuesTheNextAndPassesSlotsOn) {
  AdmissionGate gate(2, 1, 10s);
  int started = 0, expired = 0;
  EXPECT_EQ(gate.enter([&] { ++started; }, [&] { ++expired; }), AdmissionGate::Decision::run);
  EXPECT_EQ(gate.enter([&] { ++started; }, [&] { ++expired; }), AdmissionGate::Decision::run);
  EXPECT_EQ(gate.enter([&] { ++started; }, [&] { ++expired; }), AdmissionGate::Decision::queued);
  EXPECT_EQ(gate.enter([&] { ++started; }, [&] { ++expired; }), AdmissionGate::Decision::queue_full);
  EXPECT_EQ(started, 0);
  gate.release();  // the queued one takes the slot
  EXPECT_EQ(started, 1);
  gate.release();
  gate.release();
  EXPECT_EQ(gate.enter([] {}, [] {}), AdmissionGate::Decision::run) << "every slot came back";
  EXPECT_EQ(expired, 0);
}

TEST(Admission, WaitersPastTheBoundAreExpiredNotStarted) {
  AdmissionGate gate(1, 4, 20ms);
  int started = 0, expired = 0;
  ASSERT_EQ(gate.enter([] {}, [] {}), AdmissionGate::Decision::run);
  ASSERT_EQ(gate.enter([&] { ++started; }, [&] { ++expired; }), AdmissionGate::Decision::queued);
  std::this_thread::sleep_for(30ms);
  gate.expire_stale();
  EXPECT_EQ(expired, 1);
  gate.release();
  EXPECT_EQ(started, 0);
  EXPECT_EQ(gate.enter([] {}, [] {}), AdmissionGate::Decision::run);
}

}  // namespace
}  // namespace catalog::http
