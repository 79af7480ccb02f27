// Just enough XML for S3's responses (ListBucketResult, Error,
// InitiateMultipartUploadResult, CompleteMultipartUploadResult,
// ListMultipartUploadsResult, DeleteResult) and its two request bodies.
//
// S3 documents are flat records of known elements whose text is escaped, so
// a '<' in a document always starts markup: finding an element by its tag is
// exact. Comments, processing instructions and CDATA sections are handled;
// namespaces and attributes are ignored. No DTDs (S3 sends none).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sluice::internal {

// The raw content (between the tags) of every element named `tag` in `doc`,
// in document order; nested elements of the same name are not looked into.
// `<tag/>` yields an empty content.
std::vector<std::string_view> XmlElements(std::string_view doc, std::string_view tag);

// The decoded text of the first `tag` element in `doc`, or "" if none.
std::string XmlText(std::string_view doc, std::string_view tag);

// Decodes character data: entities (&amp; &lt; &gt; &quot; &apos;, &#N;,
// &#xN;) and CDATA sections; markup inside is dropped.
std::string XmlDecode(std::string_view content);

// Escapes text for an element's content.
std::string XmlEscape(std::string_view text);

}  // namespace sluice::internal
