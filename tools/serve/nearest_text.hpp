// The nearest answer as JSON text, fast: the same bytes as api::nearest_json(...).dump(), with
// each site's and phone's object rendered once per index (by api::site_json and api::phone_json)
// instead of rebuilt as an nlohmann tree for every answer. Building that tree was two thirds
// of the service's CPU time per request at k=3 (~8 µs per result of ~40 µs).
//
// The shape stays the shared one: the query and treatment come from api::nearest_json itself,
// the site and phone objects from the shared functions; only each result's frame (rank,
// distance, bearing) is written here. NearestText::verify() compares the two renderings on
// every site and treatment when an index is loaded; on any difference the service logs it and
// falls back to api::nearest_json.
#pragma once

#include <string>
#include <vector>

#include "hloc/engine.hpp"

namespace hloc::serve {

class NearestText {
  public:
    NearestText() = default;
    explicit NearestText(const Engine& engine);

    // An empty string when the fast rendering is off or does not cover `answer`: the caller
    // then uses api::nearest_json.
    std::string render(const Engine& engine, const NearestAnswer& answer) const;

    // Empty when every site's answer renders identically both ways; else what differed.
    std::string verify(const Engine& engine);
    bool enabled() const { return enabled_; }

  private:
    std::vector<std::string> site_text_;   // by site index
    std::vector<std::string> phone_text_;  // by offer index
    bool enabled_ = false;
};

// The nearest answer's JSON text: the fast rendering when it covers the answer, else the
// shared api::nearest_json.
std::string nearest_text(const NearestText& fast, const Engine& engine,
                         const NearestAnswer& answer);

}  // namespace hloc::serve
