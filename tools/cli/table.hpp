// Human-readable tables for a terminal. Programs use --format json or csv.
#pragma once

#include <string>

#include "hloc/engine.hpp"

namespace hloc::cli {

std::string nearest_table(const Engine& engine, const NearestAnswer& answer);
std::string lookup_table(const PostcodeRecord& record);
std::string reverse_table(LatLon point, const std::vector<ReverseHit>& hits);
std::string info_table(const IndexInfo& info);
std::string sites_table(const std::vector<SiteView>& sites);

}  // namespace hloc::cli
