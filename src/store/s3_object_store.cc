// S3ObjectStore and its streams; the HTTP layer is S3Client (s3_client.h).
//
// Memory: a read stream holds one chunk (read_chunk_size), a write stream one
// part (part_size), a listing one page per request; no operation holds a
// whole object.
#include "store/s3_object_store.h"

#include <curl/curl.h>
#include <openssl/evp.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "store/internal/s3_xml.h"
#include "store/s3_client.h"

namespace sluice {

namespace {

// S3's limit on parts per upload.
constexpr int kMaxParts = 10000;
// Keys per DeleteObjects request (S3's limit).
constexpr size_t kDeleteBatch = 1000;

// Keys follow the local store's rules (relative, no "." / ".." or empty
// components), and carry no control characters, which an XML listing could
// not give back.
Status ValidateS3Key(std::string_view key, bool is_prefix) {
  const char* what = is_prefix ? "prefix" : "key";
  if (!is_prefix && key.empty()) return Status::InvalidArgument("object key is empty");
  if (key.starts_with('/')) {
    return Status::InvalidArgument(std::string("object ") + what + " '" + std::string(key) +
                                   "' is absolute; keys are relative to the store root");
  }
  for (unsigned char c : key) {
    if (c < 0x20 || c == 0x7F) {
      return Status::InvalidArgument(std::string("object ") + what +
                                     " contains a control character");
    }
  }
  size_t start = 0;
  while (start <= key.size()) {
    size_t end = key.find('/', start);
    if (end == std::string_view::npos) end = key.size();
    std::string_view comp = key.substr(start, end - start);
    const bool last = end == key.size();
    if (comp == "." || comp == ".." || (comp.empty() && !(is_prefix && last))) {
      return Status::InvalidArgument(std::string("object ") + what + " '" + std::string(key) +
                                     "' has an empty, '.' or '..' path component");
    }
    start = end + 1;
  }
  return Status::OK();
}

// The rate-limit key of a store key: its first path component.
std::string RateKey(std::string_view key) { return std::string(key.substr(0, key.find('/'))); }

std::string StripQuotes(std::string s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') return s.substr(1, s.size() - 2);
  return s;
}

// "2024-01-02T03:04:05.678Z" -> microseconds since the epoch (0 if malformed).
int64_t ParseIso8601Us(std::string_view s) {
  struct tm tm {};
  int year = 0, mon = 0, day = 0, hour = 0, min = 0, sec = 0;
  if (s.size() < 19 || std::sscanf(std::string(s.substr(0, 19)).c_str(), "%4d-%2d-%2dT%2d:%2d:%2d",
                                   &year, &mon, &day, &hour, &min, &sec) != 6) {
    return 0;
  }
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  int64_t us = static_cast<int64_t>(timegm(&tm)) * 1'000'000;
  if (s.size() > 20 && s[19] == '.') {
    int64_t scale = 100'000;
    for (size_t i = 20; i < s.size() && s[i] >= '0' && s[i] <= '9' && scale > 0; ++i) {
      us += (s[i] - '0') * scale;
      scale /= 10;
    }
  }
  return us;
}

// RFC 7231 date (Last-Modified) -> microseconds since the epoch (0 if malformed).
int64_t ParseHttpDateUs(const std::string& s) {
  const time_t t = curl_getdate(s.c_str(), nullptr);
  return t < 0 ? 0 : static_cast<int64_t>(t) * 1'000'000;
}

std::string Base64Md5(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_md5(), nullptr);
  unsigned char out[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
  const int n = EVP_EncodeBlock(out, md, static_cast<int>(len));
  return std::string(reinterpret_cast<char*>(out), static_cast<size_t>(n));
}

std::string RangeHeader(int64_t first, int64_t last) {
  return "Range: bytes=" + std::to_string(first) + "-" + std::to_string(last);
}

// Reads [offset, offset + n) of an object into `buf` with one ranged GET;
// returns the bytes received (fewer than n only if the object is shorter).
// A server that ignores Range (200 with the whole object) is read past the
// first `offset` bytes and cut after n: memory stays `buf`.
Result<size_t> ReadRange(S3Client& client, const std::string& full_key, const std::string& etag,
                         int64_t total, int64_t offset, size_t n, char* buf,
                         std::string_view what) {
  S3Request req;
  req.key = full_key;
  req.headers.push_back(RangeHeader(offset, offset + static_cast<int64_t>(n) - 1));
  // The object must not change between the chunks of one read.
  if (!etag.empty()) req.headers.push_back("If-Match: \"" + etag + "\"");
  req.no_timeout = true;
  size_t got = 0;
  int64_t skip = 0;
  req.on_attempt = [&] {
    got = 0;
    skip = -1;
  };
  req.on_data = [&](long status, const char* data, size_t len) {
    if (skip < 0) skip = status == 206 ? 0 : offset;
    if (skip > 0) {
      const size_t s = static_cast<size_t>(std::min<int64_t>(skip, static_cast<int64_t>(len)));
      skip -= static_cast<int64_t>(s);
      data += s;
      len -= s;
    }
    const size_t take = std::min(len, n - got);
    std::memcpy(buf + got, data, take);
    got += take;
    return got < n;
  };
  ASSIGN_OR_RETURN(S3Response resp, client.Execute(req, what));
  // A server that ignores If-Match (s3rver does) still names the version it
  // sent: bytes of another version are never returned as this one's.
  if (!etag.empty()) {
    const std::string sent = StripQuotes(resp.Header("etag"));
    if (!sent.empty() && sent != etag) {
      return Status::Unavailable(client.Where(full_key) + " " + std::string(what) +
                                 ": the object changed while it was read (ETag " + sent +
                                 ", expected " + etag + ")");
    }
  }
  // Nor of another size ("bytes first-last/total"): a server that shows an
  // object while its upload is still being written (s3rver) keeps the final
  // ETag on a shorter file.
  if (const std::string range = resp.Header("content-range"); total >= 0 && !range.empty()) {
    const size_t slash = range.rfind('/');
    if (slash != std::string::npos && range.compare(slash + 1, std::string::npos, "*") != 0) {
      const int64_t sent_total = std::strtoll(range.c_str() + slash + 1, nullptr, 10);
      if (sent_total != total) {
        return Status::Unavailable(client.Where(full_key) + " " + std::string(what) +
                                   ": the object changed while it was read (" +
                                   std::to_string(sent_total) + " bytes, expected " +
                                   std::to_string(total) + ")");
      }
    }
  }
  return got;
}

class S3RandomAccessFile final : public RandomAccessFile {
 public:
  S3RandomAccessFile(std::shared_ptr<S3Client> client, std::string full_key, int64_t size,
                     std::string etag)
      : client_(std::move(client)),
        full_key_(std::move(full_key)),
        size_(size),
        etag_(std::move(etag)),
        name_(client_->Where(full_key_)) {}

  Status ReadAt(int64_t offset, size_t n, char* buf) const override {
    if (offset < 0 || offset > size_ || static_cast<int64_t>(n) > size_ - offset) {
      return Status::DataLoss("read " + name_ + ": bytes " + std::to_string(offset) + ".." +
                              std::to_string(offset + static_cast<int64_t>(n)) +
                              " are past the end of the object (" + std::to_string(size_) +
                              " bytes)");
    }
    if (n == 0) return Status::OK();
    ASSIGN_OR_RETURN(size_t got,
                     ReadRange(*client_, full_key_, etag_, size_, offset, n, buf, "read"));
    if (got != n) {
      return Status::DataLoss("read " + name_ + ": got " + std::to_string(got) + " of " +
                              std::to_string(n) + " bytes at offset " + std::to_string(offset));
    }
    return Status::OK();
  }
  int64_t size() const override { return size_; }
  const std::string& name() const override { return name_; }

 private:
  const std::shared_ptr<S3Client> client_;
  const std::string full_key_;
  const int64_t size_;
  const std::string etag_;
  const std::string name_;
};

// Reads an object front to back in ranged GETs of at most one chunk.
class S3InputStream final : public InputStream {
 public:
  S3InputStream(std::shared_ptr<S3Client> client, std::string full_key, int64_t size,
                std::string etag)
      : client_(std::move(client)),
        full_key_(std::move(full_key)),
        size_(size),
        etag_(std::move(etag)),
        name_(client_->Where(full_key_)),
        capacity_(static_cast<size_t>(std::min<int64_t>(client_->config().read_chunk_size, size))) {
  }

  Result<size_t> Read(char* buf, size_t n) override {
    if (pos_ == fill_) {
      if (offset_ >= size_ || n == 0) return size_t{0};
      RETURN_IF_ERROR(Refill());
    }
    const size_t take = std::min(n, fill_ - pos_);
    std::memcpy(buf, buffer_.get() + pos_, take);
    pos_ += take;
    consumed_ += static_cast<int64_t>(take);
    return take;
  }
  const std::string& name() const override { return name_; }
  int64_t SizeHint() const override { return size_; }
  int64_t BytesConsumed() const override { return consumed_; }
  Result<std::unique_ptr<RandomAccessFile>> OpenRandomAccess() override {
    return std::unique_ptr<RandomAccessFile>(
        std::make_unique<S3RandomAccessFile>(client_, full_key_, size_, etag_));
  }

 private:
  Status Refill() {
    if (!buffer_) buffer_ = std::make_unique<char[]>(capacity_);
    const size_t want = static_cast<size_t>(std::min<int64_t>(capacity_, size_ - offset_));
    ASSIGN_OR_RETURN(size_t got, ReadRange(*client_, full_key_, etag_, size_, offset_, want,
                                           buffer_.get(), "read"));
    if (got != want) {
      return Status::DataLoss("read " + name_ + ": the object ended at byte " +
                              std::to_string(offset_ + static_cast<int64_t>(got)) +
                              ", before its size " + std::to_string(size_));
    }
    pos_ = 0;
    fill_ = got;
    offset_ += static_cast<int64_t>(got);
    if (client_->config().TEST_on_read_buffer) client_->config().TEST_on_read_buffer(fill_);
    return Status::OK();
  }

  const std::shared_ptr<S3Client> client_;
  const std::string full_key_;
  const int64_t size_;
  const std::string etag_;
  const std::string name_;
  const size_t capacity_;
  std::unique_ptr<char[]> buffer_;
  size_t pos_ = 0;      // next byte of buffer_ to hand out
  size_t fill_ = 0;     // bytes in buffer_
  int64_t offset_ = 0;  // object offset after buffer_'s last byte
  int64_t consumed_ = 0;
};

// Buffers one part; a single PUT at Close for a small object, a multipart
// upload once the data passes one part.
class S3OutputStream final : public OutputStream {
 public:
  S3OutputStream(std::shared_ptr<S3Client> client, std::string full_key, std::string rate_key)
      : client_(std::move(client)),
        full_key_(std::move(full_key)),
        rate_key_(std::move(rate_key)),
        part_size_(static_cast<size_t>(client_->config().part_size)) {}

  ~S3OutputStream() override {
    if (!done_) Abort();
  }

  Status Write(const void* data, size_t n) override {
    if (done_) return Status::FailedPrecondition("write " + Where() + ": the stream is closed");
    if (!failed_.ok()) return failed_;
    const char* p = static_cast<const char*>(data);
    while (n > 0) {
      const size_t take = std::min(n, part_size_ - buffer_.size());
      if (buffer_.size() + take > buffer_.capacity()) {
        // Grow geometrically but never past one part.
        buffer_.reserve(
            std::min(part_size_, std::max(buffer_.size() + take, 2 * buffer_.capacity())));
      }
      buffer_.append(p, take);
      p += take;
      n -= take;
      tell_ += static_cast<int64_t>(take);
      if (buffer_.size() == part_size_) {
        if (Status st = UploadPart(); !st.ok()) return Fail(st);
      }
    }
    return Status::OK();
  }

  int64_t Tell() const override { return tell_; }

  Status Close() override {
    if (done_) return Status::FailedPrecondition("close " + Where() + ": the stream is closed");
    if (!failed_.ok()) {
      Abort();
      return failed_;
    }
    Status st;
    if (upload_id_.empty()) {
      S3Request req;
      req.method = "PUT";
      req.key = full_key_;
      req.body = buffer_;
      req.is_write = true;
      req.rate_key = rate_key_;
      st = client_->Execute(req, "write").status();
    } else {
      if (!buffer_.empty()) st = UploadPart();
      if (st.ok()) st = Complete();
    }
    if (!st.ok()) {
      Abort();
      return st;
    }
    done_ = true;
    std::string().swap(buffer_);
    return Status::OK();
  }

  void Abort() override {
    done_ = true;
    std::string().swap(buffer_);
    if (upload_id_.empty()) return;
    S3Request req;
    req.method = "DELETE";
    req.key = full_key_;
    req.query = {{"uploadId", upload_id_}};
    req.is_write = true;
    req.rate_key = rate_key_;
    // Best effort: a server without AbortMultipartUpload (s3rver answers 405)
    // keeps the parts, which AbortStaleS3Uploads or a bucket lifecycle rule
    // removes on real S3; the object itself never appears.
    client_->Execute(req, "abort upload").status().IgnoreError();
    upload_id_.clear();
  }

 private:
  std::string Where() const { return client_->Where(full_key_); }

  Status Fail(const Status& st) {
    failed_ = st;
    return st;
  }

  Status Initiate() {
    S3Request req;
    req.method = "POST";
    req.key = full_key_;
    req.query = {{"uploads", ""}};
    req.is_write = true;
    req.rate_key = rate_key_;
    ASSIGN_OR_RETURN(S3Response resp, client_->Execute(req, "start upload"));
    upload_id_ = internal::XmlText(resp.body, "UploadId");
    if (upload_id_.empty()) {
      return Status::IOError("S3 start upload " + Where() + ": the answer has no UploadId");
    }
    return Status::OK();
  }

  Status UploadPart() {
    if (upload_id_.empty()) RETURN_IF_ERROR(Initiate());
    const int number = static_cast<int>(etags_.size()) + 1;
    if (number > kMaxParts) {
      return Status::InvalidArgument("write " + Where() + ": more than " +
                                     std::to_string(kMaxParts) + " parts of " +
                                     std::to_string(part_size_) + " bytes; raise part_size");
    }
    S3Request req;
    req.method = "PUT";
    req.key = full_key_;
    req.query = {{"partNumber", std::to_string(number)}, {"uploadId", upload_id_}};
    req.body = buffer_;  // kept until the part is stored, so a retry resends it
    req.is_write = true;
    req.rate_key = rate_key_;
    ASSIGN_OR_RETURN(S3Response resp,
                     client_->Execute(req, "write part " + std::to_string(number) + " of"));
    std::string etag = resp.Header("etag");
    if (etag.empty()) {
      return Status::IOError("S3 write part " + std::to_string(number) + " of " + Where() +
                             ": the answer has no ETag");
    }
    etags_.push_back(std::move(etag));
    buffer_.clear();
    return Status::OK();
  }

  Status Complete() {
    std::string xml = "<CompleteMultipartUpload>";
    for (size_t i = 0; i < etags_.size(); ++i) {
      xml += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" +
             internal::XmlEscape(etags_[i]) + "</ETag></Part>";
    }
    xml += "</CompleteMultipartUpload>";
    S3Request req;
    req.method = "POST";
    req.key = full_key_;
    req.query = {{"uploadId", upload_id_}};
    req.headers = {"Content-Type: application/xml"};
    req.body = xml;
    req.is_write = true;
    req.rate_key = rate_key_;
    ASSIGN_OR_RETURN(S3Response resp, client_->Execute(req, "complete upload of"));
    // S3 may answer 200 and report a failure in the body.
    if (!internal::XmlElements(resp.body, "Error").empty()) {
      const std::string code = internal::XmlText(resp.body, "Code");
      const std::string msg = "S3 complete upload of " + Where() + ": " + code + ": " +
                              internal::XmlText(resp.body, "Message");
      return code == "InternalError" || code == "SlowDown" ? Status::Unavailable(msg)
                                                           : Status::IOError(msg);
    }
    upload_id_.clear();  // nothing left to abort
    return Status::OK();
  }

  const std::shared_ptr<S3Client> client_;
  const std::string full_key_;
  const std::string rate_key_;
  const size_t part_size_;
  std::string buffer_;
  std::string upload_id_;
  std::vector<std::string> etags_;
  int64_t tell_ = 0;
  bool done_ = false;
  Status failed_;
};

class S3ObjectStore final : public ObjectStore {
 public:
  explicit S3ObjectStore(std::shared_ptr<S3Client> client) : client_(std::move(client)) {}

  Result<std::vector<ObjectInfo>> List(const std::string& prefix) override {
    std::vector<ObjectInfo> out;
    std::string token;
    do {
      ASSIGN_OR_RETURN(bool truncated, ListOnePage(prefix, "", token,
                                                   client_->config().list_page_size, out, &token));
      if (!truncated) break;
    } while (!token.empty());
    std::sort(out.begin(), out.end(),
              [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
    return out;
  }

  Result<ListPage> ListAfter(const std::string& prefix, const std::string& start_after,
                             size_t max_keys) override {
    if (max_keys == 0) return Status::InvalidArgument("list: max_keys must be at least 1");
    ListPage page;
    std::string token;
    while (page.objects.size() < max_keys) {
      const int want = static_cast<int>(std::min<size_t>(
          max_keys - page.objects.size(), static_cast<size_t>(client_->config().list_page_size)));
      ASSIGN_OR_RETURN(page.truncated, ListOnePage(prefix, token.empty() ? start_after : "", token,
                                                   want, page.objects, &token));
      if (!page.truncated || token.empty()) break;
    }
    return page;
  }

  Result<ObjectInfo> Stat(const std::string& key) override {
    RETURN_IF_ERROR(ValidateS3Key(key, false));
    S3Request req;
    req.method = "HEAD";
    req.key = client_->FullKey(key);
    ASSIGN_OR_RETURN(S3Response resp, client_->Execute(req, "stat"));
    ObjectInfo info;
    info.key = key;
    info.size = std::strtoll(resp.Header("content-length").c_str(), nullptr, 10);
    info.mtime_us = ParseHttpDateUs(resp.Header("last-modified"));
    // Last-Modified is set by the server at upload; no writer can choose it.
    info.change_us = info.mtime_us;
    info.etag = StripQuotes(resp.Header("etag"));
    return info;
  }

  Result<std::unique_ptr<InputStream>> OpenRead(const std::string& key) override {
    ASSIGN_OR_RETURN(ObjectInfo info, Stat(key));
    return std::unique_ptr<InputStream>(
        std::make_unique<S3InputStream>(client_, client_->FullKey(key), info.size, info.etag));
  }

  Result<std::unique_ptr<InputStream>> OpenReadVersion(const ObjectInfo& info) override {
    // Every ranged GET carries If-Match: the stream is this version or fails.
    if (info.etag.empty() || info.size < 0) return OpenRead(info.key);
    RETURN_IF_ERROR(ValidateS3Key(info.key, false));
    return std::unique_ptr<InputStream>(
        std::make_unique<S3InputStream>(client_, client_->FullKey(info.key), info.size, info.etag));
  }

  Result<std::unique_ptr<OutputStream>> OpenWrite(const std::string& key) override {
    RETURN_IF_ERROR(ValidateS3Key(key, false));
    return std::unique_ptr<OutputStream>(
        std::make_unique<S3OutputStream>(client_, client_->FullKey(key), RateKey(key)));
  }

  Status Rename(const std::string& from, const std::string& to) override {
    return Status::Unimplemented("the S3 store has no rename; '" + from + "' was not moved to '" +
                                 to + "' in " + Describe() +
                                 " (write objects under their final key instead)");
  }

  bool AtomicRename() const override { return false; }

  Status Delete(const std::string& key) override {
    RETURN_IF_ERROR(ValidateS3Key(key, false));
    S3Request req;
    req.method = "DELETE";
    req.key = client_->FullKey(key);
    req.is_write = true;
    req.rate_key = RateKey(key);
    Result<S3Response> resp = client_->Execute(req, "delete");
    if (!resp.ok() && resp.status().code() != StatusCode::kNotFound) return resp.status();
    return Status::OK();
  }

  Status DeletePrefix(const std::string& prefix) override {
    if (prefix.empty()) {
      return Status::InvalidArgument("delete prefix: refusing to delete every object in " +
                                     Describe());
    }
    std::string after;
    while (true) {
      ASSIGN_OR_RETURN(ListPage page, ListAfter(prefix, after, kDeleteBatch));
      if (page.objects.empty()) return Status::OK();
      RETURN_IF_ERROR(DeleteBatch(page.objects));
      if (!page.truncated) return Status::OK();
      after = page.objects.back().key;
    }
  }

  std::string LocalPath(const std::string& key) const override {
    (void)key;
    return "";
  }

  std::string Locate(const std::string& key) const override {
    const S3StoreConfig& c = client_->config();
    return "s3://" + c.bucket + "/" + (c.prefix.empty() ? "" : c.prefix + "/") + key;
  }
  std::string Describe() const override {
    const S3StoreConfig& c = client_->config();
    return "s3://" + c.bucket + "/" + c.prefix + " (" + c.endpoint + ")";
  }

 private:
  // One ListObjectsV2 request; appends the objects (keys relative to the
  // store prefix) and returns IsTruncated, with the next token in *next.
  Result<bool> ListOnePage(const std::string& prefix, const std::string& start_after,
                           const std::string& token, int max_keys, std::vector<ObjectInfo>& out,
                           std::string* next) {
    RETURN_IF_ERROR(ValidateS3Key(prefix, true));
    if (!start_after.empty()) RETURN_IF_ERROR(ValidateS3Key(start_after, true));
    const std::string root = client_->FullKey("");
    S3Request req;
    req.query = {
        {"list-type", "2"}, {"max-keys", std::to_string(max_keys)}, {"prefix", root + prefix}};
    if (!token.empty()) req.query.emplace_back("continuation-token", token);
    if (!start_after.empty()) req.query.emplace_back("start-after", root + start_after);
    ASSIGN_OR_RETURN(S3Response resp, client_->Execute(req, "list " + prefix + " in"));
    for (std::string_view contents : internal::XmlElements(resp.body, "Contents")) {
      std::string key = internal::XmlText(contents, "Key");
      if (!key.starts_with(root)) continue;
      ObjectInfo info;
      info.key = key.substr(root.size());
      info.size = std::strtoll(internal::XmlText(contents, "Size").c_str(), nullptr, 10);
      info.mtime_us = ParseIso8601Us(internal::XmlText(contents, "LastModified"));
      info.change_us = info.mtime_us;
      info.etag = StripQuotes(internal::XmlText(contents, "ETag"));
      out.push_back(std::move(info));
    }
    const bool truncated = internal::XmlText(resp.body, "IsTruncated") == "true";
    *next = truncated ? internal::XmlText(resp.body, "NextContinuationToken") : "";
    if (truncated && next->empty()) {
      return Status::IOError("S3 list " + prefix + " in " + Describe() +
                             ": a truncated page without NextContinuationToken");
    }
    return truncated;
  }

  // DeleteObjects for up to 1000 keys; one DELETE each where the server
  // lacks it.
  Status DeleteBatch(const std::vector<ObjectInfo>& objects) {
    if (!no_batch_delete_.load()) {
      std::string xml = "<Delete><Quiet>true</Quiet>";
      for (const ObjectInfo& o : objects) {
        xml += "<Object><Key>" + internal::XmlEscape(client_->FullKey(o.key)) + "</Key></Object>";
      }
      xml += "</Delete>";
      S3Request req;
      req.method = "POST";
      req.query = {{"delete", ""}};
      req.headers = {"Content-Type: application/xml", "Content-MD5: " + Base64Md5(xml)};
      req.body = xml;
      req.is_write = true;
      req.rate_key = RateKey(objects.front().key);
      Result<S3Response> resp = client_->Execute(req, "delete objects in");
      if (resp.ok()) {
        std::vector<std::string_view> errors = internal::XmlElements(resp->body, "Error");
        if (errors.empty()) return Status::OK();
        return Status::IOError("S3 delete " + client_->Where(internal::XmlText(errors[0], "Key")) +
                               ": " + internal::XmlText(errors[0], "Code") + ": " +
                               internal::XmlText(errors[0], "Message") + " (" +
                               std::to_string(errors.size()) + " of " +
                               std::to_string(objects.size()) + " keys not deleted)");
      }
      if (resp.status().code() != StatusCode::kUnimplemented &&
          resp.status().message().find("HTTP 405") == std::string::npos) {
        return resp.status();
      }
      no_batch_delete_.store(true);
    }
    for (const ObjectInfo& o : objects) RETURN_IF_ERROR(Delete(o.key));
    return Status::OK();
  }

  const std::shared_ptr<S3Client> client_;
  std::atomic<bool> no_batch_delete_{false};
};

}  // namespace

Result<std::unique_ptr<ObjectStore>> NewS3ObjectStore(const S3StoreConfig& config) {
  ASSIGN_OR_RETURN(S3StoreConfig resolved, ResolveS3Config(config));
  RETURN_IF_ERROR(resolved.Validate());
  return std::unique_ptr<ObjectStore>(
      std::make_unique<S3ObjectStore>(std::make_shared<S3Client>(std::move(resolved))));
}

Result<int> AbortStaleS3Uploads(const S3StoreConfig& config, int64_t older_than_us) {
  ASSIGN_OR_RETURN(S3StoreConfig resolved, ResolveS3Config(config));
  RETURN_IF_ERROR(resolved.Validate());
  S3Client client(std::move(resolved));
  const int64_t cutoff = NowMicros() - older_than_us;
  const std::string root = client.FullKey("");
  std::string key_marker, id_marker;
  int aborted = 0;
  while (true) {
    S3Request req;
    req.query = {{"uploads", ""}, {"prefix", root}};
    if (!key_marker.empty()) {
      req.query.emplace_back("key-marker", key_marker);
      req.query.emplace_back("upload-id-marker", id_marker);
    }
    ASSIGN_OR_RETURN(S3Response resp, client.Execute(req, "ListMultipartUploads in"));
    if (resp.body.find("ListMultipartUploadsResult") == std::string::npos) {
      return Status::Unimplemented("S3 list multipart uploads in s3://" + client.config().bucket +
                                   ": the server at " + client.config().endpoint +
                                   " does not implement ListMultipartUploads");
    }
    for (std::string_view upload : internal::XmlElements(resp.body, "Upload")) {
      if (ParseIso8601Us(internal::XmlText(upload, "Initiated")) > cutoff) continue;
      S3Request del;
      del.method = "DELETE";
      del.key = internal::XmlText(upload, "Key");
      del.query = {{"uploadId", internal::XmlText(upload, "UploadId")}};
      del.is_write = true;
      del.rate_key =
          RateKey(std::string_view(del.key).substr(std::min(root.size(), del.key.size())));
      Result<S3Response> r = client.Execute(del, "abort upload");
      // Completed or aborted meanwhile: gone either way.
      if (!r.ok() && r.status().code() != StatusCode::kNotFound) return r.status();
      ++aborted;
    }
    if (internal::XmlText(resp.body, "IsTruncated") != "true") break;
    key_marker = internal::XmlText(resp.body, "NextKeyMarker");
    id_marker = internal::XmlText(resp.body, "NextUploadIdMarker");
    if (key_marker.empty()) break;
  }
  return aborted;
}

}  // namespace sluice
