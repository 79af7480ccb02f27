// The S3 store against a real S3-compatible server (s3rver, started by
// scripts/test-services.sh), plus awscli as a second client. Without the
// server these tests fail and say how to start it.
#include "store/s3_object_store.h"

#include <gtest/gtest.h>
#include <stdio.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/hash.h"
#include "fake_http_server.h"
#include "s3_test_util.h"

namespace sluice {
namespace {

using s3test::Pattern;
using s3test::TestServerConfig;
using s3test::UniquePrefix;

class S3ObjectStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    config_ = TestServerConfig(UniquePrefix(name));
    ASSERT_FALSE(config_.bucket.empty()) << s3test::kStartServices;
    Reopen();
  }

  void Reopen() {
    auto s = NewS3ObjectStore(config_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }

  void Put(const std::string& key, const std::string& content) {
    auto out = store_->OpenWrite(key);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    ASSERT_TRUE((*out)->Write(content).ok());
    Status st = (*out)->Close();
    ASSERT_TRUE(st.ok()) << st.ToString();
  }

  std::string Get(const std::string& key) {
    auto in = store_->OpenRead(key);
    EXPECT_TRUE(in.ok()) << in.status().ToString();
    if (!in.ok()) return "";
    auto s = ReadAll(**in);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? *s : "";
  }

  std::vector<std::string> Keys(const std::vector<ObjectInfo>& objects) {
    std::vector<std::string> out;
    for (const auto& o : objects) out.push_back(o.key);
    return out;
  }

  // Runs awscli against the test server; returns stdout, and the exit code in *rc.
  std::string Aws(const std::string& args, int* rc) {
    const std::string cmd =
        "AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER "
        "AWS_DEFAULT_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null "
        "/usr/bin/aws --endpoint-url " +
        config_.endpoint + " " + args;
    FILE* p = ::popen(cmd.c_str(), "r");
    std::string out;
    if (p == nullptr) {
      *rc = -1;
      return out;
    }
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
    int status = ::pclose(p);
    *rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return out;
  }

  S3StoreConfig config_;
  std::unique_ptr<ObjectStore> store_;
};

TEST_F(S3ObjectStoreTest, SmallRoundTripAndStat) {
  const int64_t before = NowMicros();
  Put("lake/a/one.txt", "hello, s3");
  EXPECT_EQ(Get("lake/a/one.txt"), "hello, s3");
  auto info = store_->Stat("lake/a/one.txt");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->key, "lake/a/one.txt");
  EXPECT_EQ(info->size, 9);
  // Last-Modified has one-second resolution.
  EXPECT_GE(info->mtime_us, before - 2'000'000);
  EXPECT_LE(info->mtime_us, NowMicros() + 2'000'000);
  EXPECT_EQ(info->change_us, info->mtime_us);
  // A single PUT's ETag is the MD5 of the bytes, without quotes.
  EXPECT_EQ(info->etag.size(), 32u) << info->etag;
  EXPECT_EQ(info->etag.find('"'), std::string::npos);

  Put("lake/a/empty", "");
  EXPECT_EQ(Get("lake/a/empty"), "");
  EXPECT_EQ(store_->Stat("lake/a/empty")->size, 0);

  auto missing = store_->Stat("lake/a/missing");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->OpenRead("lake/a/missing").status().code(), StatusCode::kNotFound);
}

// A version named by a listing is read without asking for it again, and
// never mixed with a newer one: once replaced, the read fails kUnavailable.
TEST_F(S3ObjectStoreTest, OpenReadVersionReadsThatVersionOrFails) {
  Put("landing/p/a.csv", "first version");
  auto listed = store_->List("landing/p/");
  ASSERT_TRUE(listed.ok() && listed->size() == 1u);
  const ObjectInfo v1 = listed->front();
  {
    auto in = store_->OpenReadVersion(v1);
    ASSERT_TRUE(in.ok()) << in.status().ToString();
    auto all = ReadAll(**in);
    ASSERT_TRUE(all.ok()) << all.status().ToString();
    EXPECT_EQ(*all, "first version");
  }
  Put("landing/p/a.csv", "the second version, longer");
  auto in = store_->OpenReadVersion(v1);
  Status st = in.ok() ? ReadAll(**in).status() : in.status();
  EXPECT_EQ(st.code(), StatusCode::kUnavailable) << st.ToString();
  // The key as it is now still reads.
  EXPECT_EQ(Get("landing/p/a.csv"), "the second version, longer");
  // Gone: kNotFound.
  ASSERT_TRUE(store_->Delete("landing/p/a.csv").ok());
  auto gone = store_->OpenReadVersion(v1);
  Status g = gone.ok() ? ReadAll(**gone).status() : gone.status();
  EXPECT_EQ(g.code(), StatusCode::kNotFound) << g.ToString();
}

TEST_F(S3ObjectStoreTest, MultipartRoundTripIsAtomic) {
  config_.part_size = 5 << 20;
  config_.read_chunk_size = 1 << 20;
  Reopen();
  const std::string data = Pattern(12 << 20, 7);
  auto out = store_->OpenWrite("lake/big.bin");
  ASSERT_TRUE(out.ok());
  // Odd write sizes, so parts fill across writes.
  size_t off = 0, step = 777'777;
  while (off < data.size()) {
    size_t n = std::min(step, data.size() - off);
    ASSERT_TRUE((*out)->Write(data.data() + off, n).ok());
    off += n;
    if (off > (6 << 20)) {
      // A part is uploaded, but nothing is visible before Close.
      EXPECT_EQ(store_->Stat("lake/big.bin").status().code(), StatusCode::kNotFound);
    }
  }
  EXPECT_EQ((*out)->Tell(), static_cast<int64_t>(data.size()));
  ASSERT_TRUE((*out)->Close().ok());
  auto info = store_->Stat("lake/big.bin");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->size, static_cast<int64_t>(data.size()));
  const std::string back = Get("lake/big.bin");
  EXPECT_EQ(back.size(), data.size());
  EXPECT_TRUE(back == data);
}

TEST_F(S3ObjectStoreTest, ListManyKeysAcrossPages) {
  config_.list_page_size = 7;  // forces continuation tokens
  Reopen();
  std::vector<std::string> want;
  for (int i = 0; i < 25; ++i) {
    char name[32];
    std::snprintf(name, sizeof(name), "lake/t/f%03d", (i * 7) % 25);
    want.push_back(name);
    Put(name, "x" + std::to_string(i));
  }
  Put("lake/u/other", "o");
  Put("staging/t/x", "s");
  std::sort(want.begin(), want.end());
  auto listed = store_->List("lake/t/");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_EQ(Keys(*listed), want);
  for (const auto& o : *listed) EXPECT_FALSE(o.etag.empty());
  EXPECT_EQ((*listed)[0].size, 2);
  // A partial-component prefix, like the local store.
  EXPECT_EQ(Keys(*store_->List("lake/t/f02")),
            (std::vector<std::string>{"lake/t/f020", "lake/t/f021", "lake/t/f022", "lake/t/f023",
                                      "lake/t/f024"}));
  EXPECT_EQ(store_->List("lake/")->size(), 26u);
  EXPECT_EQ(store_->List("")->size(), 27u);
  EXPECT_TRUE(store_->List("nothing/")->empty());
}

TEST_F(S3ObjectStoreTest, ListAfterPagesIncrementally) {
  config_.list_page_size = 3;
  Reopen();
  std::vector<std::string> keys;
  for (int i = 0; i < 10; ++i) keys.push_back("landing/k" + std::to_string(i));
  for (const auto& k : keys) Put(k, "v");
  Put("lake/z", "not listed");

  std::vector<std::string> seen;
  std::string after;
  int pages = 0;
  while (true) {
    auto page = store_->ListAfter("landing/", after, 4);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    ++pages;
    ASSERT_LE(page->objects.size(), 4u);
    for (const auto& o : page->objects) seen.push_back(o.key);
    if (!page->truncated) break;
    ASSERT_FALSE(page->objects.empty());
    after = page->objects.back().key;
    ASSERT_LT(pages, 10);
  }
  EXPECT_EQ(seen, keys);
  EXPECT_EQ(pages, 3);
  // start_after need not be a key; the first key after it comes next.
  auto mid = store_->ListAfter("landing/", "landing/k45", 2);
  ASSERT_TRUE(mid.ok());
  EXPECT_EQ(Keys(mid->objects), (std::vector<std::string>{"landing/k5", "landing/k6"}));
  EXPECT_TRUE(mid->truncated);
  auto end = store_->ListAfter("landing/", "landing/k9", 5);
  ASSERT_TRUE(end.ok());
  EXPECT_TRUE(end->objects.empty());
  EXPECT_FALSE(end->truncated);
  EXPECT_EQ(store_->ListAfter("landing/", "", 0).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(S3ObjectStoreTest, RangedReadsAtAnyOffset) {
  const std::string data = Pattern(300'001, 3);
  Put("lake/r.bin", data);
  auto in = store_->OpenRead("lake/r.bin");
  ASSERT_TRUE(in.ok());
  EXPECT_EQ((*in)->SizeHint(), static_cast<int64_t>(data.size()));
  auto raf = (*in)->OpenRandomAccess();
  ASSERT_TRUE(raf.ok());
  ASSERT_NE(*raf, nullptr);
  const RandomAccessFile& f = **raf;
  EXPECT_EQ(f.size(), static_cast<int64_t>(data.size()));
  const std::vector<std::pair<int64_t, size_t>> ranges = {
      {0, 1}, {0, 100}, {1, 1}, {12345, 6789}, {299'000, 1001}, {300'000, 1}, {0, 300'001}};
  for (auto [off, n] : ranges) {
    std::string buf(n, '\0');
    Status st = f.ReadAt(off, n, buf.data());
    ASSERT_TRUE(st.ok()) << off << "+" << n << ": " << st.ToString();
    EXPECT_TRUE(buf == data.substr(static_cast<size_t>(off), n)) << off << "+" << n;
  }
  std::string buf(16, '\0');
  EXPECT_TRUE(f.ReadAt(300'001, 0, buf.data()).ok());
  Status past = f.ReadAt(300'000, 2, buf.data());
  EXPECT_EQ(past.code(), StatusCode::kDataLoss) << past.ToString();
  EXPECT_EQ(f.ReadAt(400'000, 1, buf.data()).code(), StatusCode::kDataLoss);

  // ReadAt is thread-safe.
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        const int64_t off = (t * 7919 + i * 27449) % 290'000;
        std::string b(4096, '\0');
        if (!f.ReadAt(off, b.size(), b.data()).ok() ||
            b != data.substr(static_cast<size_t>(off), b.size())) {
          ++bad;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(bad.load(), 0);
}

TEST_F(S3ObjectStoreTest, StreamingReadHoldsAtMostOneChunk) {
  constexpr size_t kChunk = 64 << 10;
  std::atomic<size_t> max_held{0};
  std::atomic<int> refills{0};
  config_.read_chunk_size = kChunk;
  config_.TEST_on_read_buffer = [&](size_t held) {
    ++refills;
    max_held = std::max(max_held.load(), held);
  };
  Reopen();
  const std::string data = Pattern((1 << 20) + 123, 9);
  Put("lake/stream.bin", data);
  auto in = store_->OpenRead("lake/stream.bin");
  ASSERT_TRUE(in.ok());
  std::string back;
  char buf[10'000];
  while (true) {
    auto n = (*in)->Read(buf, sizeof(buf));
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    if (*n == 0) break;
    back.append(buf, *n);
    EXPECT_EQ((*in)->BytesConsumed(), static_cast<int64_t>(back.size()));
  }
  EXPECT_TRUE(back == data);
  EXPECT_EQ(max_held.load(), kChunk);
  EXPECT_EQ(refills.load(), static_cast<int>((data.size() + kChunk - 1) / kChunk));
}

TEST_F(S3ObjectStoreTest, DeleteAndDeletePrefix) {
  Put("staging/b1/x", "1");
  EXPECT_TRUE(store_->Delete("staging/b1/x").ok());
  EXPECT_EQ(store_->Stat("staging/b1/x").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->Delete("staging/b1/x").ok()) << "deleting a missing object is OK";

  for (int i = 0; i < 30; ++i) Put("staging/b2/part-" + std::to_string(i), "p");
  Put("staging/b20/keep", "k");  // shares the string prefix "staging/b2" but not "staging/b2/"
  Put("lake/keep", "k");
  ASSERT_TRUE(store_->DeletePrefix("staging/b2/").ok());
  EXPECT_TRUE(store_->List("staging/b2/")->empty());
  EXPECT_EQ(Keys(*store_->List("")), (std::vector<std::string>{"lake/keep", "staging/b20/keep"}));
  EXPECT_TRUE(store_->DeletePrefix("staging/none/").ok());
  EXPECT_EQ(store_->DeletePrefix("").code(), StatusCode::kInvalidArgument);
}

TEST_F(S3ObjectStoreTest, AbortLeavesNoObject) {
  config_.part_size = 5 << 20;
  Reopen();
  {
    auto out = store_->OpenWrite("lake/aborted-small");
    ASSERT_TRUE(out.ok());
    ASSERT_TRUE((*out)->Write("abc").ok());
    (*out)->Abort();
  }
  {
    // Past one part: a multipart upload is in progress when aborted.
    auto out = store_->OpenWrite("lake/aborted-big");
    ASSERT_TRUE(out.ok());
    const std::string data = Pattern(6 << 20);
    ASSERT_TRUE((*out)->Write(data).ok());
    (*out)->Abort();
    EXPECT_FALSE((*out)->Close().ok()) << "a stream is done after Abort";
  }
  {
    // Destroyed without Close.
    auto out = store_->OpenWrite("lake/dropped-big");
    ASSERT_TRUE(out.ok());
    ASSERT_TRUE((*out)->Write(Pattern(6 << 20)).ok());
  }
  EXPECT_EQ(store_->Stat("lake/aborted-small").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Stat("lake/aborted-big").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Stat("lake/dropped-big").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->List("")->empty());
}

TEST_F(S3ObjectStoreTest, KeysThatNeedEncoding) {
  const std::vector<std::string> keys = {"landing/with space/a b.csv",
                                         "landing/ünï/çødé-日本.csv",
                                         "landing/plus+equals=.csv",
                                         "landing/amp&pct%25q?hash#.csv",
                                         "landing/tilde~star*(paren)'quote'.csv",
                                         "landing/semi;colon:comma,at@dollar$.csv"};
  for (size_t i = 0; i < keys.size(); ++i) Put(keys[i], "content " + std::to_string(i));
  for (size_t i = 0; i < keys.size(); ++i) {
    EXPECT_EQ(Get(keys[i]), "content " + std::to_string(i)) << keys[i];
    auto info = store_->Stat(keys[i]);
    EXPECT_TRUE(info.ok()) << keys[i] << ": " << info.status().ToString();
  }
  std::vector<std::string> sorted = keys;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(Keys(*store_->List("landing/")), sorted);
  // start-after with a key needing encoding.
  auto page = store_->ListAfter("landing/", "landing/plus+equals=.csv", 100);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  std::vector<std::string> after(
      std::upper_bound(sorted.begin(), sorted.end(), std::string("landing/plus+equals=.csv")),
      sorted.end());
  EXPECT_EQ(Keys(page->objects), after);
  ASSERT_TRUE(store_->DeletePrefix("landing/").ok());
  EXPECT_TRUE(store_->List("")->empty());
  // Keys the store refuses, like the local store.
  for (const char* bad : {"", "/abs", "a//b", "a/../b", "a/./b", "ctl\x01"}) {
    EXPECT_EQ(store_->OpenWrite(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST_F(S3ObjectStoreTest, MissingBucketIsAClearPermanentError) {
  config_.bucket = "sluice-no-such-bucket";
  Reopen();
  auto out = store_->OpenWrite("lake/x");
  ASSERT_TRUE(out.ok());
  ASSERT_TRUE((*out)->Write("x").ok());
  Status st = (*out)->Close();
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition) << st.ToString();
  EXPECT_NE(st.message().find("bucket 'sluice-no-such-bucket' does not exist"), std::string::npos)
      << st.message();
  EXPECT_NE(st.message().find("NoSuchBucket"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("lake/x"), std::string::npos) << st.message();
  auto listed = store_->List("lake/");
  EXPECT_EQ(listed.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(listed.status().message().find("sluice-no-such-bucket"), std::string::npos);
  EXPECT_EQ(listed.status().message().find("S3RVER"), std::string::npos);
}

TEST_F(S3ObjectStoreTest, NoRenameAndCapabilities) {
  Put("staging/a", "a");
  EXPECT_FALSE(store_->AtomicRename());
  Status st = store_->Rename("staging/a", "lake/a");
  EXPECT_EQ(st.code(), StatusCode::kUnimplemented);
  EXPECT_NE(st.message().find("the S3 store has no rename"), std::string::npos) << st.message();
  EXPECT_EQ(Get("staging/a"), "a");
  EXPECT_EQ(store_->LocalPath("staging/a"), "");
  EXPECT_EQ(store_->Describe(),
            "s3://" + config_.bucket + "/" + config_.prefix + " (" + config_.endpoint + ")");
  EXPECT_TRUE(NewLocalObjectStore("/tmp")->AtomicRename());
}

TEST_F(S3ObjectStoreTest, StaleUploadCleanupIsUnimplementedOnS3rver) {
  auto r = AbortStaleS3Uploads(config_, 0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnimplemented) << r.status().ToString();
  EXPECT_NE(r.status().message().find("ListMultipartUploads"), std::string::npos);
}

TEST_F(S3ObjectStoreTest, AwsCliReadsWhatTheStoreWrote) {
  config_.part_size = 5 << 20;
  Reopen();
  const std::string big = Pattern((5 << 20) + 4321, 11);
  Put("lake/interop/big.bin", big);
  Put("lake/interop/small file+1.txt", "small\n");
  int rc = 0;
  const std::string ls =
      Aws("s3 ls --recursive s3://" + config_.bucket + "/" + config_.prefix + "/", &rc);
  ASSERT_EQ(rc, 0) << ls;
  EXPECT_NE(ls.find(std::to_string(big.size()) + " " + config_.prefix + "/lake/interop/big.bin"),
            std::string::npos)
      << ls;
  EXPECT_NE(ls.find("6 " + config_.prefix + "/lake/interop/small file+1.txt"), std::string::npos)
      << ls;
  const std::string tmp =
      (std::filesystem::temp_directory_path() / (config_.prefix + "-big.bin")).string();
  Aws("s3 cp 's3://" + config_.bucket + "/" + config_.prefix + "/lake/interop/big.bin' " + tmp,
      &rc);
  ASSERT_EQ(rc, 0);
  {
    std::ifstream in(tmp, std::ios::binary);
    std::string got((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(Sha256Hex(got), Sha256Hex(big));
  }
  const std::string small = Aws(
      "s3 cp 's3://" + config_.bucket + "/" + config_.prefix + "/lake/interop/small file+1.txt' -",
      &rc);
  ASSERT_EQ(rc, 0);
  EXPECT_EQ(small, "small\n");
  // And the other way round: what awscli writes, the store reads.
  std::ofstream(tmp, std::ios::binary) << "from aws";
  Aws("s3 cp " + tmp + " 's3://" + config_.bucket + "/" + config_.prefix +
          "/lake/interop/from aws=1'",
      &rc);
  std::filesystem::remove(tmp);
  ASSERT_EQ(rc, 0);
  EXPECT_EQ(Get("lake/interop/from aws=1"), "from aws");
}

// The write rate limit, counted on a scripted server with a virtual clock:
// after a burst of `write_rate` writes per prefix, each write waits 1/rate s,
// and prefixes do not share a budget. Reads are not limited.
TEST(S3ObjectStoreRateTest, TokenBucketPerKeyPrefix) {
  s3test::FakeHttpServer server([](const s3test::HttpRequest& r) {
    s3test::HttpResponse resp;
    if (r.method == "HEAD") {
      resp.headers = {{"Content-Length", "1"}, {"ETag", "\"e\""}};
    }
    return resp;
  });
  int64_t now = 1'000'000;
  std::vector<std::pair<std::string, int64_t>> sleeps;
  std::string current;
  S3StoreConfig c;
  c.endpoint = server.endpoint();
  c.bucket = "rate-bucket";
  c.access_key = "AK";
  c.secret_key = "SK";
  c.write_rate = 5;
  c.TEST_now_us = [&] { return now; };
  c.TEST_sleep_us = [&](int64_t us) {
    sleeps.emplace_back(current, us);
    now += us;
  };
  auto store = NewS3ObjectStore(c);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto put = [&](const std::string& key) {
    current = key.substr(0, key.find('/'));
    auto out = (*store)->OpenWrite(key);
    ASSERT_TRUE(out.ok());
    ASSERT_TRUE((*out)->Close().ok());
  };
  for (int i = 0; i < 12; ++i) put("lake/f" + std::to_string(i));
  for (int i = 0; i < 5; ++i) put("staging/f" + std::to_string(i));
  for (int i = 0; i < 20; ++i) ASSERT_TRUE((*store)->Stat("lake/f1").ok());
  // lake: 5 free, then 7 waits of 200 ms each; staging: its own 5 free.
  ASSERT_EQ(sleeps.size(), 7u);
  for (const auto& [prefix, us] : sleeps) {
    EXPECT_EQ(prefix, "lake");
    EXPECT_EQ(us, 200'000);
  }
  EXPECT_EQ(server.requests().size(), 12u + 5u + 20u);
}

}  // namespace
}  // namespace sluice
