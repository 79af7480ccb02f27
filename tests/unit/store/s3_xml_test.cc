#include "store/internal/s3_xml.h"

#include <gtest/gtest.h>

namespace sluice::internal {
namespace {

TEST(S3XmlTest, ListBucketResult) {
  const std::string doc =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
      "<Name>b</Name><Prefix>p/</Prefix><KeyCount>2</KeyCount><IsTruncated>true</IsTruncated>"
      "<!-- a <Key>comment</Key> -->"
      "<Contents><Key>p/a &amp; b&lt;&#x263A;&#233;</Key><Size>12</Size>"
      "<ETag>&quot;abc&quot;</ETag></Contents>"
      "<Contents>\n  <Key><![CDATA[p/<raw>]]></Key>\n  <Size>0</Size>\n</Contents>"
      "<NextContinuationToken>t/+=</NextContinuationToken></ListBucketResult>";
  auto contents = XmlElements(doc, "Contents");
  ASSERT_EQ(contents.size(), 2u);
  EXPECT_EQ(XmlText(contents[0], "Key"), "p/a & b<\xE2\x98\xBA\xC3\xA9");
  EXPECT_EQ(XmlText(contents[0], "ETag"), "\"abc\"");
  EXPECT_EQ(XmlText(contents[1], "Key"), "p/<raw>");
  EXPECT_EQ(XmlText(contents[1], "Size"), "0");
  EXPECT_EQ(XmlText(doc, "IsTruncated"), "true");
  EXPECT_EQ(XmlText(doc, "NextContinuationToken"), "t/+=");
  // <Key> does not match <KeyCount>, and the comment is skipped.
  EXPECT_EQ(XmlElements(doc, "Key").size(), 2u);
  EXPECT_EQ(XmlText(doc, "KeyCount"), "2");
  EXPECT_EQ(XmlText(doc, "Missing"), "");
}

TEST(S3XmlTest, ErrorsNestingAndRobustness) {
  EXPECT_EQ(XmlText("<Error><Code>NoSuchKey</Code><Message>gone</Message></Error>", "Code"),
            "NoSuchKey");
  EXPECT_EQ(XmlElements("<a><a>in</a></a><a/>", "a").size(), 2u);
  EXPECT_EQ(XmlElements("<a><a>in</a></a>", "a")[0], "<a>in</a>");
  EXPECT_EQ(XmlElements("<a/>", "a")[0], "");
  EXPECT_EQ(XmlElements("<ns:Key>x</ns:Key>", "Key").size(), 1u);
  // Truncated or malformed input yields what is complete, never a crash.
  EXPECT_TRUE(XmlElements("<Key>unterminated", "Key").empty());
  EXPECT_TRUE(XmlElements("<Key", "Key").empty());
  EXPECT_TRUE(XmlElements("<", "Key").empty());
  EXPECT_EQ(XmlDecode("a &bogus; &#xZZ; &#99999999; &"), "a &bogus; &#xZZ; &#99999999; &");
  EXPECT_EQ(XmlEscape("<a & \"b\">"), "&lt;a &amp; &quot;b&quot;&gt;");
  EXPECT_EQ(XmlDecode(XmlEscape("k'\"<>&\r")), "k'\"<>&\r");
}

}  // namespace
}  // namespace sluice::internal
