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
  AdmissionGate gate(2, 1, 10s, 4);
  int started = 0, expired = 0;
  EXPECT_EQ(gate.enter("a", [&] { ++started; }, [&] { ++expired; }), AdmissionGate::Decision::run);
  EXPECT_EQ(gate.enter("b", [&] { ++started; }, [&] { ++expired; }), AdmissionGate::Decision::run);
  EXPECT_EQ(gate.enter("c", [&] { ++started; }, [&] { ++expired; }), AdmissionGate::Decision::queued);
  EXPECT_EQ(gate.enter("d", [&] { ++started; }, [&] { ++expired; }), AdmissionGate::Decision::queue_full);
  EXPECT_EQ(started, 0);
  gate.release("a");  // the queued one takes the slot
  EXPECT_EQ(started, 1);
  gate.release("b");
  gate.release("c");
  EXPECT_EQ(gate.enter("d", [] {}, [] {}), AdmissionGate::Decision::run) << "every slot came back";
  EXPECT_EQ(expired, 0);
}

TEST(Admission, WaitersPastTheBoundAreExpiredNotStarted) {
  AdmissionGate gate(1, 4, 20ms);
  int started = 0, expired = 0;
  ASSERT_EQ(gate.enter("a", [] {}, [] {}), AdmissionGate::Decision::run);
  ASSERT_EQ(gate.enter("b", [&] { ++started; }, [&] { ++expired; }), AdmissionGate::Decision::queued);
  std::this_thread::sleep_for(30ms);
  gate.expire_stale();
  EXPECT_EQ(expired, 1);
  gate.release("a");
  EXPECT_EQ(started, 0);
  EXPECT_EQ(gate.enter("b", [] {}, [] {}), AdmissionGate::Decision::run) << "the expired waiter holds nothing";
}

// One key cannot hold a class's whole share: with 4 slots it gets 2 (half,
// by default), waiting ones included, and the other slots stay for others.
TEST(Admission, OneClientHoldsAtMostItsShareRunningAndWaitingTogether) {
  AdmissionGate gate(4, 8, 10s);
  EXPECT_EQ(gate.per_client(), 2u);
  EXPECT_EQ(gate.enter("hog", [] {}, [] {}), AdmissionGate::Decision::run);
  EXPECT_EQ(gate.enter("hog", [] {}, [] {}), AdmissionGate::Decision::run);
  EXPECT_EQ(gate.enter("hog", [] {}, [] {}), AdmissionGate::Decision::client_share) << "a third is refused at once";
  EXPECT_EQ(gate.enter("other", [] {}, [] {}), AdmissionGate::Decision::run);
  EXPECT_EQ(gate.enter("third", [] {}, [] {}), AdmissionGate::Decision::run);
  int started = 0;
  EXPECT_EQ(gate.enter("other", [&] { ++started; }, [] {}), AdmissionGate::Decision::queued);
  EXPECT_EQ(gate.enter("other", [] {}, [] {}), AdmissionGate::Decision::client_share)
      << "a waiting request counts against the share too";
  gate.release("hog");
  EXPECT_EQ(started, 1);
  EXPECT_EQ(gate.enter("hog", [] {}, [] {}), AdmissionGate::Decision::queued) << "below its share again";

  AdmissionGate one(1, 8, 10s);
  EXPECT_EQ(one.per_client(), 1u) << "a single slot is still one client's whole share";
  AdmissionGate explicit_share(4, 8, 10s, 3);
  EXPECT_EQ(explicit_share.per_client(), 3u);
}

// Behind the ALB the last X-Forwarded-For entry is the one the balancer
// saw; earlier entries are whatever the client wrote.
TEST(Admission, ClientAddressIsTheLastForwardedEntryElseThePeer) {
  EXPECT_EQ(client_address("", "10.0.0.5"), "10.0.0.5");
  EXPECT_EQ(client_address("203.0.113.7", "10.0.0.5"), "203.0.113.7");
  EXPECT_EQ(client_address("1.1.1.1, 2.2.2.2,  203.0.113.7 ", "10.0.0.5"), "203.0.113.7");
  EXPECT_EQ(client_address("1.1.1.1, ", "10.0.0.5"), "10.0.0.5") << "an empty last entry is no address";
}

}  // namespace
}  // namespace catalog::http
