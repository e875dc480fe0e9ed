#include "catalog/http/multipart_reader.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>

#include "catalog/core/errors.hpp"

namespace catalog::http {
namespace {

const std::string kBoundary = "------------------------d74496d66958873e";  // as curl makes them
const std::string kType = "multipart/form-data; boundary=" + kBoundary;
const std::string kDelimiter = "--" + kBoundary;

/// A source handing out `body` in slices of at most `slice` bytes, the way
/// a socket might split it.
MultipartReader::Source slices_of(std::string body, std::size_t slice) {
  auto offset = std::make_shared<std::size_t>(0);
  auto text = std::make_shared<std::string>(std::move(body));
  return [=](char* buffer, std::size_t capacity) {
    const auto n = std::min({capacity, slice, text->size() - *offset});
    std::memcpy(buffer, text->data() + *offset, n);
    *offset += n;
    return n;
  };
}

std::string read_all(MultipartReader& reader, std::size_t capacity) {
  std::string out;
  std::string buffer(capacity, '\0');
  while (const auto n = reader.read(buffer.data(), capacity)) out.append(buffer.data(), n);
  return out;
}

/// What `curl -F job=acme -F file=@feed.csv -F note=x` sends.
std::string curl_form(const std::string& file_content) {
  return kDelimiter + "\r\n" +
         "Content-Disposition: form-data; name=\"job\"\r\n\r\n"
         "acme\r\n" +
         kDelimiter + "\r\n" +
         "Content-Disposition: form-data; name=\"file\"; filename=\"feed.csv\"\r\n"
         "Content-Type: text/csv\r\n\r\n" +
         file_content + "\r\n" +
         kDelimiter + "\r\n" +
         "Content-Disposition: form-data; name=\"note\"\r\n\r\n"
         "x\r\n" +
         kDelimiter + "--\r\n";
}

// Content that looks like a boundary but is not one: a delimiter prefix
// cut short, and a CRLF-dash-dash line.
const std::string kTrickyCsv = "sku,name\r\nA-1,\"multi\r\nline\"\r\n--" + kDelimiter.substr(0, 20) +
                               "\r\n\r\n--\r\nB-2,last row without newline";

TEST(MultipartReader, StreamsTheFilePartByteForByteWhateverTheReadSizes) {
  for (const std::size_t slice : {1, 3, 17, 4096, 1 << 20}) {
    for (const std::size_t capacity : {1, 5, 64, 65536}) {
      MultipartReader reader(kType, slices_of(curl_form(kTrickyCsv), slice));
      const auto part = reader.open("file");
      EXPECT_EQ(part.file_name, "feed.csv");
      EXPECT_EQ(part.content_type, "text/csv");
      EXPECT_EQ(read_all(reader, capacity), kTrickyCsv) << "slice " << slice << " capacity " << capacity;
    }
  }
}

TEST(MultipartReader, LargeBinaryPartSurvivesIntact) {
  std::mt19937 rng(7);
  std::string content(3 << 20, '\0');
  for (auto& c : content) c = static_cast<char>(rng() & 0xff);
  // A delimiter wrong only in its last byte, inside the data.
  content.replace(1000, 2 + kDelimiter.size(), "\r\n" + kDelimiter.substr(0, kDelimiter.size() - 1) + "X");
  MultipartReader reader(kType, slices_of(curl_form(content), 8191));
  reader.open("file");
  EXPECT_EQ(read_all(reader, 1 << 20), content);
}

TEST(MultipartReader, EmptyFilePartAndQuotedBoundaryAndPreamble) {
  const std::string body = "preamble to ignore\r\n--b;1\r\n"
                           "content-disposition: form-data; filename=\"a;b.csv\"; name=file\r\n\r\n"
                           "\r\n--b;1--";
  MultipartReader reader("multipart/form-data; boundary=\"b;1\"", slices_of(body, 2));
  const auto part = reader.open("file");
  EXPECT_EQ(part.file_name, "a;b.csv");
  EXPECT_EQ(part.content_type, "");
  EXPECT_EQ(read_all(reader, 10), "");
}

TEST(MultipartReader, MissingFilePartNamesTheField) {
  const std::string body = kDelimiter + "\r\nContent-Disposition: form-data; name=\"upload\"; filename=\"f.csv\"\r\n\r\n"
                           "sku\r\n" + kDelimiter + "--\r\n";
  MultipartReader reader(kType, slices_of(body, 100));
  try {
    reader.open("file");
    FAIL() << "no error";
  } catch (const ValidationError& e) {
    EXPECT_EQ(e.field(), "file");
    EXPECT_NE(std::string(e.what()).find("no part named 'file'"), std::string::npos) << e.what();
  }
}

TEST(MultipartReader, TruncatedBodyIsAnErrorNotAShortFile) {
  const auto full = curl_form("sku,name\r\nA,1\r\n");
  for (const std::string& cut : {full.substr(0, full.find("A,1") + 2),          // inside the file
                                  full.substr(0, full.rfind(kDelimiter)),  // before the last parts
                                  full.substr(0, full.size() - 4)}) {            // the closing "--" missing
    MultipartReader reader(kType, slices_of(cut, 7));
    reader.open("file");
    EXPECT_THROW(read_all(reader, 64), BadRequest) << cut;
  }
  MultipartReader headers_cut(kType, slices_of(full.substr(0, 40), 7));
  EXPECT_THROW(headers_cut.open("file"), BadRequest);
}

TEST(MultipartReader, MalformedBoundariesAreRefused) {
  EXPECT_THROW(MultipartReader("multipart/form-data", slices_of("", 1)), BadRequest);
  EXPECT_THROW(MultipartReader("multipart/form-data; boundary=", slices_of("", 1)), BadRequest);
  EXPECT_THROW(MultipartReader("multipart/form-data; boundary=" + std::string(71, 'x'), slices_of("", 1)), BadRequest);

  MultipartReader garbage_after_boundary(kType, slices_of(kDelimiter + "junk\r\n\r\n", 5));
  EXPECT_THROW(garbage_after_boundary.open("file"), BadRequest);

  MultipartReader endless_headers(kType, slices_of(kDelimiter + "\r\nX: " + std::string(40000, 'y'), 4096));
  EXPECT_THROW(endless_headers.open("file"), BadRequest);
}

TEST(HeaderParam, QuotedTokenAndCaseInsensitiveNames) {
  const std::string cd = R"(form-data; NAME="file"; filename="C:\\feeds\\my \"best\" feed.csv")";
  EXPECT_EQ(header_param(cd, "name"), "file");
  EXPECT_EQ(header_param(cd, "filename"), R"(C:\feeds\my "best" feed.csv)");
  EXPECT_EQ(header_param("attachment; filename=feed.csv.gz", "filename"), "feed.csv.gz");
  EXPECT_EQ(header_param("attachment; filename=feed.csv.gz", "name"), std::nullopt);
  EXPECT_EQ(header_param("attachment", "filename"), std::nullopt);
}

}  // namespace
}  // namespace catalog::http
