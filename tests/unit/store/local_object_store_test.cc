#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "store/object_store.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

class LocalObjectStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "sluice_store_XXXXXX").string();
    char* made = mkdtemp(tmpl.data());
    ASSERT_NE(made, nullptr);
    root_ = made;
    outside_ = root_ + "-outside";
    store_ = NewLocalObjectStore(root_ + "/");
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
    fs::remove_all(outside_, ec);
  }

  void Put(const std::string& key, const std::string& content) {
    auto out = store_->OpenWrite(key);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    ASSERT_TRUE((*out)->Write(content).ok());
    ASSERT_TRUE((*out)->Close().ok());
  }

  std::string Get(const std::string& key) {
    auto in = store_->OpenRead(key);
    EXPECT_TRUE(in.ok()) << in.status().ToString();
    if (!in.ok()) return "";
    auto s = ReadAll(**in);
    EXPECT_TRUE(s.ok());
    return s.ok() ? *s : "";
  }

  std::vector<std::string> ListKeys(const std::string& prefix) {
    auto l = store_->List(prefix);
    EXPECT_TRUE(l.ok()) << l.status().ToString();
    std::vector<std::string> out;
    if (l.ok()) {
      for (const auto& o : *l) out.push_back(o.key);
    }
    return out;
  }

  // Creates a raw file under the root, bypassing the store.
  void RawFile(const std::string& rel) {
    fs::create_directories(fs::path(root_ + "/" + rel).parent_path());
    std::ofstream(root_ + "/" + rel) << "x";
  }

  bool Exists(const std::string& rel) { return fs::exists(root_ + "/" + rel); }

  // Writes a file outside the store (where a producer's link may point) and
  // returns its path.
  std::string Outside(const std::string& rel, const std::string& content) {
    fs::path p = fs::path(outside_) / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
    return p.string();
  }

  static std::string ReadPath(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }

  std::string root_;
  std::string outside_;
  std::unique_ptr<ObjectStore> store_;
};

TEST_F(LocalObjectStoreTest, WriteReadStat) {
  Put("landing/orders/a.csv", "id\n1\n");
  EXPECT_EQ(Get("landing/orders/a.csv"), "id\n1\n");
  auto st = store_->Stat("landing/orders/a.csv");
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->key, "landing/orders/a.csv");
  EXPECT_EQ(st->size, 5);
  EXPECT_GT(st->mtime_us, 1'600'000'000'000'000);
  EXPECT_EQ(store_->LocalPath("landing/orders/a.csv"), root_ + "/landing/orders/a.csv");
  EXPECT_EQ(store_->Describe(), root_);
}

TEST_F(LocalObjectStoreTest, MissingObjectsAreNotFound) {
  EXPECT_EQ(store_->Stat("nope/x").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->OpenRead("nope/x").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Rename("nope/x", "nope/y").code(), StatusCode::kNotFound);
  Put("dir/sub/file", "x");
  EXPECT_EQ(store_->Stat("dir/sub").status().code(), StatusCode::kNotFound);  // a directory
  EXPECT_TRUE(store_->Delete("nope/x").ok());
  EXPECT_TRUE(store_->DeletePrefix("nope/").ok());
}

TEST_F(LocalObjectStoreTest, WriteIsInvisibleUntilClose) {
  auto out = store_->OpenWrite("staging/p.parquet");
  ASSERT_TRUE(out.ok());
  ASSERT_TRUE((*out)->Write("partial").ok());
  EXPECT_TRUE(ListKeys("").empty());
  EXPECT_EQ(store_->Stat("staging/p.parquet").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE((*out)->Close().ok());
  EXPECT_EQ(ListKeys(""), std::vector<std::string>{"staging/p.parquet"});

  auto aborted = store_->OpenWrite("staging/q.parquet");
  ASSERT_TRUE(aborted.ok());
  ASSERT_TRUE((*aborted)->Write("junk").ok());
  (*aborted)->Abort();
  EXPECT_EQ(ListKeys(""), std::vector<std::string>{"staging/p.parquet"});
}

TEST_F(LocalObjectStoreTest, UnsyncedWritesAndSync) {
  auto out = store_->OpenWriteUnsynced("archive/o/a.csv");
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_TRUE((*out)->Write("id\n1\n").ok());
  EXPECT_TRUE(ListKeys("").empty());  // invisible until Close, like OpenWrite
  ASSERT_TRUE((*out)->Close().ok());
  EXPECT_EQ(Get("archive/o/a.csv"), "id\n1\n");
  EXPECT_TRUE(store_->Sync("archive/o/a.csv").ok());
  EXPECT_EQ(store_->Sync("archive/o/missing.csv").code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Sync("../escape").code(), StatusCode::kInvalidArgument);
}

TEST_F(LocalObjectStoreTest, ListIsRecursiveSortedAndSkipsHiddenAndTemporaries) {
  for (const char* k : {"landing/orders/b.csv", "landing/orders/a.csv", "landing/orders/x/y.csv",
                        "landing/orders2/c.csv", "lake/t/part-0.parquet", "top.txt"}) {
    Put(k, "data");
  }
  RawFile("landing/orders/.hidden");
  RawFile("landing/orders/d.csv.tmp");
  RawFile("landing/orders/e.csv.tmp-12345");
  RawFile("landing/.git/config");
  fs::create_directories(root_ + "/landing/orders/empty_dir");

  EXPECT_EQ(ListKeys(""),
            (std::vector<std::string>{"lake/t/part-0.parquet", "landing/orders/a.csv",
                                      "landing/orders/b.csv", "landing/orders/x/y.csv",
                                      "landing/orders2/c.csv", "top.txt"}));
  EXPECT_EQ(ListKeys("landing/orders/"),
            (std::vector<std::string>{"landing/orders/a.csv", "landing/orders/b.csv",
                                      "landing/orders/x/y.csv"}));
  // A prefix need not end at a directory boundary.
  EXPECT_EQ(ListKeys("landing/orders"),
            (std::vector<std::string>{"landing/orders/a.csv", "landing/orders/b.csv",
                                      "landing/orders/x/y.csv", "landing/orders2/c.csv"}));
  EXPECT_EQ(ListKeys("landing/orders/a"), std::vector<std::string>{"landing/orders/a.csv"});
  EXPECT_TRUE(ListKeys("missing/").empty());
  auto sizes = store_->List("lake/");
  ASSERT_EQ(sizes->size(), 1u);
  EXPECT_EQ((*sizes)[0].size, 4);
}

// Issue 9: List used stat(), so a link in landing to an outside file was
// listed (then ingested and moved), a linked directory was descended into, and
// a link loop repeated the tree under it ~40 times (until ELOOP).
TEST_F(LocalObjectStoreTest, ListNeverFollowsSymlinks) {
  Put("landing/p/real.csv", "real");
  fs::create_symlink(Outside("secret.csv", "outside"), root_ + "/landing/p/link.csv");
  Outside("dir/inner.csv", "inner");
  fs::create_directory_symlink(outside_ + "/dir", root_ + "/landing/p/linkdir");
  fs::create_directory_symlink(root_ + "/landing/p", root_ + "/landing/p/loop");
  EXPECT_EQ(ListKeys("landing/"), std::vector<std::string>{"landing/p/real.csv"});
  EXPECT_EQ(ListKeys(""), std::vector<std::string>{"landing/p/real.csv"});
  EXPECT_TRUE(ListKeys("landing/p/linkdir/").empty());
}

// Issue 9: two links looping made the walk exponential (it never ended).
TEST_F(LocalObjectStoreTest, TwoSymlinkLoopsDoNotMakeListEndless) {
  Put("landing/p/a/x.csv", "x");
  fs::create_directory_symlink(root_ + "/landing/p", root_ + "/landing/p/a/up");
  fs::create_directory_symlink("..", root_ + "/landing/p/a/back");
  EXPECT_EQ(ListKeys("landing/"), std::vector<std::string>{"landing/p/a/x.csv"});
}

TEST_F(LocalObjectStoreTest, ListDetailedReportsTheEntriesItSkips) {
  Put("landing/p/real.csv", "real");
  fs::create_symlink(Outside("secret.csv", "outside"), root_ + "/landing/p/link.csv");
  fs::create_directory_symlink(outside_ + "/", root_ + "/landing/p/linkdir");
  fs::create_symlink(outside_ + "/none", root_ + "/landing/p/dangling.csv");
  fs::create_symlink(outside_ + "/secret.csv", root_ + "/landing/p/.hidden");  // ignored by name
  ASSERT_EQ(::mkfifo((root_ + "/landing/p/pipe.csv").c_str(), 0600), 0);
  fs::create_symlink(outside_ + "/secret.csv", root_ + "/landing/other.csv");  // not under prefix

  auto l = store_->ListDetailed("landing/p/");
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  ASSERT_EQ(l->objects.size(), 1u);
  EXPECT_EQ(l->objects[0].key, "landing/p/real.csv");
  std::vector<std::string> keys;
  for (const SkippedEntry& e : l->skipped) {
    keys.push_back(e.key);
    const bool fifo = e.key.ends_with("pipe.csv");
    EXPECT_NE(e.reason.find(fifo ? "not a regular file" : "symbolic link"), std::string::npos)
        << e.key << ": " << e.reason;
  }
  EXPECT_EQ(keys, (std::vector<std::string>{"landing/p/dangling.csv", "landing/p/link.csv",
                                            "landing/p/linkdir", "landing/p/pipe.csv"}));

  // A prefix inside a linked directory: the link is reported, nothing listed.
  l = store_->ListDetailed("landing/p/linkdir/sub/");
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  EXPECT_TRUE(l->objects.empty());
  ASSERT_EQ(l->skipped.size(), 1u);
  EXPECT_EQ(l->skipped[0].key, "landing/p/linkdir");
}

// Issue 9: a link was read, moved (Rename moved the link) and synced as if it
// were an object.
TEST_F(LocalObjectStoreTest, ALinkIsNotAnObject) {
  Put("landing/p/real.csv", "real");
  const std::string secret = Outside("secret.csv", "outside");
  fs::create_symlink(secret, root_ + "/landing/p/link.csv");
  const std::string key = "landing/p/link.csv";
  Status stat = store_->Stat(key).status();
  EXPECT_EQ(stat.code(), StatusCode::kNotFound);
  EXPECT_NE(stat.message().find("symbolic link"), std::string::npos) << stat.message();
  EXPECT_EQ(store_->OpenRead(key).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Sync(key).code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Rename(key, "archive/p/link.csv").code(), StatusCode::kNotFound);
  EXPECT_FALSE(fs::exists(fs::symlink_status(root_ + "/archive/p/link.csv")));
  // Not an object, so not ours to delete either: the producer's link stays.
  EXPECT_TRUE(store_->Delete(key).ok());
  EXPECT_TRUE(fs::is_symlink(root_ + "/" + key));
  EXPECT_EQ(ReadPath(secret), "outside");
}

// Issue 9: through a linked directory, a file outside the store was moved out
// of its directory (deleted from where it was).
TEST_F(LocalObjectStoreTest, KeysThroughALinkedDirectoryNameNoObject) {
  Put("landing/p/real.csv", "real");
  const std::string inner = Outside("dir/inner.csv", "inner");
  fs::create_directory_symlink(outside_ + "/dir", root_ + "/landing/p/linkdir");
  const std::string key = "landing/p/linkdir/inner.csv";
  Status stat = store_->Stat(key).status();
  EXPECT_EQ(stat.code(), StatusCode::kNotFound);
  EXPECT_NE(stat.message().find("'landing/p/linkdir' is a symbolic link"), std::string::npos)
      << stat.message();
  EXPECT_EQ(store_->OpenRead(key).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Sync(key).code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Rename(key, "archive/p/inner.csv").code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->Delete(key).ok());
  ASSERT_TRUE(store_->DeletePrefix("landing/p/").ok());
  EXPECT_EQ(ReadPath(inner), "inner");
  EXPECT_FALSE(Exists("archive/p/inner.csv"));
  EXPECT_FALSE(Exists("landing/p/real.csv"));
  // Nothing is written or moved into an outside directory either.
  EXPECT_EQ(store_->OpenWrite("landing/p/linkdir/new.csv").status().code(),
            StatusCode::kInvalidArgument);
  Put("staging/x", "x");
  EXPECT_EQ(store_->Rename("staging/x", "landing/p/linkdir/x").code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Get("staging/x"), "x");
  EXPECT_FALSE(fs::exists(outside_ + "/dir/new.csv"));
  EXPECT_FALSE(fs::exists(outside_ + "/dir/x"));
}

// The top-level directories may be links: the operator's layout (archive/ on
// another disk), not a producer's file.
TEST_F(LocalObjectStoreTest, TopLevelDirectoriesMayBeLinks) {
  fs::create_directories(outside_ + "/big");
  fs::create_directory_symlink(outside_ + "/big", root_ + "/archive");
  Put("archive/p/a.csv", "a");
  EXPECT_EQ(Get("archive/p/a.csv"), "a");
  EXPECT_TRUE(store_->Stat("archive/p/a.csv").ok());
  EXPECT_EQ(ListKeys("archive/"), std::vector<std::string>{"archive/p/a.csv"});
  EXPECT_EQ(ListKeys(""), std::vector<std::string>{"archive/p/a.csv"});
  EXPECT_TRUE(fs::exists(outside_ + "/big/p/a.csv"));
}

// A producer that keeps the source's mtime (scp -p, rsync -t) writes a file
// that looks old; the change time is the store's own clock.
TEST_F(LocalObjectStoreTest, ChangeTimeIsTheStoresOwnClock) {
  Put("landing/p/a.csv", "x");
  const struct timespec y2000[2] = {{946684800, 0}, {946684800, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, (root_ + "/landing/p/a.csv").c_str(), y2000, 0), 0);
  auto st = store_->Stat("landing/p/a.csv");
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(st->mtime_us, 946684800LL * 1'000'000);
  EXPECT_GT(st->change_us, 1'600'000'000'000'000);
  auto l = store_->List("landing/");
  ASSERT_TRUE(l.ok() && l->size() == 1u);
  EXPECT_EQ((*l)[0].mtime_us, st->mtime_us);
  EXPECT_EQ((*l)[0].change_us, st->change_us);
}

TEST_F(LocalObjectStoreTest, RejectsUnsafeKeys) {
  const char* bad[] = {"../etc/passwd", "a/../../b", "/abs/path", "a/./b", "a//b", "a/", "", ".."};
  for (const char* k : bad) {
    SCOPED_TRACE(k);
    EXPECT_EQ(store_->Stat(k).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(store_->OpenRead(k).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(store_->OpenWrite(k).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(store_->Delete(k).code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(store_->Rename(k, "ok/key").code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(store_->Rename("ok/key", k).code(), StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(store_->List("../").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->List("/x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->DeletePrefix("a/../").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->DeletePrefix("").code(), StatusCode::kInvalidArgument);
  // Dots inside names are fine.
  Put("a/..b/c..d", "ok");
  EXPECT_EQ(Get("a/..b/c..d"), "ok");
}

TEST_F(LocalObjectStoreTest, RenameMovesAndCreatesParents) {
  Put("staging/b1/part-0.parquet", "new");
  ASSERT_TRUE(store_->Rename("staging/b1/part-0.parquet", "lake/t/day=1/part-0.parquet").ok());
  EXPECT_EQ(Get("lake/t/day=1/part-0.parquet"), "new");
  EXPECT_EQ(store_->Stat("staging/b1/part-0.parquet").status().code(), StatusCode::kNotFound);
  Put("staging/b2/x", "x");
  ASSERT_TRUE(store_->Rename("staging/b2/x", "quarantine/orders/deep/er/x").ok());
  EXPECT_EQ(Get("quarantine/orders/deep/er/x"), "x");
  // The emptied staging directories are pruned; the top level stays.
  EXPECT_FALSE(Exists("staging/b1"));
  EXPECT_FALSE(Exists("staging/b2"));
  EXPECT_TRUE(Exists("staging"));
}

// Deferred moves are moves like Rename's (never replacing); their directories
// are synced together, and one removed meanwhile is no error.
TEST_F(LocalObjectStoreTest, DeferredRenamesAreSyncedTogether) {
  Put("staging/1/a", "a");
  Put("staging/2/b", "b");
  Put("staging/3/c", "c");
  Put("lake/t/c", "taken");
  ObjectStore::DeferredSync moved;
  ASSERT_TRUE(store_->RenameDeferred("staging/1/a", "lake/t/a", moved).ok());
  ASSERT_TRUE(store_->RenameDeferred("staging/2/b", "lake/u/b", moved).ok());
  EXPECT_EQ(store_->RenameDeferred("staging/3/c", "lake/t/c", moved).code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->RenameDeferred("staging/9/z", "lake/t/z", moved).code(), StatusCode::kNotFound);
  EXPECT_EQ(moved.keys, (std::set<std::string>{"lake/t/a", "lake/u/b"}));
  EXPECT_EQ(Get("lake/t/a"), "a");
  EXPECT_EQ(Get("lake/t/c"), "taken");
  EXPECT_FALSE(Exists("staging/1"));
  // lake/u is gone again before the sync (emptied by a later move).
  ASSERT_TRUE(store_->Rename("lake/u/b", "retired/b").ok());
  EXPECT_FALSE(Exists("lake/u"));
  moved.keys.insert("lake/elsewhere/moved-by-another");
  Status st = store_->SyncRenames(moved);
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_TRUE(moved.keys.empty());
  moved.keys.insert("../outside");
  EXPECT_EQ(store_->SyncRenames(moved).code(), StatusCode::kInvalidArgument);
}

// Issue 9: a file landed again under the same name was renamed over its
// archive copy. An existing object is never replaced, whatever it holds.
TEST_F(LocalObjectStoreTest, RenameNeverReplacesAnObject) {
  Put("landing/p/a.csv", "second landing");
  Put("archive/p/a.csv", "archived");
  Status st = store_->Rename("landing/p/a.csv", "archive/p/a.csv");
  EXPECT_EQ(st.code(), StatusCode::kAlreadyExists) << st.ToString();
  EXPECT_NE(st.message().find("never replaced"), std::string::npos) << st.message();
  EXPECT_EQ(Get("archive/p/a.csv"), "archived");
  EXPECT_EQ(Get("landing/p/a.csv"), "second landing");
  // Identical content is not special: the caller decides what it means.
  Put("staging/s", "archived");
  EXPECT_EQ(store_->Rename("staging/s", "archive/p/a.csv").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(Get("staging/s"), "archived");
  // A link at the target is an existing name too (and is not followed).
  const std::string outside = Outside("b.csv", "outside");
  fs::create_symlink(outside, root_ + "/archive/p/b.csv");
  EXPECT_EQ(store_->Rename("staging/s", "archive/p/b.csv").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(ReadPath(outside), "outside");
}

// Of many renames racing for one target, exactly one wins.
TEST_F(LocalObjectStoreTest, ConcurrentRenamesToOneKeyHaveOneWinner) {
  constexpr int kRacers = 8;
  for (int i = 0; i < kRacers; ++i) Put("staging/r" + std::to_string(i), std::to_string(i));
  std::atomic<int> won{0}, refused{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kRacers; ++i) {
    threads.emplace_back([&, i] {
      Status st = store_->Rename("staging/r" + std::to_string(i), "lake/t/final");
      if (st.ok()) ++won;
      if (st.code() == StatusCode::kAlreadyExists) ++refused;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(won.load(), 1);
  EXPECT_EQ(refused.load(), kRacers - 1);
  EXPECT_EQ(ListKeys("staging/").size(), static_cast<size_t>(kRacers - 1));
}

TEST_F(LocalObjectStoreTest, RenameAcrossFileSystemsCopies) {
  // A top-level directory that is a symlink into tmpfs puts the target on
  // another device, so rename(2) fails with EXDEV and the store must copy.
  std::error_code ec;
  if (!fs::is_directory("/dev/shm")) {
    GTEST_SKIP() << "no /dev/shm";
  }
  std::string tmpl = "/dev/shm/sluice_xdev_XXXXXX";
  char* made = mkdtemp(tmpl.data());
  if (made == nullptr) GTEST_SKIP() << "cannot create a directory in /dev/shm";
  std::string other = made;
  struct stat a {
  }, b{};
  ::stat(root_.c_str(), &a);
  ::stat(other.c_str(), &b);
  if (a.st_dev == b.st_dev) {
    fs::remove_all(other, ec);
    GTEST_SKIP() << "/dev/shm is on the same device as " << root_;
  }
  fs::create_directory_symlink(other, root_ + "/xdev");
  Put("staging/b1/part-0", "payload");
  Status st = store_->Rename("staging/b1/part-0", "xdev/t/part-0");
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(Get("xdev/t/part-0"), "payload");
  EXPECT_EQ(store_->Stat("staging/b1/part-0").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(fs::exists(other + "/t/part-0"));
  // The copy does not replace either, and leaves no temporary behind.
  Put("staging/b2/part-0", "second");
  st = store_->Rename("staging/b2/part-0", "xdev/t/part-0");
  EXPECT_EQ(st.code(), StatusCode::kAlreadyExists) << st.ToString();
  EXPECT_EQ(Get("xdev/t/part-0"), "payload");
  EXPECT_EQ(Get("staging/b2/part-0"), "second");
  EXPECT_EQ(ListKeys("xdev/"), std::vector<std::string>{"xdev/t/part-0"});
  fs::remove_all(other, ec);
}

TEST_F(LocalObjectStoreTest, DeletePrunesEmptyParentsUpToTopLevel) {
  Put("lake/t/day=1/a", "1");
  Put("lake/t/day=1/b", "2");
  Put("lake/t/day=2/c", "3");
  ASSERT_TRUE(store_->Delete("lake/t/day=1/a").ok());
  EXPECT_TRUE(Exists("lake/t/day=1"));  // still holds b
  ASSERT_TRUE(store_->Delete("lake/t/day=1/b").ok());
  EXPECT_FALSE(Exists("lake/t/day=1"));
  EXPECT_TRUE(Exists("lake/t/day=2/c"));
  ASSERT_TRUE(store_->Delete("lake/t/day=2/c").ok());
  EXPECT_FALSE(Exists("lake/t"));
  EXPECT_TRUE(Exists("lake"));
  EXPECT_TRUE(store_->Delete("lake/t/day=2/c").ok());  // already gone
  Put("dir/sub/f", "x");
  EXPECT_EQ(store_->Delete("dir/sub").code(), StatusCode::kInvalidArgument);
  // Producers' directories under landing/ are kept, emptied or not.
  Put("landing/p/day=1/a.csv", "1");
  ASSERT_TRUE(store_->Rename("landing/p/day=1/a.csv", "archive/p/a.csv").ok());
  EXPECT_TRUE(Exists("landing/p/day=1"));
  ASSERT_TRUE(store_->Delete("archive/p/a.csv").ok());
  EXPECT_FALSE(Exists("archive/p"));
}

TEST_F(LocalObjectStoreTest, DeletePrefixRemovesOnlyMatchingObjects) {
  Put("staging/b1/a", "1");
  Put("staging/b1/sub/b", "2");
  Put("staging/b10/c", "3");
  Put("staging/b2/d", "4");
  ASSERT_TRUE(store_->DeletePrefix("staging/b1/").ok());
  EXPECT_EQ(ListKeys("staging/"), (std::vector<std::string>{"staging/b10/c", "staging/b2/d"}));
  EXPECT_FALSE(Exists("staging/b1"));
  ASSERT_TRUE(store_->DeletePrefix("staging/b").ok());
  EXPECT_TRUE(ListKeys("").empty());
  EXPECT_TRUE(Exists("staging"));
}

TEST_F(LocalObjectStoreTest, ConcurrentWritersAndDeletersInOneDirectory) {
  // Writers keep creating files in a directory that deleters keep emptying;
  // pruning must never make a write fail.
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < 4; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < 150; ++i) {
        std::string key = "staging/shared/dir/w" + std::to_string(w) + "-" + std::to_string(i);
        auto out = store_->OpenWrite(key);
        if (!out.ok() || !(*out)->Write("x").ok() || !(*out)->Close().ok()) {
          ++failures;
          continue;
        }
        if (!store_->Delete(key).ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_TRUE(ListKeys("staging/").empty());
}

// The base class's ListAfter (a filtered List) pages a local listing; the
// local store renames atomically and has no ETags.
TEST_F(LocalObjectStoreTest, ListAfterPagesTheListing) {
  for (const char* k : {"landing/a", "landing/b", "landing/c/d", "landing/e", "lake/x"})
    Put(k, "1");
  auto page = store_->ListAfter("landing/", "", 2);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->objects.size(), 2u);
  EXPECT_EQ(page->objects[1].key, "landing/b");
  EXPECT_TRUE(page->truncated);
  page = store_->ListAfter("landing/", "landing/b", 2);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->objects.size(), 2u);
  EXPECT_EQ(page->objects[0].key, "landing/c/d");
  EXPECT_EQ(page->objects[1].key, "landing/e");
  EXPECT_FALSE(page->truncated);
  page = store_->ListAfter("landing/", "landing/bb", 10);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->objects.size(), 2u);
  EXPECT_FALSE(page->truncated);
  EXPECT_EQ(store_->ListAfter("landing/", "", 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(store_->AtomicRename());
  EXPECT_EQ(store_->Stat("landing/a")->etag, "");
}

}  // namespace
}  // namespace sluice
