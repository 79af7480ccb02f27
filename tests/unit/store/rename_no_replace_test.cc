#include "store/internal/rename_no_replace.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace sluice::internal {
namespace {

namespace fs = std::filesystem;

std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Both methods, so that the link() fallback (file systems without
// RENAME_NOREPLACE) is exercised on any machine.
class RenameNoReplaceTest : public ::testing::TestWithParam<NoReplaceMethod> {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "sluice_rnr_XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string Write(const std::string& name, const std::string& content) {
    std::ofstream(dir_ + "/" + name, std::ios::binary) << content;
    return dir_ + "/" + name;
  }
  std::string dir_;
};

TEST_P(RenameNoReplaceTest, MovesOnlyWhenTheTargetIsFree) {
  const std::string a = Write("a", "first"), b = Write("b", "second");
  const std::string target = dir_ + "/t";
  EXPECT_EQ(RenameNoReplace(a, target, GetParam()), 0);
  EXPECT_FALSE(fs::exists(a));
  EXPECT_EQ(Read(target), "first");

  EXPECT_EQ(RenameNoReplace(b, target, GetParam()), EEXIST);
  EXPECT_EQ(Read(target), "first");
  EXPECT_EQ(Read(b), "second");

  EXPECT_EQ(RenameNoReplace(dir_ + "/missing", dir_ + "/u", GetParam()), ENOENT);
  EXPECT_FALSE(fs::exists(dir_ + "/u"));
}

INSTANTIATE_TEST_SUITE_P(Methods, RenameNoReplaceTest,
                         ::testing::Values(NoReplaceMethod::kRenameat2, NoReplaceMethod::kLink));

}  // namespace
}  // namespace sluice::internal
