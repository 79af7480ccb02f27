// The S3 store's HTTP layer against a scripted local server: canonical
// encoding, retries with backoff (503 SlowDown, 500, connection refused),
// what is never retried (403, 404), abort of a failed multipart upload,
// secrets kept out of messages, and the signatures curl computes checked
// against botocore (tests/tools/sigv4_expected.py) as an independent oracle.
#include "store/s3_client.h"

#include <gtest/gtest.h>
#include <stdio.h>
#include <sys/wait.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>

#include "core/hash.h"
#include "fake_http_server.h"
#include "s3_test_util.h"
#include "store/s3_object_store.h"

namespace sluice {
namespace {

using s3test::FakeHttpServer;
using s3test::HttpRequest;
using s3test::HttpResponse;

constexpr const char* kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYSECRETKEY";
constexpr const char* kToken = "FwoGZXIvYXdzSESSIONTOKEN//+/=";

HttpResponse S3Error(int status, const std::string& code, const std::string& message) {
  HttpResponse r;
  r.status = status;
  r.body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + code + "</Code><Message>" +
           message + "</Message><RequestId>1</RequestId></Error>";
  r.headers = {{"Content-Type", "application/xml"}};
  return r;
}

struct Sleeps {
  std::mutex mu;
  std::vector<int64_t> us;
};

S3StoreConfig FakeConfig(const FakeHttpServer& server, Sleeps* sleeps) {
  S3StoreConfig c;
  c.endpoint = server.endpoint();
  c.bucket = "test-bucket";
  c.prefix = "pre";
  c.region = "eu-central-1";
  c.access_key = "AKIDEXAMPLE";
  c.secret_key = kSecret;
  c.session_token = kToken;
  c.max_retries = 4;
  c.retry_base_delay_ms = 100;
  c.retry_max_delay_ms = 1000;
  if (sleeps != nullptr) {
    c.TEST_sleep_us = [sleeps](int64_t us) {
      std::lock_guard lock(sleeps->mu);
      sleeps->us.push_back(us);
    };
  }
  return c;
}

std::unique_ptr<ObjectStore> MustStore(const S3StoreConfig& c) {
  auto s = NewS3ObjectStore(c);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(*s) : nullptr;
}

void ExpectNoSecrets(const std::string& text) {
  EXPECT_EQ(text.find(kSecret), std::string::npos) << text;
  EXPECT_EQ(text.find(kToken), std::string::npos) << text;
  EXPECT_EQ(text.find("SECRETKEY"), std::string::npos) << text;
}

TEST(S3ClientTest, UriEncoding) {
  EXPECT_EQ(S3UriEncode("AZaz09-_.~", false), "AZaz09-_.~");
  EXPECT_EQ(S3UriEncode("a b+c=d&e/f", false), "a%20b%2Bc%3Dd%26e%2Ff");
  EXPECT_EQ(S3UriEncode("a b/c", true), "a%20b/c");
  EXPECT_EQ(S3UriEncode("é*", false), "%C3%A9%2A");
  EXPECT_EQ(S3CanonicalQuery({{"prefix", "a/b c"}, {"list-type", "2"}, {"uploads", ""}}),
            "list-type=2&prefix=a%2Fb%20c&uploads=");
  // Sorted by encoded name: "max-keys" < "prefix" < "start-after".
  EXPECT_EQ(S3CanonicalQuery({{"start-after", "x"}, {"prefix", ""}, {"max-keys", "3"}}),
            "max-keys=3&prefix=&start-after=x");
}

TEST(S3ClientTest, UrlStyles) {
  S3StoreConfig c;
  c.endpoint = "http://127.0.0.1:9000";
  c.bucket = "bkt";
  c.region = "us-east-1";
  c.access_key = "a";
  c.secret_key = "b";
  c.path_style = true;
  S3Request r;
  r.key = "p/a b+c.csv";
  r.query = {{"uploadId", "x/y"}, {"partNumber", "2"}};
  EXPECT_EQ(S3Client(c).Url(r),
            "http://127.0.0.1:9000/bkt/p/a%20b%2Bc.csv?partNumber=2&uploadId=x%2Fy");
  c.endpoint = "https://s3.eu-west-1.amazonaws.com";
  c.path_style = false;
  r.query.clear();
  EXPECT_EQ(S3Client(c).Url(r), "https://bkt.s3.eu-west-1.amazonaws.com/p/a%20b%2Bc.csv");
}

TEST(S3ClientTest, SlowDownIsRetriedWithBackoffAndTheSameBody) {
  std::atomic<int> puts{0};
  FakeHttpServer server([&](const HttpRequest& r) {
    if (r.method == "PUT" && ++puts <= 3) {
      return S3Error(503, "SlowDown", "Please reduce your request rate.");
    }
    return HttpResponse{};
  });
  Sleeps sleeps;
  auto store = MustStore(FakeConfig(server, &sleeps));
  auto out = store->OpenWrite("lake/x.csv");
  ASSERT_TRUE(out.ok());
  ASSERT_TRUE((*out)->Write("a,b\n1,2\n").ok());
  Status st = (*out)->Close();
  ASSERT_TRUE(st.ok()) << st.ToString();
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 4u);
  for (const auto& r : reqs) {
    EXPECT_EQ(r.method, "PUT");
    EXPECT_EQ(r.path, "/test-bucket/pre/lake/x.csv");
    EXPECT_EQ(r.body, "a,b\n1,2\n");
    EXPECT_EQ(r.Header("x-amz-content-sha256"), Sha256Hex("a,b\n1,2\n"));
    EXPECT_EQ(r.Header("x-amz-security-token"), kToken);
  }
  // Three waits, each within its full-jitter cap: 100, 200, 400 ms.
  ASSERT_EQ(sleeps.us.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_GE(sleeps.us[i], 0);
    EXPECT_LE(sleeps.us[i], (100'000 << i)) << i;
  }
}

TEST(S3ClientTest, ServerErrorsGiveUpAsUnavailable) {
  FakeHttpServer server([](const HttpRequest&) { return S3Error(500, "InternalError", "oops"); });
  Sleeps sleeps;
  S3StoreConfig c = FakeConfig(server, &sleeps);
  c.max_retries = 2;
  auto store = MustStore(c);
  auto r = store->Stat("lake/x");
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().ToString();
  EXPECT_TRUE(r.status().IsRetryable());
  EXPECT_NE(r.status().message().find("gave up after 3 attempts"), std::string::npos);
  EXPECT_NE(r.status().message().find("s3://test-bucket/pre/lake/x"), std::string::npos);
  EXPECT_EQ(server.requests().size(), 3u);
  EXPECT_EQ(sleeps.us.size(), 2u);
  ExpectNoSecrets(r.status().message());
}

TEST(S3ClientTest, ForbiddenAndNotFoundAreNotRetried) {
  FakeHttpServer server([](const HttpRequest& r) {
    if (r.path.find("secret-place") != std::string::npos) {
      return S3Error(403, "AccessDenied", "Access Denied");
    }
    HttpResponse resp = S3Error(404, "NoSuchKey", "The specified key does not exist.");
    return resp;
  });
  Sleeps sleeps;
  auto store = MustStore(FakeConfig(server, &sleeps));
  auto out = store->OpenWrite("lake/secret-place/x");
  ASSERT_TRUE(out.ok());
  Status st = (*out)->Close();
  EXPECT_EQ(st.code(), StatusCode::kIOError) << st.ToString();
  EXPECT_FALSE(st.IsRetryable());
  EXPECT_NE(st.message().find("s3://test-bucket/pre/lake/secret-place/x"), std::string::npos);
  EXPECT_NE(st.message().find("AccessDenied: Access Denied"), std::string::npos) << st.message();
  ExpectNoSecrets(st.message());
  EXPECT_EQ(server.requests().size(), 1u);

  auto in = store->OpenRead("lake/missing");
  EXPECT_EQ(in.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(server.requests().size(), 2u);
  EXPECT_TRUE(sleeps.us.empty());
  ExpectNoSecrets(store->Describe());
}

TEST(S3ClientTest, ConnectionRefusedIsRetriedThenUnavailable) {
  int port = 0;
  {
    FakeHttpServer gone([](const HttpRequest&) { return HttpResponse{}; });
    port = gone.port();
  }
  Sleeps sleeps;
  S3StoreConfig c;
  c.endpoint = "http://127.0.0.1:" + std::to_string(port);
  c.bucket = "test-bucket";
  c.access_key = "AKIDEXAMPLE";
  c.secret_key = kSecret;
  c.session_token = kToken;
  c.max_retries = 2;
  c.TEST_sleep_us = [&](int64_t us) { sleeps.us.push_back(us); };
  auto store = MustStore(c);
  auto r = store->List("lake/");
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().ToString();
  EXPECT_EQ(sleeps.us.size(), 2u);
  ExpectNoSecrets(r.status().message());
}

// A multipart upload whose part is retried after a 503 resends the same
// bytes; a part refused for good aborts the upload (DELETE ?uploadId=).
TEST(S3ClientTest, MultipartRetriesPartsAndAbortsOnFailure) {
  std::mutex mu;
  std::map<std::string, int> part_calls;
  bool refuse_part2 = false;
  FakeHttpServer server([&](const HttpRequest& r) {
    std::lock_guard lock(mu);
    HttpResponse resp;
    if (r.method == "POST" && r.query == "uploads=") {
      resp.body =
          "<InitiateMultipartUploadResult><Bucket>test-bucket</Bucket><Key>k</Key>"
          "<UploadId>up-1</UploadId></InitiateMultipartUploadResult>";
    } else if (r.method == "PUT" && r.query.starts_with("partNumber=")) {
      const int n = ++part_calls[r.query];
      if (r.query.starts_with("partNumber=1&") && n == 1) {
        return S3Error(503, "SlowDown", "slow down");
      }
      if (r.query.starts_with("partNumber=2&") && refuse_part2) {
        return S3Error(403, "AccessDenied", "no");
      }
      resp.headers = {{"ETag", "\"" + Sha256Hex(r.body).substr(0, 32) + "\""}};
    } else if (r.method == "POST") {
      resp.body =
          "<CompleteMultipartUploadResult><ETag>\"x-2\"</ETag></CompleteMultipartUploadResult>";
    } else if (r.method == "DELETE") {
      resp.status = 204;
    }
    return resp;
  });
  Sleeps sleeps;
  S3StoreConfig c = FakeConfig(server, &sleeps);
  c.part_size = 5 << 20;
  auto store = MustStore(c);
  const std::string data = s3test::Pattern((5 << 20) + 10);
  {
    auto out = store->OpenWrite("lake/m.bin");
    ASSERT_TRUE(out.ok());
    ASSERT_TRUE((*out)->Write(data).ok());
    ASSERT_TRUE((*out)->Close().ok());
  }
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 5u);  // initiate, part 1 twice, part 2, complete
  EXPECT_EQ(reqs[1].body, reqs[2].body);
  EXPECT_EQ(reqs[1].body, data.substr(0, 5 << 20));
  EXPECT_EQ(reqs[3].body, data.substr(5 << 20));
  EXPECT_EQ(reqs[4].query, "uploadId=up-1");
  const std::string etag1 = Sha256Hex(reqs[1].body).substr(0, 32);
  EXPECT_NE(reqs[4].body.find("<Part><PartNumber>1</PartNumber><ETag>&quot;" + etag1 +
                              "&quot;</ETag></Part>"),
            std::string::npos)
      << reqs[4].body;

  {
    std::lock_guard lock(mu);
    refuse_part2 = true;
  }
  auto out = store->OpenWrite("lake/m2.bin");
  ASSERT_TRUE(out.ok());
  ASSERT_TRUE((*out)->Write(data).ok());
  Status st = (*out)->Close();
  EXPECT_EQ(st.code(), StatusCode::kIOError) << st.ToString();
  reqs = server.requests();
  EXPECT_EQ(reqs.back().method, "DELETE");
  EXPECT_EQ(reqs.back().path, "/test-bucket/pre/lake/m2.bin");
  EXPECT_EQ(reqs.back().query, "uploadId=up-1");
}

// ---- Signatures: what curl signed must be what botocore computes. ----

std::string RunOracle(const std::string& input) {
  const std::string in_path = std::filesystem::temp_directory_path() /
                              ("sluice-sigv4-" + std::to_string(::getpid()) + ".json");
  std::ofstream(in_path) << input;
  const std::string cmd = std::string("/usr/bin/python3 ") + SLUICE_SOURCE_DIR +
                          "/tests/tools/sigv4_expected.py < " + in_path;
  FILE* p = ::popen(cmd.c_str(), "r");
  std::string out;
  if (p != nullptr) {
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
    int status = ::pclose(p);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "oracle failed: " << out;
  }
  std::filesystem::remove(in_path);
  return out;
}

// The signed headers curl listed in its Authorization header, as received.
nlohmann::json SignedHeaders(const HttpRequest& r) {
  const std::string auth = r.Header("authorization");
  const size_t a = auth.find("SignedHeaders=") + 14;
  const std::string list = auth.substr(a, auth.find(',', a) - a);
  nlohmann::json h = nlohmann::json::object();
  size_t start = 0;
  while (start <= list.size()) {
    size_t end = list.find(';', start);
    if (end == std::string::npos) end = list.size();
    const std::string name = list.substr(start, end - start);
    if (name != "host") h[name] = r.Header(name);
    start = end + 1;
  }
  return h;
}

TEST(S3ClientTest, SignaturesMatchBotocore) {
  const std::string token1 = "tok/en+=?&% ü~";
  const std::string upload_id = "up/load+id= 1~";
  const std::string object = "0123456789";
  FakeHttpServer server([&](const HttpRequest& r) {
    HttpResponse resp;
    if (r.method == "POST" && r.query == "uploads=") {
      resp.body =
          "<InitiateMultipartUploadResult><UploadId>up/load+id= 1~</UploadId>"
          "</InitiateMultipartUploadResult>";
    } else if (r.method == "PUT") {
      resp.headers = {{"ETag", "\"abc\""}};
    } else if (r.method == "POST") {
      resp.body = "<CompleteMultipartUploadResult/>";
    } else if (r.method == "HEAD") {
      resp.headers = {{"Content-Length", "10"},
                      {"ETag", "\"e1\""},
                      {"Last-Modified", "Wed, 21 Oct 2015 07:28:00 GMT"}};
    } else if (r.method == "GET" && r.query.find("list-type=2") != std::string::npos) {
      const bool first = r.query.find("continuation-token") == std::string::npos;
      resp.body =
          std::string("<ListBucketResult><Contents><Key>pre/dir a/ü+=&amp;/k") +
          (first ? "1" : "2") + "</Key><Size>1</Size></Contents><IsTruncated>" +
          (first ? "true" : "false") + "</IsTruncated>" +
          (first ? "<NextContinuationToken>tok/en+=?&amp;% ü~</NextContinuationToken>" : "") +
          "</ListBucketResult>";
    } else if (r.method == "GET") {
      resp.status = 206;
      resp.body = object.substr(3, 5);
    }
    return resp;
  });
  S3StoreConfig c = FakeConfig(server, nullptr);
  c.part_size = 5 << 20;
  c.list_page_size = 1;
  auto store = MustStore(c);
  // A PUT with a query string (multipart: ?partNumber=&uploadId=).
  {
    auto out = store->OpenWrite("lake/dir a/ü+=&/file name~(1).csv");
    ASSERT_TRUE(out.ok());
    ASSERT_TRUE((*out)->Write(s3test::Pattern((5 << 20) + 1)).ok());
    ASSERT_TRUE((*out)->Close().ok());
  }
  // ListObjectsV2 with prefix and start-after, then continuation-token.
  auto page = store->ListAfter("dir a/ü+=&/", "dir a/ü+=&/k0 x", 2);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->objects.size(), 2u);
  EXPECT_EQ(page->objects[0].key, "dir a/ü+=&/k1");
  // A ranged GET.
  {
    auto in = store->OpenRead("lake/r +.bin");
    ASSERT_TRUE(in.ok());
    auto raf = (*in)->OpenRandomAccess();
    ASSERT_TRUE(raf.ok());
    char buf[5];
    ASSERT_TRUE((*raf)->ReadAt(3, 5, buf).ok());
    EXPECT_EQ(std::string(buf, 5), object.substr(3, 5));
  }

  const std::string put_key = "pre/lake/dir a/ü+=&/file name~(1).csv";
  using Params = std::vector<std::pair<std::string, std::string>>;
  struct Expect {
    std::string method, key;
    Params params;
  };
  const std::vector<Expect> expect = {
      {"POST", put_key, {{"uploads", ""}}},
      {"PUT", put_key, {{"partNumber", "1"}, {"uploadId", upload_id}}},
      {"PUT", put_key, {{"partNumber", "2"}, {"uploadId", upload_id}}},
      {"POST", put_key, {{"uploadId", upload_id}}},
      {"GET",
       "",
       {{"list-type", "2"},
        {"max-keys", "1"},
        {"prefix", "pre/dir a/ü+=&/"},
        {"start-after", "pre/dir a/ü+=&/k0 x"}}},
      {"GET",
       "",
       {{"list-type", "2"},
        {"max-keys", "1"},
        {"prefix", "pre/dir a/ü+=&/"},
        {"continuation-token", token1}}},
      {"HEAD", "pre/lake/r +.bin", {}},
      {"GET", "pre/lake/r +.bin", {}},
  };
  const auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), expect.size());
  nlohmann::json in;
  in["access_key"] = "AKIDEXAMPLE";
  in["secret_key"] = kSecret;
  in["session_token"] = kToken;
  in["region"] = "eu-central-1";
  in["requests"] = nlohmann::json::array();
  for (size_t i = 0; i < reqs.size(); ++i) {
    ASSERT_EQ(reqs[i].method, expect[i].method) << i;
    // What curl signed: the payload hash is the body's, the token is there.
    EXPECT_EQ(reqs[i].Header("x-amz-content-sha256"), Sha256Hex(reqs[i].body)) << i;
    nlohmann::json signed_headers = SignedHeaders(reqs[i]);
    EXPECT_TRUE(signed_headers.contains("x-amz-content-sha256")) << i;
    EXPECT_TRUE(signed_headers.contains("x-amz-security-token")) << i;
    EXPECT_TRUE(signed_headers.contains("x-amz-date")) << i;
    nlohmann::json r;
    r["method"] = expect[i].method;
    r["host"] = "127.0.0.1:" + std::to_string(server.port());
    r["bucket"] = "test-bucket";
    r["key"] = expect[i].key;
    r["params"] = nlohmann::json::array();
    for (const auto& [k, v] : expect[i].params) r["params"].push_back({k, v});
    r["headers"] = signed_headers;
    in["requests"].push_back(r);
  }
  EXPECT_EQ(reqs.back().Header("range"), "bytes=3-7");
  const std::string out = RunOracle(in.dump());
  nlohmann::json got = nlohmann::json::parse(out, nullptr, false);
  ASSERT_TRUE(got.is_array()) << out;
  ASSERT_EQ(got.size(), reqs.size());
  for (size_t i = 0; i < reqs.size(); ++i) {
    EXPECT_EQ(reqs[i].path, got[i]["path"].get<std::string>()) << i;
    EXPECT_EQ(reqs[i].query, got[i]["query"].get<std::string>()) << i;
    EXPECT_EQ(reqs[i].Header("authorization"), got[i]["authorization"].get<std::string>())
        << "request " << i << " " << reqs[i].method << " " << reqs[i].path << "?" << reqs[i].query
        << "\nbotocore's canonical request:\n"
        << got[i]["canonical_request"].get<std::string>();
  }
}

}  // namespace
}  // namespace sluice
