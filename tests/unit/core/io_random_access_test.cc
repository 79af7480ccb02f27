// RandomAccessFile views of input streams and MakeRandomAccess's fallback for
// streams that cannot seek (copied to memory, or spilled to a temp file).
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include <filesystem>
#include <string>

#include "core/io.h"

namespace sluice {
namespace {

// A stream that only reads forward, in small pieces.
class ForwardOnly final : public InputStream {
 public:
  explicit ForwardOnly(std::string data) : data_(std::move(data)) {}
  Result<size_t> Read(char* buf, size_t n) override {
    size_t k = std::min({n, size_t{7}, data_.size() - pos_});
    std::memcpy(buf, data_.data() + pos_, k);
    pos_ += k;
    return k;
  }
  const std::string& name() const override { return name_; }
  int64_t BytesConsumed() const override { return static_cast<int64_t>(pos_); }

 private:
  std::string data_;
  std::string name_ = "pipe";
  size_t pos_ = 0;
};

std::string ReadRange(const RandomAccessFile& f, int64_t offset, size_t n) {
  std::string out(n, '\0');
  Status st = f.ReadAt(offset, n, out.data());
  return st.ok() ? out : "!" + st.ToString();
}

std::string Pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + i * 7 % 26);
  return s;
}

TEST(RandomAccess, LocalFilesAndStringsHaveTheirOwnView) {
  const std::string data = Pattern(5000);
  std::string path =
      (std::filesystem::temp_directory_path() / ("sluice_ra_" + std::to_string(::getpid())))
          .string();
  ASSERT_TRUE(WriteFileAtomic(path, data).ok());
  std::unique_ptr<RandomAccessFile> view;
  {
    auto in = OpenFileInput(path);
    ASSERT_TRUE(in.ok());
    char head[10];
    ASSERT_TRUE((*in)->Read(head, sizeof head).ok());  // the stream's position does not matter
    auto ra = (*in)->OpenRandomAccess();
    ASSERT_TRUE(ra.ok());
    ASSERT_NE(*ra, nullptr);
    view = std::move(*ra);
  }
  // The view outlives the stream and even the file's name.
  std::filesystem::remove(path);
  EXPECT_EQ(view->size(), 5000);
  EXPECT_EQ(view->name(), path);
  EXPECT_EQ(ReadRange(*view, 4990, 10), data.substr(4990));
  EXPECT_EQ(ReadRange(*view, 0, 3), data.substr(0, 3));
  std::string past = ReadRange(*view, 4995, 10);
  EXPECT_EQ(past.substr(0, 10), "!DATA_LOSS");

  auto s = NewStringInput(data, "mem");
  auto sra = MakeRandomAccess(*s);
  ASSERT_TRUE(sra.ok());
  EXPECT_EQ(ReadRange(**sra, 100, 50), data.substr(100, 50));
  EXPECT_EQ(ReadRange(**sra, -1, 1).substr(0, 10), "!DATA_LOSS");
}

TEST(RandomAccess, ForwardOnlyStreamsAreBufferedOrSpilled) {
  const std::string data = Pattern(100000);
  for (size_t limit : {size_t{1} << 20, size_t{1000}}) {
    ForwardOnly in(data);
    ASSERT_EQ(*in.OpenRandomAccess(), nullptr);
    auto ra = MakeRandomAccess(in, limit);
    ASSERT_TRUE(ra.ok()) << ra.status().ToString();
    EXPECT_EQ((*ra)->size(), 100000);
    EXPECT_EQ((*ra)->name(), "pipe");
    for (int64_t off : {0, 999, 1000, 65535, 99990}) {
      EXPECT_EQ(ReadRange(**ra, off, 10), data.substr(off, 10)) << "limit " << limit;
    }
    EXPECT_EQ(ReadRange(**ra, 99995, 10).substr(0, 10), "!DATA_LOSS");
  }
}

}  // namespace
}  // namespace sluice
