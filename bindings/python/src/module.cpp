// hospital_locator._core: the Python shell over the engine (pybind11). Parse, call the engine,
// hand back small objects; every message and JSON shape comes from the engine and
// tools/common, so Python, the CLI and the HTTP service cannot drift apart.
//
// NumPy is imported on the first vectorised call, not at import: `import hospital_locator`
// plus opening an index costs a few milliseconds, and importing NumPy ~100 ms.
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <cmath>

#include "bindings.hpp"
#include "hloc/geodesy.hpp"
#include "results.hpp"

namespace hloc::python {

namespace {

// hospital_locator._errors._from_engine(code, message, status) -> exception instance.
// Leaked on purpose: extension modules are never unloaded, and a static py::object would be
// released after the interpreter is gone.
py::object* error_factory = nullptr;

template <class T>
T unwrap(Result<T> r) {
    if (!r) throw r.error();
    return std::move(r).value();
}

}  // namespace

py::object to_python(const api::Json& value) {
    using T = api::Json::value_t;
    switch (value.type()) {
        case T::null:
            return py::none();
        case T::boolean:
            return py::bool_(value.get<bool>());
        case T::number_integer:
            return py::int_(value.get<std::int64_t>());
        case T::number_unsigned:
            return py::int_(value.get<std::uint64_t>());
        case T::number_float:
            return py::float_(value.get<double>());
        case T::string:
            return py::str(value.get_ref<const std::string&>());
        case T::array: {
            py::list out(value.size());
            std::size_t i = 0;
            for (const auto& item : value) out[i++] = to_python(item);
            return out;
        }
        case T::object: {
            py::dict out;
            for (const auto& [key, item] : value.items()) out[py::str(key)] = to_python(item);
            return out;
        }
        case T::binary:
        case T::discarded:
            break;
    }
    throw Error(ErrorCode::internal, "unexpected JSON value type");
}

void register_errors(py::module_& m) {
    auto errors = py::module_::import("hospital_locator._errors");
    error_factory = new py::object(errors.attr("_from_engine"));
    py::register_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const Error& e) {
            set_python_error(e);
        }
    });
    py::dict codes;  // code -> its stable spelling, for status arrays
    for (std::uint16_t c = 1; c <= static_cast<std::uint16_t>(ErrorCode::internal); ++c) {
        codes[py::int_(c)] = std::string(error_code_name(static_cast<ErrorCode>(c)));
    }
    m.attr("_ERROR_CODES") = codes;
}

void set_python_error(const Error& error) {
    py::object exc = (*error_factory)(std::string(error_code_name(error.code())), error.message(),
                                      http_status(error.code()));
    PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(exc.ptr())), exc.ptr());
}

std::uint32_t checked_k(long long k) {
    if (k < 1 || k > static_cast<long long>(kMaxK)) {
        throw Error(ErrorCode::invalid_parameter, "k must be between 1 and " +
                                                      std::to_string(kMaxK) + " (got " +
                                                      std::to_string(k) + ")");
    }
    return static_cast<std::uint32_t>(k);
}

std::optional<double> max_distance_m(std::optional<double> max_miles,
                                     std::optional<double> max_km) {
    if (max_miles && max_km) {
        throw Error(ErrorCode::invalid_parameter, "give max_miles or max_km, not both");
    }
    // As the CLI converts them, so that the same limit leaves out the same sites.
    if (max_miles) return *max_miles * kMetresPerMile;
    if (max_km) return *max_km * 1000.0;
    return std::nullopt;
}

namespace {

std::shared_ptr<Index> open_index(const std::filesystem::path& path, bool verify,
                                  bool preload_reverse, bool resident) {
    OpenOptions options;
    options.verify_checksum = verify;
    options.preload_reverse = preload_reverse;
    options.resident = resident;
    std::shared_ptr<const Engine> engine;
    {
        py::gil_scoped_release release;  // mapping and checking may touch every page
        engine = std::make_shared<const Engine>(Engine::open(path, options));
    }
    return std::make_shared<Index>(Index{std::move(engine), path.string()});
}

PyNearest nearest(const Index& self, const std::optional<std::string>& postcode,
                  std::optional<double> lat, std::optional<double> lon, long long k,
                  const std::optional<std::string>& treatment, std::optional<double> max_miles,
                  std::optional<double> max_km) {
    // Checked in the CLI's order, so that the same mistakes give the same first message.
    if (postcode && (lat || lon)) {
        throw Error(ErrorCode::invalid_parameter, "give a postcode or lat/lon, not both");
    }
    if (!postcode && !(lat && lon)) {
        throw Error(ErrorCode::invalid_parameter, "nearest needs a postcode, or both lat and lon");
    }
    const Engine& engine = *self.engine;
    NearestQuery query;
    Result<NearestAnswer> answer = Error(ErrorCode::internal, "no answer");
    {
        // Released: a query is ~2 us of pure engine work, and other Python threads may run.
        py::gil_scoped_release release;
        query.origin = postcode ? unwrap(engine.resolve(*postcode))
                                : unwrap(engine.locate_point({*lat, *lon}));
        query.k = checked_k(k);
        if (treatment) query.treatment = *treatment;
        query.max_distance_m = max_distance_m(max_miles, max_km);
        answer = engine.nearest(query);
    }
    return PyNearest{self.engine, unwrap(std::move(answer))};
}

PyPostcode lookup(const Index& self, const std::string& postcode) {
    std::optional<PostcodeRecord> record;
    {
        py::gil_scoped_release release;
        record = unwrap(self.engine->lookup(postcode));
    }
    return PyPostcode{std::move(*record), postcode};
}

PyReverse reverse(const Index& self, double lat, double lon, long long k) {
    std::vector<ReverseHit> hits;
    {
        // Released: the first reverse query loads the postcode tree (~5-70 ms).
        py::gil_scoped_release release;
        hits = unwrap(self.engine->reverse({{lat, lon}, checked_k(k)}));
    }
    return PyReverse{{lat, lon}, std::move(hits)};
}

std::vector<PySite> sites(const Index& self) {
    std::vector<PySite> out;
    for (std::uint32_t i = 0; i < self.engine->site_count(); ++i) out.push_back({self.engine, i});
    return out;
}

std::vector<PyTreatment> treatments(const Index& self) {
    std::vector<PyTreatment> out;
    for (const auto& t : self.engine->treatments())
        out.push_back({std::string(t.name), t.site_count});
    return out;
}

std::string index_repr(const Index& self) {
    std::string names;
    for (const auto& t : self.engine->treatments())
        names += (names.empty() ? "" : ", ") + std::string(t.name);
    return "<Index " + py::repr(py::str(self.path)).cast<std::string>() + ": " +
           std::to_string(self.engine->located_count()) + " located postcodes, " +
           std::to_string(self.engine->site_count()) + " sites; " + names + ">";
}

}  // namespace

}  // namespace hloc::python

PYBIND11_MODULE(_core, m) {
    using namespace hloc::python;
    namespace py = pybind11;
    m.doc() = "The compiled part of hospital_locator; import hospital_locator, not this.";
    register_errors(m);
    m.attr("MAX_K") = hloc::kMaxK;
    bind_results(m);

    py::class_<Index, std::shared_ptr<Index>> index(m, "Index", R"doc(
An open hospital-locator index (.hlx), memory-mapped read-only.

Open it once and share it: it is immutable, every method is safe to call from many
threads at once, and the scalar and vectorised calls release the GIL while they work.

    >>> index = hospital_locator.Index("build/hospitals.hlx")
    >>> index.nearest("CH4 7QP")[0].site.id
    'chester'

Raises BadIndex for a file that is missing, truncated, corrupt, of another format
version, or not an index.
)doc");
    index
        .def(py::init(&open_index), py::arg("path"), py::kw_only(), py::arg("verify") = false,
             py::arg("preload_reverse") = false, py::arg("resident") = false,
             R"doc(Open an index file.

verify: also recompute the payload checksum (~2-20 ms for the GB index).
preload_reverse: load the postcode KD-tree for reverse() now, not on the first reverse call.
resident: read the file into private memory (huge pages) instead of mapping it: for
  long-running processes doing many random lookups.)doc")
        .def_property_readonly("path", [](const Index& self) { return self.path; })
        .def(
            "info", [](const Index& self) { return PyIndexInfo{self.engine->info()}; },
            "Sources, dates, counts, checksum: the same as `hospital-locator info`.")
        .def("sites", &sites, "Every site, in id order (Site.index is the position in this list).")
        .def(
            "site",
            [](const Index& self, const std::string& id) {
                auto found = self.engine->find_site(id);
                if (!found) throw found.error();
                return PySite{self.engine, found->index};
            },
            py::arg("id"), "The site with this id; raises UnknownSite.")
        .def("treatments", &treatments, "The treatments the index offers, with their site counts.")
        .def(
            "verify",
            [](const Index& self) {
                py::gil_scoped_release release;
                self.engine->verify();
            },
            "Recompute the payload checksum; raises BadIndex on a mismatch.")
        .def(
            "located_count", [](const Index& self) { return self.engine->located_count(); },
            "How many postcodes have coordinates (rows of postcodes()).")
        .def(
            "located_postcode",
            [](const Index& self, long long row) {
                if (row < 0 || row >= static_cast<long long>(self.engine->located_count())) {
                    throw hloc::Error(hloc::ErrorCode::invalid_parameter,
                                      "postcode row " + std::to_string(row) + " is out of range");
                }
                auto record = self.engine->located_postcode(static_cast<std::uint32_t>(row));
                auto input = record.postcode;
                return PyPostcode{std::move(record), std::move(input)};
            },
            py::arg("row"),
            "The located postcode at `row` in [0, located_count()), in index order.")
        .def("lookup", &lookup, py::arg("postcode"),
             R"doc(A postcode's centroid, grid reference and quality.

Any case and spacing ("sw1a1aa"); a sector ("CM15 8") or outward code ("CM15") gives its
centroid. A unit that is not in the data falls back to its sector, then its district
(match says which, note says why); a quality-90 postcode is returned with located=False.
Raises InvalidPostcode, PostcodeNotFound, NotCovered or NonGeographicPostcode.)doc")
        .def("nearest", &nearest, py::arg("postcode") = py::none(), py::kw_only(),
             py::arg("lat") = py::none(), py::arg("lon") = py::none(), py::arg("k") = 3,
             py::arg("treatment") = py::none(), py::arg("max_miles") = py::none(),
             py::arg("max_km") = py::none(),
             R"doc(The k nearest sites offering a treatment, to a postcode or to a point.

postcode: a unit, sector or outward code, any case and spacing; or give lat and lon
  (WGS84 degrees) instead.
k: how many sites, 1..1000.
treatment: the treatment's name; None for the index's only treatment.
max_miles / max_km: leave out sites farther than this (give one at most).

Ranked by WGS84 geodesic distance, ties by site id: exactly the order of measuring every
site. Raises InvalidPostcode, PostcodeNotFound, NotCovered, NonGeographicPostcode,
InvalidParameter or UnknownTreatment, with the CLI's message.)doc")
        .def("reverse", &reverse, py::arg("lat"), py::arg("lon"), py::arg("k") = 1,
             R"doc(The k nearest located postcodes to a point (WGS84 degrees), nearest first.

The first call on an Index loads the postcode KD-tree (~5-70 ms) unless it was opened with
preload_reverse=True. Raises InvalidParameter for a point out of range or swapped.)doc")
        .def("__repr__", &index_repr);

    bind_batches(m, index);
}
