// OutputStream::CopyFileFrom: a local file appended by a reflink or an
// in-kernel copy, hashed from the copy; and the cases where it must decline.
#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <string>

#include "core/hash.h"
#include "core/io.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

class KernelCopyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sluice-kcopy-" + std::to_string(::getpid()) + "-" +
                                        std::to_string(std::random_device{}()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  // Bytes that differ everywhere, so a chunk copied twice or skipped shows.
  static std::string Pattern(size_t n) {
    std::string s(n, '\0');
    std::mt19937_64 rng(7);
    for (char& c : s) c = static_cast<char>(rng());
    return s;
  }

  fs::path dir_;
};

TEST_F(KernelCopyTest, CopiesALargeFileAndHashesTheCopy) {
  // Larger than one 16 MB chunk of the in-kernel copy, not a multiple of it.
  const std::string data = Pattern((size_t{16} << 20) * 2 + 12345);
  ASSERT_TRUE(WriteFileAtomic(Path("src"), data).ok());
  auto out = OpenFileOutput(Path("dst"), /*sync=*/false);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const int fd = ::open(Path("src").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  auto copied = (*out)->CopyFileFrom(fd);
  ::close(fd);
  ASSERT_TRUE(copied.ok()) << copied.status().ToString();
  // Linux copies within one file system (ext4, tmpfs, btrfs, XFS all can).
  ASSERT_TRUE(copied->has_value());
  EXPECT_EQ((*copied)->bytes, static_cast<int64_t>(data.size()));
  EXPECT_EQ((*copied)->sha256, Sha256Hex(data));
  EXPECT_EQ((*out)->Tell(), static_cast<int64_t>(data.size()));
  // Nothing under the final name before Close.
  EXPECT_FALSE(fs::exists(Path("dst")));
  ASSERT_TRUE((*out)->Close().ok());
  auto back = ReadFileToString(Path("dst"));
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(*back == data);
}

TEST_F(KernelCopyTest, AnEmptyFileIsAnEmptyCopy) {
  ASSERT_TRUE(WriteFileAtomic(Path("src"), "").ok());
  auto out = OpenFileOutput(Path("dst"), /*sync=*/true);
  ASSERT_TRUE(out.ok());
  const int fd = ::open(Path("src").c_str(), O_RDONLY | O_CLOEXEC);
  auto copied = (*out)->CopyFileFrom(fd);
  ::close(fd);
  ASSERT_TRUE(copied.ok() && copied->has_value());
  EXPECT_EQ((*copied)->bytes, 0);
  EXPECT_EQ((*copied)->sha256, Sha256Hex(""));
  ASSERT_TRUE((*out)->Close().ok());
  EXPECT_EQ(fs::file_size(Path("dst")), 0u);
}

TEST_F(KernelCopyTest, DeclinesAPipeAndLeavesTheStreamUsable) {
  int pipefd[2];
  ASSERT_EQ(::pipe(pipefd), 0);
  ASSERT_EQ(::write(pipefd[1], "abc", 3), 3);
  ::close(pipefd[1]);
  auto out = OpenFileOutput(Path("dst"), /*sync=*/false);
  ASSERT_TRUE(out.ok());
  auto copied = (*out)->CopyFileFrom(pipefd[0]);
  ::close(pipefd[0]);
  ASSERT_TRUE(copied.ok()) << copied.status().ToString();
  EXPECT_FALSE(copied->has_value());
  EXPECT_EQ((*out)->Tell(), 0);
  ASSERT_TRUE((*out)->Write("xyz").ok());
  ASSERT_TRUE((*out)->Close().ok());
  EXPECT_EQ(*ReadFileToString(Path("dst")), "xyz");
}

TEST_F(KernelCopyTest, DeclinesOnceSomethingWasWritten) {
  ASSERT_TRUE(WriteFileAtomic(Path("src"), "body").ok());
  auto out = OpenFileOutput(Path("dst"), /*sync=*/false);
  ASSERT_TRUE(out.ok());
  ASSERT_TRUE((*out)->Write("head-").ok());
  const int fd = ::open(Path("src").c_str(), O_RDONLY | O_CLOEXEC);
  auto copied = (*out)->CopyFileFrom(fd);
  ::close(fd);
  ASSERT_TRUE(copied.ok());
  EXPECT_FALSE(copied->has_value());
  ASSERT_TRUE((*out)->Close().ok());
  EXPECT_EQ(*ReadFileToString(Path("dst")), "head-");
}

TEST_F(KernelCopyTest, StreamsThatAreNotLocalFilesDecline) {
  ASSERT_TRUE(WriteFileAtomic(Path("src"), "body").ok());
  std::string target;
  auto out = NewStringOutput(&target);
  const int fd = ::open(Path("src").c_str(), O_RDONLY | O_CLOEXEC);
  auto copied = out->CopyFileFrom(fd);
  ::close(fd);
  ASSERT_TRUE(copied.ok());
  EXPECT_FALSE(copied->has_value());
  EXPECT_TRUE(target.empty());
}

}  // namespace
}  // namespace sluice
