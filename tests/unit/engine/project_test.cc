#include "engine/project.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "test_project.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

std::string Spec(const std::string& name, const std::string& pattern = "*.csv") {
  return "pipeline: " + name + "\nsource:\n  pattern: \"" + pattern +
         "\"\n  format: csv\nschema:\n  id: int64\noutputs:\n  - table: " + name + "\n";
}

class ProjectOpenTest : public testing::ProjectTest {};

TEST_F(ProjectOpenTest, CreatesTheStoreLayoutAndCatalog) {
  config_.catalog_path = dir_.path() + "/state/nested/catalog.db";
  Open();
  for (const char* sub : {"landing", "archive", "staging", "lake", "quarantine"}) {
    EXPECT_TRUE(fs::is_directory(config_.store_root + "/" + sub)) << sub;
  }
  EXPECT_TRUE(fs::exists(config_.catalog_path));
  EXPECT_EQ(project_->store().Describe(), config_.store_root);
  auto lc = project_->landing();
  EXPECT_EQ(lc.store, &project_->store());
  EXPECT_EQ(lc.catalog, &project_->catalog());
  EXPECT_EQ(lc.queue, &project_->queue());
  auto depth = project_->queue().Depth();
  ASSERT_TRUE(depth.ok()) << depth.status().ToString();
  EXPECT_EQ(*depth, 0);
}

TEST_F(ProjectOpenTest, ReopensAnExistingProject) {
  Open();
  Deploy("orders", Spec("orders"));
  project_.reset();
  Open();
  auto active = project_->catalog().GetActiveVersion("orders");
  ASSERT_TRUE(active.ok()) << active.status().ToString();
  EXPECT_EQ(active->spec_text, Spec("orders"));
}

TEST_F(ProjectOpenTest, RejectsAnInvalidConfig) {
  config_.max_attempts = 0;
  auto p = Project::Open(config_);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(p.status().message().find("max_attempts"), std::string::npos);
}

TEST_F(ProjectOpenTest, StoreRootThatIsAFileIsAnError) {
  dir_.Write("store", "not a directory");
  auto p = Project::Open(config_);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kIOError);
  EXPECT_NE(p.status().message().find(config_.store_root), std::string::npos)
      << p.status().ToString();
}

class SyncPipelinesTest : public testing::ProjectTest {
 protected:
  SyncReport Sync() {
    auto r = project_->SyncPipelines();
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : SyncReport{};
  }
  std::vector<std::string> ActiveNames() {
    auto specs = project_->ActivePipelines();
    EXPECT_TRUE(specs.ok()) << specs.status().ToString();
    std::vector<std::string> names;
    if (specs.ok()) {
      for (const PipelineSpec& s : *specs) names.push_back(s.name);
    }
    std::sort(names.begin(), names.end());
    return names;
  }
};

TEST_F(SyncPipelinesTest, NoPipelinesDirectoryIsEmpty) {
  Open();
  SyncReport r = Sync();
  EXPECT_TRUE(r.deployed.empty());
  EXPECT_TRUE(r.errors.empty());
  EXPECT_TRUE(ActiveNames().empty());
}

TEST_F(SyncPipelinesTest, DeploysNewAndChangedSpecsOnly) {
  Open();
  WritePipeline("orders", Spec("orders"));
  WritePipeline("users", Spec("users"));
  dir_.Write("pipelines/README.md", "not a spec");
  SyncReport first = Sync();
  ASSERT_EQ(first.deployed.size(), 2u);
  EXPECT_EQ(first.deployed[0].rfind("orders version ", 0), 0u) << first.deployed[0];
  EXPECT_NE(first.deployed[0].find("(sha256 "), std::string::npos);
  EXPECT_EQ(first.deployed[1].rfind("users version ", 0), 0u) << first.deployed[1];
  EXPECT_TRUE(first.errors.empty());
  EXPECT_EQ(ActiveNames(), (std::vector<std::string>{"orders", "users"}));

  EXPECT_TRUE(Sync().deployed.empty()) << "unchanged text is not a new version";

  auto v1 = project_->catalog().GetActiveVersion("orders");
  ASSERT_TRUE(v1.ok());
  WritePipeline("orders", Spec("orders", "*.csv*"));
  SyncReport changed = Sync();
  ASSERT_EQ(changed.deployed.size(), 1u);
  EXPECT_EQ(changed.deployed[0].rfind("orders version ", 0), 0u);
  auto v2 = project_->catalog().GetActiveVersion("orders");
  ASSERT_TRUE(v2.ok());
  EXPECT_NE(v2->id, v1->id);
  auto specs = project_->ActivePipelines();
  ASSERT_TRUE(specs.ok());
  for (const PipelineSpec& s : *specs) {
    if (s.name == "orders") {
      EXPECT_EQ(s.source.pattern, "*.csv*");
    }
  }
}

TEST_F(SyncPipelinesTest, BadSpecsAreReportedAndNotDeployed) {
  Open();
  WritePipeline("good", Spec("good"));
  WritePipeline("bad", "pipeline: bad\nschema:\n  id: nosuchtype\noutputs:\n  - table: bad\n");
  // Two files defining one pipeline: the second (in name order) is refused.
  dir_.Write("pipelines/z_copy.yml", Spec("good", "*.tsv"));
  SyncReport r = Sync();
  ASSERT_EQ(r.errors.size(), 2u);
  EXPECT_NE(r.errors[0].find("bad.yaml"), std::string::npos) << r.errors[0];
  EXPECT_NE(r.errors[1].find("z_copy.yml"), std::string::npos) << r.errors[1];
  EXPECT_NE(r.errors[1].find("also defined in"), std::string::npos) << r.errors[1];
  EXPECT_EQ(ActiveNames(), std::vector<std::string>{"good"});
  auto active = project_->catalog().GetActiveVersion("good");
  ASSERT_TRUE(active.ok());
  EXPECT_EQ(active->spec_text, Spec("good"));
}

// --- explicit deploys (issue 9, item 8) --------------------------------------------

// Two servers whose spec files differed flipped the active version on every
// poll (74 deploys in 8 s), pinning batches at random. Now a process deploys
// its file only when the file changed since it was last deployed from, and
// reports that its text is not the active one.
TEST_F(SyncPipelinesTest, Issue9ProcessesWhoseSpecsDifferDoNotTakeTurns) {
  Open();
  WritePipeline("orders", Spec("orders"));
  Config other_config = config_;
  other_config.pipelines_dir = dir_.path() + "/other_pipelines";
  fs::create_directories(other_config.pipelines_dir);
  ASSERT_TRUE(
      WriteFileAtomic(other_config.pipelines_dir + "/orders.yaml", Spec("orders", "*.tsv")).ok());
  auto other = Project::Open(other_config);
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  auto sync_other = [&] {
    auto r = (*other)->SyncPipelines();
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : SyncReport{};
  };

  EXPECT_EQ(Sync().deployed.size(), 1u);
  EXPECT_EQ(sync_other().deployed.size(), 1u) << "a file never deployed from is a change";
  auto active = project_->catalog().GetActiveVersion("orders");
  ASSERT_TRUE(active.ok());
  EXPECT_EQ(active->spec_text, Spec("orders", "*.tsv"));

  for (int poll = 0; poll < 10; ++poll) {
    SyncReport mine = Sync();
    EXPECT_TRUE(mine.deployed.empty()) << "poll " << poll << ": " << mine.deployed.front();
    ASSERT_EQ(mine.differs.size(), 1u);
    EXPECT_EQ(mine.differs[0].rfind("orders: ", 0), 0u) << mine.differs[0];
    EXPECT_NE(mine.differs[0].find("version " + std::to_string(active->id)), std::string::npos)
        << mine.differs[0];
    SyncReport theirs = sync_other();
    EXPECT_TRUE(theirs.deployed.empty());
    EXPECT_TRUE(theirs.differs.empty());
  }
  auto still = project_->catalog().GetActiveVersion("orders");
  ASSERT_TRUE(still.ok());
  EXPECT_EQ(still->id, active->id);

  // A restarted process whose file did not change does not deploy either:
  // the catalog remembers what was deployed from each file.
  project_.reset();
  Open();
  SyncReport restarted = Sync();
  EXPECT_TRUE(restarted.deployed.empty());
  EXPECT_EQ(restarted.differs.size(), 1u);

  // Editing the file is an explicit deploy; the other process, whose file did
  // not change, reports the difference and leaves the active version alone.
  WritePipeline("orders", Spec("orders", "*.csv.gz"));
  SyncReport edited = Sync();
  EXPECT_EQ(edited.deployed.size(), 1u);
  EXPECT_TRUE(edited.differs.empty());
  SyncReport theirs = sync_other();
  EXPECT_TRUE(theirs.deployed.empty());
  EXPECT_EQ(theirs.differs.size(), 1u);
  auto now = project_->catalog().GetActiveVersion("orders");
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(now->spec_text, Spec("orders", "*.csv.gz"));
}

// Two hosts (containers) may hold different files under the same path: the
// per-file record in the catalog cannot tell them apart, so a process also
// remembers what it read, and deploys only when its own file changes.
TEST_F(SyncPipelinesTest, Issue9SamePathWithDifferentTextsDoesNotTakeTurns) {
  Open();
  auto other = Project::Open(config_);
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  WritePipeline("orders", Spec("orders"));
  EXPECT_EQ(Sync().deployed.size(), 1u);
  WritePipeline("orders", Spec("orders", "*.tsv"));
  auto first = (*other)->SyncPipelines();
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->deployed.size(), 1u);
  for (int poll = 0; poll < 5; ++poll) {
    WritePipeline("orders", Spec("orders"));
    SyncReport mine = Sync();
    EXPECT_TRUE(mine.deployed.empty()) << "poll " << poll;
    EXPECT_EQ(mine.differs.size(), 1u);
    WritePipeline("orders", Spec("orders", "*.tsv"));
    auto theirs = (*other)->SyncPipelines();
    ASSERT_TRUE(theirs.ok());
    EXPECT_TRUE(theirs->deployed.empty()) << "poll " << poll;
    EXPECT_TRUE(theirs->differs.empty());
  }
  auto active = project_->catalog().GetActiveVersion("orders");
  ASSERT_TRUE(active.ok());
  EXPECT_EQ(active->spec_text, Spec("orders", "*.tsv"));
}

// --- store and catalog belong together (issue 9, item 1) --------------------------

class StoreIdentityTest : public testing::ProjectTest {
 protected:
  // A project with one committed batch (files in lake/ and archive/).
  void ProjectWithData() {
    Open();
    Deploy("orders", Spec("orders"));
    const int64_t id = LandAndRegister("orders", "a.csv", "id\n1\n2\n");
    auto r = ProcessBatch(Env(), id);
    ASSERT_TRUE(r.ok() && *r == ProcessOutcome::kCommitted) << r.status().ToString();
    project_.reset();
    faults_.reset();
  }
};

// Truncating catalog.db made sluice start a fresh catalog and commit batch 1
// again, replacing the committed part-b1 file.
TEST_F(StoreIdentityTest, AnEmptiedCatalogIsRefused) {
  ProjectWithData();
  auto lake_before = testing::Keys(*NewLocalObjectStore(config_.store_root), "lake/");
  ASSERT_EQ(lake_before.size(), 1u);
  fs::resize_file(config_.catalog_path, 0);
  for (const char* suffix : {"-wal", "-shm"}) fs::remove(config_.catalog_path + suffix);
  auto p = Project::Open(config_);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(p.status().message().find("belongs to catalog"), std::string::npos)
      << p.status().ToString();
  EXPECT_NE(p.status().message().find("restore it from a backup"), std::string::npos);
  EXPECT_EQ(testing::Keys(*NewLocalObjectStore(config_.store_root), "lake/"), lake_before);
}

TEST_F(StoreIdentityTest, TwoCatalogsCannotShareAStore) {
  ProjectWithData();
  Config other = config_;
  other.catalog_path = dir_.path() + "/other/catalog.db";
  auto p = Project::Open(other);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kFailedPrecondition) << p.status().ToString();
}

// A store made before stores recorded their catalog: adopted by the catalog
// that has data, refused to a new empty one.
TEST_F(StoreIdentityTest, AnUnclaimedStoreWithDataNeedsACatalogWithData) {
  ProjectWithData();
  ASSERT_TRUE(fs::remove(config_.store_root + "/.sluice-store.json"));
  Config other = config_;
  other.catalog_path = dir_.path() + "/other/catalog.db";
  auto refused = Project::Open(other);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("already holds data"), std::string::npos)
      << refused.status().ToString();
  EXPECT_NE(refused.status().message().find("sluice init"), std::string::npos);

  Open();  // the catalog with the data adopts it
  EXPECT_TRUE(fs::exists(config_.store_root + "/.sluice-store.json"));
  project_.reset();
  EXPECT_FALSE(Project::Open(other).ok());
}

TEST_F(StoreIdentityTest, ANewProjectClaimsItsEmptyStore) {
  Open();
  EXPECT_TRUE(fs::exists(config_.store_root + "/.sluice-store.json"));
  project_.reset();
  Open();  // and opens it again
}

// A damaged catalog page was noticed only at the first write.
TEST_F(StoreIdentityTest, ADamagedCatalogStopsSluiceWithRecoverySteps) {
  ProjectWithData();
  {
    // Overwrite the headers of a few b-tree pages (not the file header).
    std::fstream f(config_.catalog_path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(0, std::ios::end);
    const std::streamoff size = f.tellp();
    ASSERT_GT(size, 8 * 4096);
    for (std::streamoff off = 4 * 4096; off < 8 * 4096; off += 4096) {
      f.seekp(off);
      f.write("\xde\xad\xbe\xef\xde\xad\xbe\xef", 8);
    }
  }
  auto p = Project::Open(config_);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kDataLoss) << p.status().ToString();
  EXPECT_NE(p.status().message().find(".recover"), std::string::npos) << p.status().ToString();
}

// Reference tables belong to the project that opened them: two pipelines of
// one project share a loaded table, another project loads its own.
TEST_F(ProjectOpenTest, ReferenceTablesAreSharedWithinOneProjectOnly) {
  const std::string ref = dir_.Write("ref/customers.csv", "id,name\n1,Ada\n");
  auto spec = [&](const std::string& name) {
    return "pipeline: " + name +
           "\nschema:\n  cust: int64\nreferences:\n  customers: { file: " + ref +
           " }\ntransform:\n  - lookup: { from: customers, on: { cust: id } }\n" +
           "outputs:\n  - table: " + name + "\n";
  };
  Open();
  EXPECT_EQ(project_->reference_cache().size(), 0u);
  auto a = ParsePipeline(spec("a"), "a.yaml", project_->references());
  auto b = ParsePipeline(spec("b"), "b.yaml", project_->references());
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(project_->reference_cache().size(), 1u);
  auto ra = OpenPipelineReferences(*a, project_->references());
  auto rb = OpenPipelineReferences(*b, project_->references());
  ASSERT_TRUE(ra.ok() && rb.ok());
  ASSERT_NE(ra->Find("customers"), nullptr);
  EXPECT_EQ(ra->Find("customers"), rb->Find("customers"));

  testing::ScratchDir other_dir;
  auto other = Project::Open(DefaultConfig(other_dir.path()));
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  EXPECT_EQ((*other)->reference_cache().size(), 0u);
  auto rc = OpenPipelineReferences(*a, (*other)->references());
  ASSERT_TRUE(rc.ok()) << rc.status().ToString();
  EXPECT_NE(rc->Find("customers"), ra->Find("customers"));
  EXPECT_EQ(rc->Uses(), ra->Uses());  // the same content: the same identity
  EXPECT_EQ(project_->reference_cache().size(), 1u);
  EXPECT_EQ((*other)->reference_cache().size(), 1u);
}

}  // namespace
}  // namespace sluice
