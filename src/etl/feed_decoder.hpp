#pragma once
// Feed bytes → plain CSV bytes: gzip (RFC 1952, concatenated members) is
// detected by the object name or the magic bytes and inflated as it streams
// (private to src/etl).

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "catalog/etl/engine.hpp"

namespace catalog::etl {

class Gunzip;

class FeedDecoder {
 public:
  using Output = std::function<void(std::string_view)>;
  FeedDecoder(Compression compression, const std::string& object_name, Output out);
  ~FeedDecoder();
  FeedDecoder(const FeedDecoder&) = delete;
  FeedDecoder& operator=(const FeedDecoder&) = delete;

  /// Decodes one chunk of the feed (any size) into the output.
  void feed(std::string_view chunk);
  /// At the end of the feed: throws FeedError if a gzip stream is empty or truncated.
  void finish();

 private:
  void deliver(std::string_view data);

  Output out_;
  bool decided_ = false;
  bool gzip_ = false;
  std::string head_;  // first bytes, until the gzip magic can be checked
  std::unique_ptr<Gunzip> gunzip_;
};

}  // namespace catalog::etl
