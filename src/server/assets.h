// Files served by the binary itself (the dashboard, the OpenAPI document),
// compiled in from src/server/assets/ by cmake/EmbedAssets.cmake.
#pragma once

#include <cstddef>
#include <string_view>

namespace sluice::server {

struct EmbeddedAsset {
  const char* path;  // relative to src/server/assets/, e.g. "openapi.json"
  const char* data;
  size_t size;
};

// Ends with an entry whose path is null.
extern const EmbeddedAsset kEmbeddedAssets[];

// The asset at `path`, or null.
const EmbeddedAsset* FindAsset(std::string_view path);
// "text/html; charset=utf-8" etc. by extension.
std::string_view AssetContentType(std::string_view path);

}  // namespace sluice::server
