// Test helpers for the source and engine layers: a scratch directory, an
// ObjectStore wrapper that fails chosen calls on demand (leveldb's EnvWrapper /
// fault_injection_test idea), a project fixture on real components, and small
// readers for what the engine leaves behind (store keys, SQLite sink rows).
//
// Everything here is header-only. The source tests include this file too; they
// use only the parts that do not need sluice_engine (ScratchDir,
// FaultInjectingStore, QueryInt), and inline code they never call is never
// emitted, so they link without the engine library.
#pragma once

#include <sqlite3.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "../catalog/catalog_test_util.h"
#include "core/clock.h"
#include "core/io.h"
#include "core/status.h"
#include "engine/loader.h"
#include "engine/processor.h"
#include "engine/project.h"
#include "source/landing.h"
#include "store/object_store.h"

namespace sluice::testing {

#define SLUICE_ASSERT_OK(expr)                              \
  do {                                                      \
    const ::sluice::Status _s = (expr);                     \
    ASSERT_TRUE(_s.ok()) << #expr << ": " << _s.ToString(); \
  } while (0)

// A fresh directory under the system temp dir, removed with everything in it.
class ScratchDir {
 public:
  ScratchDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "sluice_engine_XXXXXX").string();
    char* made = mkdtemp(tmpl.data());
    path_ = made != nullptr ? made : "";
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::string& path() const { return path_; }
  // Writes `text` to path()/rel (parents created) and returns the absolute path.
  std::string Write(const std::string& rel, const std::string& text) const {
    std::filesystem::path p = std::filesystem::path(path_) / rel;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }

 private:
  std::string path_;
};

// The ObjectStore calls FaultInjectingStore can fail or intercept. kClose is
// OutputStream::Close of a stream opened through the wrapper.
enum class StoreOp { kList, kStat, kOpenRead, kOpenWrite, kRename, kDelete, kDeletePrefix, kClose };

// Delegates to a real store and, on demand, fails chosen calls or runs a hook
// just before one (to interleave another actor at an exact point). A rule
// matches a call when the call's key (for Rename: either key) starts with the
// rule's prefix. Thread-safe; hooks run outside the lock.
class FaultInjectingStore final : public ObjectStore {
 public:
  explicit FaultInjectingStore(ObjectStore& base) : base_(base) {}

  // The nth matching call of `op` from now on (1 = the next one) returns `status`.
  void FailNth(StoreOp op, int nth, Status status, std::string prefix = "") {
    std::lock_guard lock(mu_);
    rules_.push_back({op, std::move(prefix), nth, false, std::move(status), nullptr});
  }
  // Every matching call of `op` returns `status` until Clear().
  void FailAlways(StoreOp op, Status status, std::string prefix = "") {
    std::lock_guard lock(mu_);
    rules_.push_back({op, std::move(prefix), 1, true, std::move(status), nullptr});
  }
  // Runs hook(key) once, just before the next matching call of `op` proceeds.
  void BeforeNext(StoreOp op, std::function<void(const std::string&)> hook,
                  std::string prefix = "") {
    std::lock_guard lock(mu_);
    rules_.push_back({op, std::move(prefix), 1, false, Status::OK(), std::move(hook)});
  }
  void Clear() {
    std::lock_guard lock(mu_);
    rules_.clear();
  }
  // Calls of `op` so far (matching any rule or not), and those that were failed.
  int calls(StoreOp op) const { return calls_[static_cast<int>(op)].load(); }
  int injected() const { return injected_.load(); }

  Result<std::vector<ObjectInfo>> List(const std::string& prefix) override {
    RETURN_IF_ERROR(Check(StoreOp::kList, prefix));
    return base_.List(prefix);
  }
  Result<Listing> ListDetailed(const std::string& prefix) override {
    RETURN_IF_ERROR(Check(StoreOp::kList, prefix));
    return base_.ListDetailed(prefix);
  }
  Result<ObjectInfo> Stat(const std::string& key) override {
    RETURN_IF_ERROR(Check(StoreOp::kStat, key));
    return base_.Stat(key);
  }
  Result<std::unique_ptr<InputStream>> OpenRead(const std::string& key) override {
    RETURN_IF_ERROR(Check(StoreOp::kOpenRead, key));
    return base_.OpenRead(key);
  }
  Result<std::unique_ptr<OutputStream>> OpenWrite(const std::string& key) override {
    RETURN_IF_ERROR(Check(StoreOp::kOpenWrite, key));
    ASSIGN_OR_RETURN(std::unique_ptr<OutputStream> out, base_.OpenWrite(key));
    return std::unique_ptr<OutputStream>(new Output(*this, key, std::move(out)));
  }
  // Unsynced writes take the OpenWrite rules (a different durability, the
  // same failures).
  Result<std::unique_ptr<OutputStream>> OpenWriteUnsynced(const std::string& key) override {
    RETURN_IF_ERROR(Check(StoreOp::kOpenWrite, key));
    ASSIGN_OR_RETURN(std::unique_ptr<OutputStream> out, base_.OpenWriteUnsynced(key));
    return std::unique_ptr<OutputStream>(new Output(*this, key, std::move(out)));
  }
  Status Sync(const std::string& key) override { return base_.Sync(key); }
  Status Rename(const std::string& from, const std::string& to) override {
    RETURN_IF_ERROR(Check(StoreOp::kRename, from, to));
    return base_.Rename(from, to);
  }
  Status Delete(const std::string& key) override {
    RETURN_IF_ERROR(Check(StoreOp::kDelete, key));
    return base_.Delete(key);
  }
  Status DeletePrefix(const std::string& prefix) override {
    RETURN_IF_ERROR(Check(StoreOp::kDeletePrefix, prefix));
    return base_.DeletePrefix(prefix);
  }
  std::string LocalPath(const std::string& key) const override { return base_.LocalPath(key); }
  std::string Describe() const override { return "faulty(" + base_.Describe() + ")"; }

 private:
  struct Rule {
    StoreOp op;
    std::string prefix;
    int countdown;  // matching calls until this rule fires (1 = the next)
    bool always;
    Status status;
    std::function<void(const std::string&)> hook;
  };

  // A stream whose Close can be failed (the object is then not published).
  class Output final : public OutputStream {
   public:
    Output(FaultInjectingStore& owner, std::string key, std::unique_ptr<OutputStream> base)
        : owner_(owner), key_(std::move(key)), base_(std::move(base)) {}
    Status Write(const void* data, size_t n) override { return base_->Write(data, n); }
    int64_t Tell() const override { return base_->Tell(); }
    Status Close() override {
      Status st = owner_.Check(StoreOp::kClose, key_);
      if (!st.ok()) {
        base_->Abort();
        return st;
      }
      return base_->Close();
    }
    void Abort() override { base_->Abort(); }

   private:
    FaultInjectingStore& owner_;
    std::string key_;
    std::unique_ptr<OutputStream> base_;
  };

  Status Check(StoreOp op, const std::string& key, const std::string& other = "") {
    ++calls_[static_cast<int>(op)];
    std::vector<std::function<void(const std::string&)>> hooks;
    Status result = Status::OK();
    {
      std::lock_guard lock(mu_);
      for (auto it = rules_.begin(); it != rules_.end();) {
        bool match = it->op == op && (key.starts_with(it->prefix) ||
                                      (!other.empty() && other.starts_with(it->prefix)));
        if (!match || (!it->always && --it->countdown > 0)) {
          ++it;
          continue;
        }
        if (it->hook) {
          hooks.push_back(std::move(it->hook));
        } else if (result.ok()) {
          result = it->status;
          ++injected_;
        }
        it = it->always ? it + 1 : rules_.erase(it);
      }
    }
    for (auto& h : hooks) h(key);
    return result;
  }

  ObjectStore& base_;
  std::mutex mu_;
  std::vector<Rule> rules_;
  std::atomic<int> calls_[8] = {};
  std::atomic<int> injected_{0};
};

// One integer from an SQLite database (e.g. "SELECT count(*) FROM t"), or
// nullopt if the database or the query fails (e.g. the table does not exist).
inline std::optional<int64_t> QueryInt(const std::string& db_path, const std::string& sql) {
  if (!std::filesystem::exists(db_path)) return std::nullopt;
  sqlite3* db = nullptr;
  std::optional<int64_t> out;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
      out = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return out;
}

// Keys under `prefix` in `store` (empty on error).
inline std::vector<std::string> Keys(ObjectStore& store, const std::string& prefix) {
  std::vector<std::string> out;
  auto listed = store.List(prefix);
  if (listed.ok()) {
    for (const ObjectInfo& o : *listed) out.push_back(o.key);
  }
  return out;
}

inline std::string ReadKey(ObjectStore& store, const std::string& key) {
  auto in = store.OpenRead(key);
  if (!in.ok()) return "<" + in.status().ToString() + ">";
  auto data = ReadAll(**in);
  return data.ok() ? *data : "<" + data.status().ToString() + ">";
}

// Polls `done` every 10 ms until it holds or `timeout` passes; returns its last value.
inline bool WaitFor(const std::function<bool()>& done,
                    std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

// A project on real components in a scratch directory, with timings short
// enough for unit tests: poll 20 ms, lease 200 ms, 3 attempts, 1 worker.
// Open() is separate so a test can adjust config() first.
class ProjectTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = DefaultConfig(dir_.path());
    config_.workers = 1;
    config_.poll_interval = std::chrono::milliseconds(20);
    config_.lease = std::chrono::milliseconds(200);
    config_.max_attempts = 3;
  }

  void Open() {
    auto p = Project::Open(config_);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    project_ = std::move(*p);
    // Files landed here are complete (Land renames them into place), so the
    // settle rule (source.settle) is met at once: the clock runs an hour ahead.
    project_->SetLandingClockForTesting([] { return NowMicros() + int64_t{3600} * 1'000'000; });
    faults_ = std::make_unique<FaultInjectingStore>(project_->store());
  }

  // Writes pipelines/<name>.yaml.
  void WritePipeline(const std::string& name, const std::string& yaml) {
    std::filesystem::create_directories(config_.pipelines_dir);
    ASSERT_TRUE(WriteFileAtomic(config_.pipelines_dir + "/" + name + ".yaml", yaml).ok());
  }

  // Writes and deploys a pipeline spec (Open() first).
  void Deploy(const std::string& name, const std::string& yaml) {
    WritePipeline(name, yaml);
    auto sync = project_->SyncPipelines();
    ASSERT_TRUE(sync.ok()) << sync.status().ToString();
    ASSERT_TRUE(sync->errors.empty()) << sync->errors.front();
  }

  // Drops a file into landing/<pipeline>/<rel> the way a writer should: a
  // temporary name, then a rename.
  void Land(const std::string& pipeline, const std::string& rel, const std::string& content) {
    std::filesystem::path final_path =
        std::filesystem::path(config_.store_root) / "landing" / pipeline / rel;
    std::filesystem::create_directories(final_path.parent_path());
    std::filesystem::path tmp = final_path.parent_path() / ("." + final_path.filename().string());
    std::ofstream(tmp, std::ios::binary) << content;
    std::filesystem::rename(tmp, final_path);
  }

  // Lands one file, scans its pipeline and returns the batch id (0 on failure).
  int64_t LandAndRegister(const std::string& pipeline, const std::string& rel,
                          const std::string& content) {
    Land(pipeline, rel, content);
    auto specs = project_->ActivePipelines();
    if (!specs.ok()) return 0;
    for (const PipelineSpec& s : *specs) {
      if (s.name != pipeline) continue;
      auto scan = ScanLanding(project_->landing(), s);
      if (!scan.ok() || scan->registered.empty()) return 0;
      for (const auto& r : scan->registered) {
        if (r.key == "landing/" + pipeline + "/" + rel) return r.batch_id;
      }
    }
    return 0;
  }

  // Loads every pending delivery (the database outputs' rows: SQLite and
  // PostgreSQL tables) as a server's loaders would, until none is pending
  // or loading; a failed one stays failed. kUnavailable after 30 s.
  Status Deliver() {
    LoaderOptions lo = LoaderOptionsFor(config_);
    lo.backoff_first = std::chrono::milliseconds(1);
    DeliveryLoader loader(project_->catalog(), project_->store(), lo);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (true) {
      ASSIGN_OR_RETURN(std::vector<Delivery> unfinished,
                       project_->catalog().UnfinishedDeliveries(100'000));
      if (unfinished.empty()) return Status::OK();
      if (std::chrono::steady_clock::now() > deadline) {
        return Status::Unavailable(
            std::to_string(unfinished.size()) +
            " deliveries still unfinished, the first: " + unfinished.front().last_error);
      }
      int64_t last = -1;
      for (const Delivery& d : unfinished) {
        if (d.batch_id == last) continue;
        last = d.batch_id;
        ASSIGN_OR_RETURN(DeliverResult r, loader.DeliverBatch(d.batch_id, nullptr));
        if (!r.finished) std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    }
  }

  // A processor environment over the fault-injecting store.
  ProcessEnv Env() {
    ProcessEnv env;
    env.store = faults_.get();
    env.catalog = &project_->catalog();
    env.project_dir = config_.project_dir;
    // Retry times are computed on a clock at the epoch, so a transient
    // failure's retry is due at once: these tests call ProcessBatch again
    // rather than wait out a backoff (the catalog tests check the waiting).
    env.now_us = [] { return int64_t{0}; };
    env.verifier = &project_->archive_verifier();
    return env;
  }

  BatchInfo Batch(int64_t id) {
    auto b = project_->catalog().GetBatch(id);
    EXPECT_TRUE(b.ok()) << b.status().ToString();
    return b.ok() ? *b : BatchInfo{};
  }

  std::string SinkDb(const std::string& name = "out.db") const {
    return config_.project_dir + "/" + name;
  }

  ScratchDir dir_;
  Config config_;
  std::unique_ptr<Project> project_;
  std::unique_ptr<FaultInjectingStore> faults_;
};

}  // namespace sluice::testing
