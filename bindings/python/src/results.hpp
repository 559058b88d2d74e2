// The small typed result objects of the scalar calls. Each keeps the engine's own answer
// (plain values) and builds Python attributes on access, so a call that only wants one field
// pays for one field. to_dict() is the contract's JSON writer's text (or tree) as Python values.
#pragma once

#include <vector>

#include "bindings.hpp"

namespace hloc::python {

struct PySite {
    IndexPtr index;
    std::uint32_t site_index = 0;

    SiteView view() const { return index->engine().site(site_index); }
};

struct PyPhone {
    IndexPtr index;  // keeps the strings of `view` mapped
    PhoneView view;
};

struct PyTreatment {
    std::string name;
    std::uint32_t site_count = 0;
};

// The resolved origin of a nearest query ("query" in the JSON shape).
struct PyQuery {
    Location location;
};

struct PyNeighbour {
    IndexPtr index;
    Neighbour hit;
};

struct PyNearest {
    IndexPtr index;
    NearestAnswer answer;
};

struct PyPostcode {
    PostcodeRecord record;
    std::string input;
};

struct PyReverseHit {
    LatLon point;
    std::uint32_t rank = 0;
    ReverseHit hit;
};

struct PyReverse {
    LatLon point;
    std::vector<ReverseHit> hits;
};

struct PyIndexInfo {
    IndexInfo info;
};

}  // namespace hloc::python
