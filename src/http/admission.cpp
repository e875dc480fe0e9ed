#include "http/admission.hpp"

#include <charconv>

namespace catalog::http {
namespace {

bool has(const std::multimap<std::string, std::string>& query, const std::string& name) {
  return query.find(name) != query.end();
}

}  // namespace

RequestClass classify(std::string_view method, std::string_view path,
                      const std::multimap<std::string, std::string>& query) {
  if (method == "POST" && path == "/feeds") return RequestClass::upload;
  if ((method != "GET" && method != "HEAD") || path != "/products") return RequestClass::cheap;
  if (has(query, "q")) return RequestClass::expensive;
  if (auto it = query.find("with_count"); it != query.end() && it->second != "false") return RequestClass::expensive;
  if (auto it = query.find("limit"); it != query.end()) {
    unsigned long limit = 0;
    const auto& v = it->second;
    const auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), limit);
    if (ec != std::errc() || ptr != v.data() + v.size() || limit > 100) return RequestClass::expensive;
  }
  if (!has(query, "source")) {
    for (const char* filter : {"brand", "category", "availability", "updated_since"}) {
      if (has(query, filter)) return RequestClass::expensive;
    }
  }
  return RequestClass::cheap;
}

AdmissionGate::Decision AdmissionGate::enter(const std::string& client, std::function<void()> start,
                                             std::function<void()> expire) {
  std::deque<Waiter> stale;
  Decision decision;
  {
    std::lock_guard lock(mutex_);
    take_stale(stale);
    auto& held = held_[client];
    if (held >= per_client_) {
      decision = Decision::client_share;
    } else if (running_ < slots_ && waiting_.empty()) {
      ++running_;
      decision = Decision::run;
    } else if (waiting_.size() >= queue_limit_) {
      decision = Decision::queue_full;
    } else {
      waiting_.push_back({std::chrono::steady_clock::now(), client, std::move(start), std::move(expire)});
      decision = Decision::queued;
    }
    if (decision == Decision::run || decision == Decision::queued) {
      ++held;
    } else if (held == 0) {
      held_.erase(client);
    }
  }
  for (auto& w : stale) w.expire();
  return decision;
}

void AdmissionGate::release(const std::string& client) {
  std::deque<Waiter> stale;
  std::function<void()> next;
  {
    std::lock_guard lock(mutex_);
    forget_one(client);
    take_stale(stale);
    if (!waiting_.empty()) {
      next = std::move(waiting_.front().start);  // the slot passes on: running_ unchanged
      waiting_.pop_front();
    } else {
      --running_;
    }
  }
  for (auto& w : stale) w.expire();
  if (next) next();
}

void AdmissionGate::expire_stale() {
  std::deque<Waiter> stale;
  {
    std::lock_guard lock(mutex_);
    take_stale(stale);
  }
  for (auto& w : stale) w.expire();
}

void AdmissionGate::take_stale(std::deque<Waiter>& out) {
  const auto now = std::chrono::steady_clock::now();
  while (!waiting_.empty() && now - waiting_.front().since >= max_wait_) {
    forget_one(waiting_.front().client);
    out.push_back(std::move(waiting_.front()));
    waiting_.pop_front();
  }
}

void AdmissionGate::forget_one(const std::string& client) {
  auto it = held_.find(client);
  if (it == held_.end()) return;
  if (--it->second == 0) held_.erase(it);
}

std::string client_address(std::string_view forwarded_for, std::string_view peer) {
  auto last = forwarded_for.substr(forwarded_for.rfind(',') + 1);  // npos + 1 == 0: the whole value
  while (!last.empty() && (last.front() == ' ' || last.front() == '\t')) last.remove_prefix(1);
  while (!last.empty() && (last.back() == ' ' || last.back() == '\t')) last.remove_suffix(1);
  return std::string(last.empty() ? peer : last);
}

std::string_view handler_refusal_reason(const Response& response) {
  if (response.status != 503) return {};
  const std::string_view body = response.body_view();
  if (body.find(R"("code":"timeout")") != std::string_view::npos) return "statement_timeout";
  if (body.find(R"("code":"overloaded")") != std::string_view::npos) return "pool_wait";
  return {};
}

}  // namespace catalog::http
