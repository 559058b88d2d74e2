// The small typed result objects of the scalar calls. Each keeps the engine's own answer
// (plain values) and builds Python attributes on access, so a call that only wants one field
// pays for one field. to_dict() goes through tools/common/json_format, the CLI's formatter.
#pragma once

#include <vector>

#include "bindings.hpp"

namespace hloc::python {

struct PySite {
    EnginePtr engine;
    std::uint32_t index = 0;
};

struct PyPhone {
    EnginePtr engine;  // keeps the strings of `view` mapped
    PhoneView view;
};

struct PyTreatment {
    std::string name;
    std::uint32_t site_count = 0;
};

// The resolved origin of a nearest query ("query" in the JSON shape).
struct PyQuery {
    EnginePtr engine;
    Location location;
};

struct PyNeighbour {
    EnginePtr engine;
    Location origin;  // for to_dict(): the JSON of one result needs no more than this
    std::string treatment;
    Neighbour hit;
};

struct PyNearest {
    EnginePtr engine;
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
