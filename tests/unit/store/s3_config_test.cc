// S3StoreConfig: URL parsing, validation, and credential resolution
// (explicit > environment > shared credentials file). Each test sets the
// environment it needs (ctest runs every test in its own process).
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "store/s3_object_store.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

class S3ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* v :
         {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION",
          "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SHARED_CREDENTIALS_FILE"}) {
      ::unsetenv(v);
    }
    dir_ = fs::temp_directory_path() / ("sluice-s3cfg-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    // Never the developer's own ~/.aws.
    ::setenv("HOME", dir_.c_str(), 1);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string WriteCredentials(const std::string& text) {
    const std::string path = (dir_ / "credentials").string();
    std::ofstream(path) << text;
    return path;
  }

  static S3StoreConfig Bucket() {
    S3StoreConfig c;
    c.bucket = "my-bucket";
    return c;
  }

  fs::path dir_;
};

TEST_F(S3ConfigTest, ParseS3Url) {
  auto c = ParseS3Url("s3://my-bucket/some/prefix/");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->bucket, "my-bucket");
  EXPECT_EQ(c->prefix, "some/prefix");
  c = ParseS3Url("s3://my-bucket");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->prefix, "");
  for (const char* bad :
       {"http://b/p", "s3://", "s3:///p", "s3://b/", "s3://Bad Bucket/x", "s3://bb/a//b"}) {
    auto r = ParseS3Url(bad);
    if (std::string(bad) == "s3://b/") {
      EXPECT_FALSE(r.ok()) << bad;  // "b" is too short for a bucket name
    } else {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
    }
  }
}

TEST_F(S3ConfigTest, ExplicitCredentialsWin) {
  ::setenv("AWS_ACCESS_KEY_ID", "ENVKEY", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "ENVSECRET", 1);
  ::setenv("AWS_SESSION_TOKEN", "ENVTOKEN", 1);
  S3StoreConfig c = Bucket();
  c.access_key = "CFGKEY";
  c.secret_key = "CFGSECRET";
  auto r = ResolveS3Config(c);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->access_key, "CFGKEY");
  EXPECT_EQ(r->secret_key, "CFGSECRET");
  EXPECT_EQ(r->session_token, "") << "the environment's token never joins explicit keys";
}

TEST_F(S3ConfigTest, EnvironmentCredentialsRegionAndEndpoint) {
  ::setenv("AWS_ACCESS_KEY_ID", "ENVKEY", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "ENVSECRET", 1);
  ::setenv("AWS_SESSION_TOKEN", "ENVTOKEN", 1);
  ::setenv("AWS_DEFAULT_REGION", "eu-west-1", 1);
  ::setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9000/", 1);
  WriteCredentials("[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = FILESECRET\n");
  auto r = ResolveS3Config(Bucket());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->access_key, "ENVKEY");
  EXPECT_EQ(r->secret_key, "ENVSECRET");
  EXPECT_EQ(r->session_token, "ENVTOKEN");
  EXPECT_EQ(r->region, "eu-west-1");
  EXPECT_EQ(r->endpoint, "http://127.0.0.1:9000");
  EXPECT_EQ(r->path_style, true);
  ::setenv("AWS_REGION", "ap-south-1", 1);  // AWS_REGION before AWS_DEFAULT_REGION
  EXPECT_EQ(ResolveS3Config(Bucket())->region, "ap-south-1");
  EXPECT_TRUE(r->Validate().ok());

  ::unsetenv("AWS_SECRET_ACCESS_KEY");
  auto half = ResolveS3Config(Bucket());
  EXPECT_EQ(half.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(half.status().message().find("AWS_SECRET_ACCESS_KEY"), std::string::npos);
  EXPECT_EQ(half.status().message().find("ENVKEY"), std::string::npos);
}

TEST_F(S3ConfigTest, SharedCredentialsFileAndProfile) {
  const std::string path = WriteCredentials(
      "# comment\n[default]\naws_access_key_id=DEFKEY\naws_secret_access_key = DEFSECRET\n\n"
      "; another comment\n[ci]\n  aws_access_key_id = CIKEY  \naws_secret_access_key=CI/SECRET+=\n"
      "aws_session_token = CITOKEN\nregion = eu-north-1\n[profile other]\n"
      "aws_access_key_id=OTHER\naws_secret_access_key=OTHERSECRET\n");
  // ~/.aws/credentials by default.
  fs::create_directories(dir_ / ".aws");
  fs::copy_file(path, dir_ / ".aws" / "credentials");
  auto r = ResolveS3Config(Bucket());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->access_key, "DEFKEY");
  EXPECT_EQ(r->secret_key, "DEFSECRET");
  EXPECT_EQ(r->region, "us-east-1");
  EXPECT_EQ(r->endpoint, "https://s3.us-east-1.amazonaws.com");
  EXPECT_EQ(r->path_style, false);

  fs::remove(dir_ / ".aws" / "credentials");
  ::setenv("AWS_SHARED_CREDENTIALS_FILE", path.c_str(), 1);
  ::setenv("AWS_PROFILE", "ci", 1);
  r = ResolveS3Config(Bucket());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->access_key, "CIKEY");
  EXPECT_EQ(r->secret_key, "CI/SECRET+=");
  EXPECT_EQ(r->session_token, "CITOKEN");
  EXPECT_EQ(r->region, "eu-north-1");
  EXPECT_EQ(r->endpoint, "https://s3.eu-north-1.amazonaws.com");

  ::setenv("AWS_PROFILE", "other", 1);
  EXPECT_EQ(ResolveS3Config(Bucket())->access_key, "OTHER");

  ::setenv("AWS_PROFILE", "nope", 1);
  auto missing = ResolveS3Config(Bucket());
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(missing.status().message().find("profile 'nope'"), std::string::npos)
      << missing.status().message();
  EXPECT_NE(missing.status().message().find(path), std::string::npos);
  for (const char* secret : {"DEFSECRET", "CI/SECRET", "CITOKEN", "OTHERSECRET"}) {
    EXPECT_EQ(missing.status().message().find(secret), std::string::npos);
  }
}

TEST_F(S3ConfigTest, MalformedFileAndNoCredentials) {
  auto none = ResolveS3Config(Bucket());
  EXPECT_EQ(none.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(none.status().message().find("no credentials"), std::string::npos);
  EXPECT_NE(none.status().message().find("AWS_ACCESS_KEY_ID"), std::string::npos);

  const std::string path = WriteCredentials("[default\naws_secret_access_key=TOPSECRET\n");
  ::setenv("AWS_SHARED_CREDENTIALS_FILE", path.c_str(), 1);
  auto bad = ResolveS3Config(Bucket());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("line 1"), std::string::npos) << bad.status().message();
  WriteCredentials("[default]\naws_secret_access_key TOPSECRET\n");
  bad = ResolveS3Config(Bucket());
  EXPECT_NE(bad.status().message().find("line 2"), std::string::npos) << bad.status().message();
  EXPECT_EQ(bad.status().message().find("TOPSECRET"), std::string::npos);
}

TEST_F(S3ConfigTest, Validate) {
  S3StoreConfig c = Bucket();
  c.access_key = "k";
  c.secret_key = "s";
  c.endpoint = "http://127.0.0.1:1";
  auto r = ResolveS3Config(c);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->Validate().ok());
  S3StoreConfig bad = *r;
  bad.part_size = 4 << 20;
  EXPECT_EQ(bad.Validate().code(), StatusCode::kInvalidArgument);
  bad = *r;
  bad.prefix = "a/";
  EXPECT_FALSE(bad.Validate().ok());
  bad = *r;
  bad.endpoint = "127.0.0.1:9000";
  EXPECT_FALSE(bad.Validate().ok());
  bad = *r;
  bad.list_page_size = 1001;
  EXPECT_FALSE(bad.Validate().ok());
  bad = *r;
  bad.secret_key = "";
  EXPECT_FALSE(NewS3ObjectStore(bad).ok());
}

}  // namespace
}  // namespace sluice
