// The one JSON shape of DESIGN.md, shared by every shell (CLI --format json, HTTP, Python
// to_dict()), so a caller can move between them. Field names are never renamed; fields may
// be added.
#pragma once

#include <nlohmann/json.hpp>

#include "hloc/engine.hpp"

namespace hloc::api {

using Json = nlohmann::ordered_json;

Json nearest_json(const Engine& engine, const NearestAnswer& answer);
Json site_json(const SiteView& site);
Json phone_json(const PhoneView& phone);
Json lookup_json(const PostcodeRecord& record, std::string_view input);
Json reverse_json(LatLon point, const std::vector<ReverseHit>& hits);
Json info_json(const IndexInfo& info);
Json treatments_json(const std::vector<TreatmentInfo>& treatments);
Json error_json(const Error& error);

// Rounding for output: 7 decimals of a degree is 1.1 cm; distances to the millimetre.
double round_to(double value, int decimals);

}  // namespace hloc::api
