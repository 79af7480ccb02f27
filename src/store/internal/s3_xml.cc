#include "store/internal/s3_xml.h"

#include <cstdint>

namespace sluice::internal {

namespace {

// Skips a comment, processing instruction or CDATA section starting at `pos`
// (which points at '<'); returns the position after it, or npos if `pos`
// starts an ordinary tag.
size_t SkipSpecial(std::string_view doc, size_t pos) {
  auto skip_to = [&](std::string_view end) {
    size_t e = doc.find(end, pos);
    return e == std::string_view::npos ? doc.size() : e + end.size();
  };
  std::string_view rest = doc.substr(pos);
  if (rest.starts_with("<!--")) return skip_to("-->");
  if (rest.starts_with("<![CDATA[")) return skip_to("]]>");
  if (rest.starts_with("<?")) return skip_to("?>");
  if (rest.starts_with("<!")) return skip_to(">");
  return std::string_view::npos;
}

bool IsNameEnd(char c) {
  return c == '>' || c == '/' || c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// The local name of the tag whose name starts at `pos` (after '<' or '</'),
// without a namespace prefix.
std::string_view TagName(std::string_view doc, size_t pos) {
  size_t end = pos;
  while (end < doc.size() && !IsNameEnd(doc[end])) ++end;
  std::string_view name = doc.substr(pos, end - pos);
  if (size_t colon = name.find(':'); colon != std::string_view::npos) name.remove_prefix(colon + 1);
  return name;
}

void AppendUtf8(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x110000) {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Decodes the entity starting at `pos` ('&'); appends it and returns the
// position after it. An unknown or malformed entity is kept as written.
size_t DecodeEntity(std::string_view s, size_t pos, std::string& out) {
  size_t semi = s.find(';', pos);
  if (semi == std::string_view::npos || semi - pos > 12) {
    out.push_back('&');
    return pos + 1;
  }
  std::string_view name = s.substr(pos + 1, semi - pos - 1);
  if (name == "amp") {
    out.push_back('&');
  } else if (name == "lt") {
    out.push_back('<');
  } else if (name == "gt") {
    out.push_back('>');
  } else if (name == "quot") {
    out.push_back('"');
  } else if (name == "apos") {
    out.push_back('\'');
  } else if (name.size() >= 2 && name[0] == '#') {
    uint32_t cp = 0;
    const bool hex = name[1] == 'x' || name[1] == 'X';
    std::string_view digits = name.substr(hex ? 2 : 1);
    bool ok = !digits.empty();
    for (char c : digits) {
      int d = -1;
      if (c >= '0' && c <= '9') {
        d = c - '0';
      } else if (hex && c >= 'a' && c <= 'f') {
        d = c - 'a' + 10;
      } else if (hex && c >= 'A' && c <= 'F') {
        d = c - 'A' + 10;
      }
      if (d < 0 || cp > 0x10FFFF) {
        ok = false;
        break;
      }
      cp = cp * (hex ? 16 : 10) + static_cast<uint32_t>(d);
    }
    if (!ok || cp > 0x10FFFF) {
      out.append(s.substr(pos, semi - pos + 1));
    } else {
      AppendUtf8(cp, out);
    }
  } else {
    out.append(s.substr(pos, semi - pos + 1));
  }
  return semi + 1;
}

}  // namespace

std::vector<std::string_view> XmlElements(std::string_view doc, std::string_view tag) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while ((pos = doc.find('<', pos)) != std::string_view::npos) {
    if (size_t after = SkipSpecial(doc, pos); after != std::string_view::npos) {
      pos = after;
      continue;
    }
    if (pos + 1 < doc.size() && doc[pos + 1] == '/') {
      ++pos;
      continue;
    }
    const size_t gt = doc.find('>', pos);
    if (gt == std::string_view::npos) break;
    if (TagName(doc, pos + 1) != tag) {
      pos = gt + 1;
      continue;
    }
    if (doc[gt - 1] == '/') {  // <tag/>
      out.push_back(doc.substr(gt + 1, 0));
      pos = gt + 1;
      continue;
    }
    // Find the matching end tag, counting nested elements of the same name.
    const size_t start = gt + 1;
    size_t scan = start;
    int depth = 1;
    size_t end = std::string_view::npos;
    while (depth > 0 && (scan = doc.find('<', scan)) != std::string_view::npos) {
      if (size_t after = SkipSpecial(doc, scan); after != std::string_view::npos) {
        scan = after;
        continue;
      }
      const bool closing = scan + 1 < doc.size() && doc[scan + 1] == '/';
      const size_t tag_gt = doc.find('>', scan);
      if (tag_gt == std::string_view::npos) break;
      if (TagName(doc, scan + (closing ? 2 : 1)) == tag) {
        if (closing) {
          if (--depth == 0) end = scan;
        } else if (doc[tag_gt - 1] != '/') {
          ++depth;
        }
      }
      scan = tag_gt + 1;
    }
    if (end == std::string_view::npos) break;  // truncated document
    out.push_back(doc.substr(start, end - start));
    pos = scan;
  }
  return out;
}

std::string XmlText(std::string_view doc, std::string_view tag) {
  std::vector<std::string_view> found = XmlElements(doc, tag);
  return found.empty() ? std::string() : XmlDecode(found.front());
}

std::string XmlDecode(std::string_view content) {
  std::string out;
  out.reserve(content.size());
  size_t i = 0;
  while (i < content.size()) {
    const char c = content[i];
    if (c == '&') {
      i = DecodeEntity(content, i, out);
    } else if (c == '<') {
      if (content.substr(i).starts_with("<![CDATA[")) {
        size_t end = content.find("]]>", i);
        if (end == std::string_view::npos) end = content.size();
        out.append(content.substr(i + 9, end - (i + 9)));
        i = end == content.size() ? end : end + 3;
      } else {
        size_t gt = content.find('>', i);
        i = gt == std::string_view::npos ? content.size() : gt + 1;
      }
    } else {
      out.push_back(c);
      ++i;
    }
  }
  return out;
}

std::string XmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      case '\r':
        out += "&#13;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

}  // namespace sluice::internal
