#include "store/object_store.h"

#include <algorithm>

namespace sluice {

Result<ListPage> ObjectStore::ListAfter(const std::string& prefix, const std::string& start_after,
                                        size_t max_keys) {
  if (max_keys == 0) return Status::InvalidArgument("list: max_keys must be at least 1");
  ASSIGN_OR_RETURN(std::vector<ObjectInfo> all, List(prefix));
  auto first =
      std::upper_bound(all.begin(), all.end(), start_after,
                       [](const std::string& k, const ObjectInfo& o) { return k < o.key; });
  ListPage page;
  const size_t left = static_cast<size_t>(all.end() - first);
  const size_t take = std::min(left, max_keys);
  page.objects.assign(std::make_move_iterator(first), std::make_move_iterator(first + take));
  page.truncated = take < left;
  return page;
}

}  // namespace sluice
