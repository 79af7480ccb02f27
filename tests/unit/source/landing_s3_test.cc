// Landing on a store without rename: the S3 store against s3rver
// (scripts/test-services.sh). Objects are registered where they landed, the
// landing prefix is listed incrementally after a watermark with a periodic full
// listing, `sluice ingest FILE` uploads straight to the archive, and a
// restarted process reads no object the catalog knows under its ETag. Without
// the server these tests fail and say how to start it.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

#include "../engine/test_project.h"
#include "../store/s3_test_util.h"
#include "core/clock.h"
#include "core/hash.h"
#include "source/landing.h"
#include "sql/sqlite_db.h"
#include "store/s3_object_store.h"

namespace sluice::landing_s3_test {
namespace {

using testing::ScratchDir;
using Outcome = RegisterBatchResult::Outcome;

constexpr char kSpec[] = R"(pipeline: orders
source:
  pattern: "*.csv*"
  format: csv
schema:
  id: int64 not null
  amount: decimal(10,2)
outputs:
  - table: orders
)";

constexpr char kCsv[] = "id,amount\n1,2.50\n2,3.75\n";

// Forwards to a store and counts the calls that matter here; with
// `fail_rename`, every Rename fails (proof that a flow never needs one).
class CountingStore final : public ObjectStore {
 public:
  explicit CountingStore(ObjectStore& base) : base_(base) {}

  std::atomic<int> reads{0};        // OpenRead
  std::atomic<int> writes{0};       // OpenWrite, OpenWriteUnsynced
  std::atomic<int> renames{0};      // Rename
  std::atomic<int> full_lists{0};   // List, ListDetailed
  std::atomic<int> list_pages{0};   // ListAfter
  std::atomic<int> local_paths{0};  // LocalPath
  std::atomic<bool> fail_rename{false};

  std::vector<std::string> list_after_starts() {
    std::lock_guard lock(mu_);
    return starts_;
  }

  Result<std::vector<ObjectInfo>> List(const std::string& prefix) override {
    ++full_lists;
    return base_.List(prefix);
  }
  Result<Listing> ListDetailed(const std::string& prefix) override {
    ++full_lists;
    return base_.ListDetailed(prefix);
  }
  Result<ListPage> ListAfter(const std::string& prefix, const std::string& start_after,
                             size_t max_keys) override {
    ++list_pages;
    {
      std::lock_guard lock(mu_);
      starts_.push_back(start_after);
    }
    return base_.ListAfter(prefix, start_after, max_keys);
  }
  Result<ObjectInfo> Stat(const std::string& key) override { return base_.Stat(key); }
  Result<std::unique_ptr<InputStream>> OpenRead(const std::string& key) override {
    ++reads;
    return base_.OpenRead(key);
  }
  Result<std::unique_ptr<OutputStream>> OpenWrite(const std::string& key) override {
    ++writes;
    return base_.OpenWrite(key);
  }
  Result<std::unique_ptr<OutputStream>> OpenWriteUnsynced(const std::string& key) override {
    ++writes;
    return base_.OpenWriteUnsynced(key);
  }
  Status Sync(const std::string& key) override { return base_.Sync(key); }
  Status Rename(const std::string& from, const std::string& to) override {
    ++renames;
    if (fail_rename) return Status::IOError("test: no Rename allowed (" + from + ")");
    return base_.Rename(from, to);
  }
  bool AtomicRename() const override { return base_.AtomicRename(); }
  Status Delete(const std::string& key) override { return base_.Delete(key); }
  Status DeletePrefix(const std::string& prefix) override { return base_.DeletePrefix(prefix); }
  std::string LocalPath(const std::string& key) const override {
    ++const_cast<CountingStore*>(this)->local_paths;
    return base_.LocalPath(key);
  }
  std::string Describe() const override { return "counting(" + base_.Describe() + ")"; }

 private:
  ObjectStore& base_;
  std::mutex mu_;
  std::vector<std::string> starts_;
};

class LandingS3Test : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    S3StoreConfig config = s3test::TestServerConfig(s3test::UniquePrefix(name));
    ASSERT_FALSE(config.bucket.empty()) << s3test::kStartServices;
    auto s3 = NewS3ObjectStore(config);
    ASSERT_TRUE(s3.ok()) << s3.status().ToString();
    s3_ = std::move(*s3);
    ASSERT_FALSE(s3_->AtomicRename());
    store_ = std::make_unique<CountingStore>(*s3_);
    auto cat = OpenSqliteCatalog(dir_.path() + "/catalog.db");
    ASSERT_TRUE(cat.ok()) << cat.status().ToString();
    catalog_ = std::move(*cat);
    auto q = OpenSqliteTaskQueue(dir_.path() + "/catalog.db");
    ASSERT_TRUE(q.ok()) << q.status().ToString();
    queue_ = std::move(*q);
    auto spec = ParsePipeline(kSpec, "orders.yaml");
    ASSERT_TRUE(spec.ok()) << spec.status().ToString();
    spec_ = *spec;
    ASSERT_TRUE(catalog_->DeployPipeline("orders", kSpec, "orders.yaml").ok());
  }

  LandingContext ctx() {
    LandingContext c{store_.get(), catalog_.get(), queue_.get(), &verifier_};
    c.now_us = [this] { return NowMicros() + clock_offset_us_; };
    c.scan_state = &scan_state_;
    return c;
  }

  // Writes landing/orders/<rel> through the S3 store itself (not counted).
  void Land(const std::string& rel, const std::string& content) {
    Put("landing/orders/" + rel, content);
  }

  void Put(const std::string& key, const std::string& content) {
    auto out = s3_->OpenWrite(key);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    ASSERT_TRUE((*out)->Write(content).ok());
    Status st = (*out)->Close();
    ASSERT_TRUE(st.ok()) << st.ToString();
  }

  std::string Get(const std::string& key) {
    auto in = s3_->OpenRead(key);
    EXPECT_TRUE(in.ok()) << in.status().ToString();
    if (!in.ok()) return "";
    auto s = ReadAll(**in);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? *s : "";
  }

  std::vector<std::string> KeysUnder(const std::string& prefix) {
    auto l = s3_->List(prefix);
    EXPECT_TRUE(l.ok()) << l.status().ToString();
    std::vector<std::string> out;
    if (l.ok()) {
      for (const auto& o : *l) out.push_back(o.key);
    }
    return out;
  }

  ScanSummary Scan() {
    auto s = ScanLanding(ctx(), spec_);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    if (!s.ok()) return ScanSummary{};
    EXPECT_TRUE(s->errors.empty()) << s->errors.front();
    return *s;
  }

  // Moves the clock past the full-rescan interval, so the next scan lists in full.
  void PassFullRescan() { clock_offset_us_ += 11 * 60 * 1'000'000LL; }

  BatchInfo Batch(int64_t id) {
    auto b = catalog_->GetBatch(id);
    EXPECT_TRUE(b.ok()) << b.status().ToString();
    return b.ok() ? *b : BatchInfo{};
  }

  size_t BatchCount() {
    auto b = catalog_->ListBatches(std::nullopt, "", 0);
    EXPECT_TRUE(b.ok()) << b.status().ToString();
    return b.ok() ? b->size() : 0;
  }

  int64_t Depth() {
    auto d = queue_->Depth();
    EXPECT_TRUE(d.ok()) << d.status().ToString();
    return d.ok() ? *d : -1;
  }

  ScratchDir dir_;
  std::unique_ptr<ObjectStore> s3_;
  std::unique_ptr<CountingStore> store_;
  std::unique_ptr<Catalog> catalog_;
  std::unique_ptr<TaskQueue> queue_;
  PipelineSpec spec_;
  ArchiveVerifier verifier_;
  LandingScanState scan_state_;
  int64_t clock_offset_us_ = 0;
};

TEST_F(LandingS3Test, RegistersInPlaceWithoutCopying) {
  Land("a.csv", kCsv);
  ScanSummary s = Scan();
  ASSERT_EQ(s.registered.size(), 1u);
  EXPECT_EQ(s.registered[0].outcome, Outcome::kNew);
  // No settle wait on S3: taken as soon as listed, with the real clock.
  EXPECT_EQ(s.waiting, 0);

  BatchInfo b = Batch(s.registered[0].batch_id);
  EXPECT_EQ(b.object_key, "landing/orders/a.csv");
  EXPECT_EQ(b.archive_key, b.object_key);
  EXPECT_EQ(b.sha256, Sha256Hex(kCsv));
  EXPECT_EQ(b.size_bytes, static_cast<int64_t>(std::string(kCsv).size()));
  EXPECT_EQ(b.state, BatchState::kQueued);
  EXPECT_EQ(Depth(), 1);

  // Nothing copied, moved or written: the landed object is the archive.
  EXPECT_EQ(KeysUnder("landing/"), std::vector<std::string>{"landing/orders/a.csv"});
  EXPECT_TRUE(KeysUnder("archive/").empty());
  EXPECT_EQ(store_->renames.load(), 0);
  EXPECT_EQ(store_->writes.load(), 0);
  EXPECT_EQ(store_->reads.load(), 1);  // hashed once, streamed

  // Nothing to move for recovery and before an attempt; the check trusts
  // the ETag this process hashed, so it reads nothing again.
  store_->fail_rename = true;
  EXPECT_TRUE(ArchiveLandedInput(*store_, &verifier_, b).ok());
  Status v = VerifyArchive(verifier_, *store_, b);
  EXPECT_TRUE(v.ok()) << v.ToString();
  EXPECT_EQ(store_->reads.load(), 1);
  // A registration cut short by a crash (batch still `landed`): recovery
  // queues it, with nothing to move.
  Land("z.csv", "id,amount\n9,9.00\n");
  const std::string z = "landing/orders/z.csv";
  RegisterBatchRequest req{"orders", z, z, Sha256Hex("id,amount\n9,9.00\n"), 17, ""};
  auto crashed = catalog_->RegisterBatch(req);
  ASSERT_TRUE(crashed.ok()) << crashed.status().ToString();
  Status rec = RecoverLanded(ctx());
  EXPECT_TRUE(rec.ok()) << rec.ToString();
  EXPECT_EQ(Batch(crashed->batch_id).state, BatchState::kQueued);
  EXPECT_EQ(Depth(), 2);
  EXPECT_EQ(store_->renames.load(), 0);
  EXPECT_EQ(store_->local_paths.load(), 0);
  EXPECT_TRUE(KeysUnder("archive/").empty());

  // After a restart nothing is trusted: the check hashes in full, once.
  verifier_.Clear();
  v = VerifyArchive(verifier_, *store_, b);
  EXPECT_TRUE(v.ok()) << v.ToString();
  EXPECT_EQ(store_->reads.load(), 2);
}

TEST_F(LandingS3Test, RescansRegisterNothingNewAndReadNothing) {
  Land("a.csv", kCsv);
  Land("b.csv", "id,amount\n3,1.00\n");
  Land(".hidden.csv", "x");
  Land("c.txt", "not matched");
  ScanSummary first = Scan();
  ASSERT_EQ(first.registered.size(), 2u);
  const int reads = store_->reads.load();
  EXPECT_EQ(reads, 2);
  EXPECT_EQ(scan_state_.watermark("landing/orders/"), "landing/orders/c.txt");

  // An incremental poll: one page after the watermark, nothing in it.
  const int pages = store_->list_pages.load();
  ScanSummary second = Scan();
  EXPECT_TRUE(second.registered.empty());
  EXPECT_EQ(store_->list_pages.load(), pages + 1);
  EXPECT_EQ(store_->list_after_starts().back(), "landing/orders/c.txt");

  // A full listing: every object passed again, none read or registered.
  PassFullRescan();
  ScanSummary third = Scan();
  EXPECT_TRUE(third.registered.empty());
  EXPECT_EQ(store_->list_after_starts().back(), "");
  EXPECT_EQ(store_->reads.load(), reads);
  EXPECT_EQ(store_->full_lists.load(), 0);  // always paged, never one whole listing
  EXPECT_EQ(BatchCount(), 2u);
  EXPECT_EQ(Depth(), 2);

  // After a restart (nothing remembered) the first scan lists in full; the
  // catalog knows every object under its ETag, so none is read again.
  LandingScanState fresh;
  LandingContext c = ctx();
  c.scan_state = &fresh;
  auto again = ScanLanding(c, spec_);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->registered.empty());
  EXPECT_EQ(store_->reads.load(), reads);
  EXPECT_EQ(BatchCount(), 2u);
  EXPECT_EQ(Depth(), 2);
  EXPECT_EQ(store_->renames.load(), 0);
  EXPECT_EQ(store_->writes.load(), 0);
}

// The catalog keeps each landing's ETag: a restarted process, or another one
// sharing the catalog, reads only objects registered under no ETag they
// have now.
TEST_F(LandingS3Test, RestartReadsOnlyObjectsTheCatalogDoesNotKnow) {
  constexpr int kObjects = 4;
  for (int i = 0; i < kObjects; ++i) {
    Land("f" + std::to_string(i) + ".csv", "id,amount\n" + std::to_string(i) + ",1.00\n");
  }
  ASSERT_EQ(Scan().registered.size(), static_cast<size_t>(kObjects));
  EXPECT_EQ(store_->reads.load(), kObjects);

  // A restart: a fresh scan state lists everything, and reads nothing.
  LandingScanState restarted;
  LandingContext c = ctx();
  c.scan_state = &restarted;
  auto again = ScanLanding(c, spec_);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->errors.empty()) << again->errors.front();
  EXPECT_TRUE(again->registered.empty());
  EXPECT_EQ(again->waiting, 0);
  EXPECT_EQ(store_->reads.load(), kObjects);
  EXPECT_EQ(store_->list_after_starts().back(), "");  // a full listing
  // Remembered without a read: the next full listing does not ask again.
  EXPECT_EQ(restarted.known("landing/orders/"), static_cast<size_t>(kObjects));
  EXPECT_EQ(BatchCount(), static_cast<size_t>(kObjects));
  EXPECT_EQ(Depth(), kObjects);

  // An object overwritten after the restart has a new ETag: read, and
  // registered as new content.
  const std::string v2 = "id,amount\n2,7.00\n";
  Land("f2.csv", v2);
  PassFullRescan();
  auto t = ScanLanding(c, spec_);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_TRUE(t->errors.empty()) << t->errors.front();
  ASSERT_EQ(t->registered.size(), 1u);
  EXPECT_EQ(t->registered[0].outcome, Outcome::kNew);
  EXPECT_EQ(t->registered[0].key, "landing/orders/f2.csv");
  EXPECT_EQ(Batch(t->registered[0].batch_id).sha256, Sha256Hex(v2));
  EXPECT_EQ(store_->reads.load(), kObjects + 1);
  EXPECT_EQ(BatchCount(), static_cast<size_t>(kObjects + 1));

  // Another process on the same catalog (its own connection, scan state and
  // verifier) reads nothing either: the overwrite's ETag is recorded too.
  auto other_catalog = OpenSqliteCatalog(dir_.path() + "/catalog.db");
  ASSERT_TRUE(other_catalog.ok()) << other_catalog.status().ToString();
  LandingScanState other_state;
  ArchiveVerifier other_verifier;
  LandingContext o = ctx();
  o.catalog = other_catalog->get();
  o.scan_state = &other_state;
  o.verifier = &other_verifier;
  auto other = ScanLanding(o, spec_);
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  EXPECT_TRUE(other->errors.empty()) << other->errors.front();
  EXPECT_TRUE(other->registered.empty());
  EXPECT_EQ(store_->reads.load(), kObjects + 1);
  EXPECT_EQ(BatchCount(), static_cast<size_t>(kObjects + 1));
  EXPECT_EQ(store_->renames.load(), 0);
  EXPECT_EQ(store_->writes.load(), 0);
}

// A catalog that cannot answer whether it knows an object must not lose the
// object: the scan reports it, reads nothing, and asks again on the next poll.
TEST_F(LandingS3Test, CatalogErrorLeavesTheObjectForTheNextPoll) {
  Land("a.csv", kCsv);
  ASSERT_EQ(Scan().registered.size(), 1u);
  LandingScanState restarted;
  LandingContext c = ctx();
  c.scan_state = &restarted;
  auto hide = [&](const char* from, const char* to) {
    auto db = SqliteDb::Open(dir_.path() + "/catalog.db");
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    Status st = (*db)->Exec(std::string("ALTER TABLE ") + from + " RENAME TO " + to);
    ASSERT_TRUE(st.ok()) << st.ToString();
  };
  hide("batch_landings", "hidden_landings");
  auto failed = ScanLanding(c, spec_);
  ASSERT_TRUE(failed.ok()) << failed.status().ToString();
  ASSERT_EQ(failed->errors.size(), 1u);
  EXPECT_NE(failed->errors[0].find("landing/orders/a.csv"), std::string::npos) << failed->errors[0];
  EXPECT_TRUE(failed->registered.empty());
  EXPECT_EQ(store_->reads.load(), 1);
  EXPECT_EQ(restarted.known("landing/orders/"), 0u);

  // The catalog answers again: the next (incremental) poll tries the key again.
  hide("hidden_landings", "batch_landings");
  auto ok = ScanLanding(c, spec_);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_TRUE(ok->errors.empty()) << ok->errors.front();
  EXPECT_TRUE(ok->registered.empty());
  EXPECT_NE(store_->list_after_starts().back(), "");  // not a full listing
  EXPECT_EQ(restarted.known("landing/orders/"), 1u);
  EXPECT_EQ(store_->reads.load(), 1);
  EXPECT_EQ(BatchCount(), 1u);
}

TEST_F(LandingS3Test, ListsIncrementallyAfterTheWatermark) {
  // More than one page of 1000 would be slow on s3rver; the page logic is the
  // store's. Here: each poll starts after the greatest key seen.
  Land("b.csv", kCsv);
  ASSERT_EQ(Scan().registered.size(), 1u);
  Land("c.csv", "id,amount\n4,4.00\n");
  ScanSummary s = Scan();
  ASSERT_EQ(s.registered.size(), 1u);
  EXPECT_EQ(s.registered[0].key, "landing/orders/c.csv");
  EXPECT_EQ(store_->list_after_starts().back(), "landing/orders/b.csv");
  EXPECT_EQ(scan_state_.watermark("landing/orders/"), "landing/orders/c.csv");
  EXPECT_EQ(store_->reads.load(), 2);
}

TEST_F(LandingS3Test, KeyBelowTheWatermarkIsFoundByTheFullRescan) {
  Land("m.csv", kCsv);
  ASSERT_EQ(Scan().registered.size(), 1u);
  // A producer lands a key that sorts before the watermark.
  Land("a.csv", "id,amount\n5,5.00\n");
  EXPECT_TRUE(Scan().registered.empty());  // incremental: not seen yet
  EXPECT_TRUE(Scan().registered.empty());

  PassFullRescan();
  ScanSummary s = Scan();
  ASSERT_EQ(s.registered.size(), 1u);
  EXPECT_EQ(s.registered[0].outcome, Outcome::kNew);
  EXPECT_EQ(s.registered[0].key, "landing/orders/a.csv");
  EXPECT_EQ(BatchCount(), 2u);

  // The interval is the context's: 0 lists in full on every scan.
  Land("0.csv", "id,amount\n6,6.00\n");
  LandingContext c = ctx();
  c.full_rescan = std::chrono::milliseconds(0);
  auto t = ScanLanding(c, spec_);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(t->registered.size(), 1u);
  EXPECT_EQ(t->registered[0].key, "landing/orders/0.csv");
  EXPECT_EQ(store_->reads.load(), 3);  // each object read once
}

TEST_F(LandingS3Test, OverwrittenObjectIsANewBatchAndTheOldOneIsRefused) {
  const std::string v1 = "id,amount\n1,2.50\n";
  const std::string v2 = "id,amount\n1,9.50\n";  // same size: only the ETag tells
  Land("a.csv", v1);
  ScanSummary s = Scan();
  ASSERT_EQ(s.registered.size(), 1u);
  BatchInfo old_batch = Batch(s.registered[0].batch_id);
  ASSERT_TRUE(VerifyArchive(verifier_, *store_, old_batch).ok());

  Land("a.csv", v2);  // overwritten in place
  Status v = VerifyArchive(verifier_, *store_, old_batch);
  EXPECT_EQ(v.code(), StatusCode::kDataLoss) << v.ToString();
  EXPECT_NE(v.message().find("landing/orders/a.csv"), std::string::npos) << v.message();
  EXPECT_NE(v.message().find(Sha256Hex(v1)), std::string::npos) << v.message();
  EXPECT_NE(v.message().find(Sha256Hex(v2)), std::string::npos) << v.message();

  PassFullRescan();
  ScanSummary t = Scan();
  ASSERT_EQ(t.registered.size(), 1u);
  EXPECT_EQ(t.registered[0].outcome, Outcome::kNew);
  BatchInfo new_batch = Batch(t.registered[0].batch_id);
  EXPECT_NE(new_batch.id, old_batch.id);
  EXPECT_EQ(new_batch.archive_key, "landing/orders/a.csv");
  EXPECT_EQ(new_batch.sha256, Sha256Hex(v2));
  EXPECT_TRUE(VerifyArchive(verifier_, *store_, new_batch).ok());
  // The old batch stays refused, even with the new content remembered.
  EXPECT_EQ(VerifyArchive(verifier_, *store_, old_batch).code(), StatusCode::kDataLoss);
  EXPECT_EQ(store_->renames.load(), 0);
}

TEST_F(LandingS3Test, IngestUploadsToTheArchiveWithoutRename) {
  store_->fail_rename = true;
  const std::string file = dir_.path() + "/in.csv";
  std::ofstream(file, std::ios::binary) << kCsv;
  auto r = IngestLocalFile(ctx(), "orders", file);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->outcome, Outcome::kNew);
  const std::string sha = Sha256Hex(kCsv);
  BatchInfo b = Batch(r->batch_id);
  EXPECT_EQ(b.archive_key, ArchiveKey("orders", sha, "in.csv"));
  EXPECT_EQ(b.sha256, sha);
  EXPECT_EQ(Get(b.archive_key), kCsv);
  // Straight to its key: no incoming object, no rename, no local path.
  EXPECT_EQ(KeysUnder("archive/"), std::vector<std::string>{b.archive_key});
  EXPECT_EQ(store_->renames.load(), 0);
  EXPECT_EQ(store_->local_paths.load(), 0);
  EXPECT_EQ(store_->writes.load(), 1);
  EXPECT_TRUE(VerifyArchive(verifier_, *store_, b).ok());

  // Again: the object at the key has that content and is kept.
  auto again = IngestLocalFile(ctx(), "orders", file);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->outcome, Outcome::kSameObject);
  EXPECT_EQ(store_->writes.load(), 1);

  // A damaged archive object: VerifyArchive uploads the original again and
  // keeps the damaged bytes aside.
  Put(b.archive_key, "damaged");
  Status v = VerifyArchive(verifier_, *store_, b);
  EXPECT_TRUE(v.ok()) << v.ToString();
  EXPECT_EQ(Get(b.archive_key), kCsv);
  std::vector<std::string> damaged = KeysUnder("archive/orders/damaged/");
  ASSERT_EQ(damaged.size(), 1u);
  EXPECT_EQ(Get(damaged[0]), "damaged");
  EXPECT_EQ(store_->renames.load(), 0);

  // An original that changed since: refused with the reason.
  Put(b.archive_key, "damaged again");
  std::ofstream(file, std::ios::binary | std::ios::trunc) << "id,amount\n7,7.00\n";
  v = VerifyArchive(verifier_, *store_, b);
  EXPECT_EQ(v.code(), StatusCode::kDataLoss) << v.ToString();
  EXPECT_NE(v.message().find("no longer has the registered content"), std::string::npos)
      << v.message();
}

}  // namespace
}  // namespace sluice::landing_s3_test
