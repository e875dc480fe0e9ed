#include "etl/feed_decoder.hpp"

#include <vector>

#include <zlib.h>

#include "catalog/core/errors.hpp"

namespace catalog::etl {
namespace {

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

/// Streaming gzip decoder (RFC 1952), concatenated members included.
class Gunzip {
 public:
  Gunzip() {
    if (inflateInit2(&zs_, 16 + MAX_WBITS) != Z_OK) throw FeedError("gzip: cannot initialise zlib");
    out_.resize(256 * 1024);
  }
  ~Gunzip() { inflateEnd(&zs_); }
  Gunzip(const Gunzip&) = delete;
  Gunzip& operator=(const Gunzip&) = delete;

  void feed(std::string_view in, const FeedDecoder::Output& out) {
    zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    zs_.avail_in = static_cast<uInt>(in.size());
    while (zs_.avail_in > 0) {
      if (member_done_) {  // another member follows
        if (inflateReset(&zs_) != Z_OK) throw FeedError("gzip: cannot reset zlib");
        member_done_ = false;
      }
      zs_.next_out = reinterpret_cast<Bytef*>(out_.data());
      zs_.avail_out = static_cast<uInt>(out_.size());
      const int rc = inflate(&zs_, Z_NO_FLUSH);
      const std::size_t produced = out_.size() - zs_.avail_out;
      if (produced > 0) out(std::string_view(out_.data(), produced));
      if (rc == Z_STREAM_END) {
        member_done_ = true;
      } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
        throw FeedError(std::string("gzip: corrupt stream: ") + (zs_.msg != nullptr ? zs_.msg : "inflate failed"));
      } else if (rc == Z_BUF_ERROR && produced == 0 && zs_.avail_in > 0) {
        throw FeedError("gzip: corrupt stream");
      }
    }
  }

  void finish() {
    if (!member_done_) throw FeedError("gzip: stream is truncated");
  }

 private:
  z_stream zs_{};
  std::vector<char> out_;
  bool member_done_ = false;
};

FeedDecoder::FeedDecoder(Compression compression, const std::string& object_name, Output out)
    : out_(std::move(out)),
      decided_(compression != Compression::auto_detect),
      gzip_(compression == Compression::gzip) {
  if (!decided_ && ends_with(object_name, ".gz")) {
    decided_ = true;
    gzip_ = true;
  }
}

FeedDecoder::~FeedDecoder() = default;

void FeedDecoder::deliver(std::string_view data) {
  if (gzip_) {
    if (!gunzip_) gunzip_ = std::make_unique<Gunzip>();
    gunzip_->feed(data, out_);
  } else {
    out_(data);
  }
}

void FeedDecoder::feed(std::string_view chunk) {
  if (!decided_) {
    head_.append(chunk);
    if (head_.size() < 2) return;
    decided_ = true;
    gzip_ = static_cast<unsigned char>(head_[0]) == 0x1f && static_cast<unsigned char>(head_[1]) == 0x8b;
    deliver(head_);
    head_.clear();
    return;
  }
  deliver(chunk);
}

void FeedDecoder::finish() {
  if (!decided_ && !head_.empty()) deliver(head_);  // a 1-byte feed
  if (gzip_) {
    if (!gunzip_) throw FeedError("gzip: stream is empty");
    gunzip_->finish();
  }
}

}  // namespace catalog::etl
