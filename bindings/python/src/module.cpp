// hospital_locator._core: the Python shell over the engine (pybind11). Each call reads as the
// CLI's and the HTTP service's do: Python arguments into the contract's request -> contract
// validation -> engine -> the contract's writer, so Python, the CLI and the HTTP service give
// the same answers, messages and JSON shapes.
//
// NumPy is imported on the first vectorised call, not at import: `import hospital_locator`
// plus opening an index costs a few milliseconds, and importing NumPy ~100 ms.
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include "bindings.hpp"
#include "hloc/parallel.hpp"
#include "requests.hpp"
#include "results.hpp"

namespace hloc::python {

namespace {

// hospital_locator._errors._from_engine(code, message, status, suggestion) -> exception.
// Leaked on purpose: extension modules are never unloaded, and a static py::object would be
// released after the interpreter is gone.
py::object* error_factory = nullptr;

}  // namespace

py::object to_python(const contract::Json& value) {
    using T = contract::Json::value_t;
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

py::object from_json_text(const std::string& text) {
    // Leaked, as error_factory is.
    static const auto* loads = new py::object(py::module_::import("json").attr("loads"));
    return (*loads)(py::str(text));
}

namespace {

// A message as Python text: it can hold bytes that are not UTF-8 (a path the caller gave as
// bytes, or one os.fsdecode made with surrogates); those show escaped, \xff, never as a
// UnicodeDecodeError in place of the error being raised.
py::str message_text(const std::string& text) {
    PyObject* decoded =
        PyUnicode_DecodeUTF8(text.data(), static_cast<Py_ssize_t>(text.size()), "backslashreplace");
    if (!decoded) throw py::error_already_set();
    return py::reinterpret_steal<py::str>(decoded);
}

}  // namespace

void pickle_as_plain_data(py::handle cls, bool immutable) {
    // Leaked, as error_factory is.
    static const auto* dict_type = new py::object(py::module_::import("builtins").attr("dict"));
    py::setattr(cls, "__reduce__",
                py::cpp_function(
                    [](py::handle self) {
                        return py::make_tuple(*dict_type, py::make_tuple(self.attr("to_dict")()));
                    },
                    py::name("__reduce__"), py::is_method(cls)));
    if (!immutable) return;
    py::setattr(
        cls, "__copy__",
        py::cpp_function([](py::handle self) { return py::reinterpret_borrow<py::object>(self); },
                         py::name("__copy__"), py::is_method(cls)));
    py::setattr(
        cls, "__deepcopy__",
        py::cpp_function(
            [](py::handle self, py::handle) { return py::reinterpret_borrow<py::object>(self); },
            py::name("__deepcopy__"), py::is_method(cls), py::arg("memo")));
}

void set_python_error(const Error& error) {
    const py::object suggestion =
        error.suggestion().empty() ? py::none() : py::object(message_text(error.suggestion()));
    py::object exc =
        (*error_factory)(std::string(error_code_name(error.code())), message_text(error.message()),
                         http_status(error.code()), suggestion);
    PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(exc.ptr())), exc.ptr());
}

namespace {

// The path as the OS takes it: a str (encoded as os.fsencode encodes it, so one os.fsdecode
// made from undecodable bytes round-trips), bytes, or an os.PathLike of either; TypeError for
// anything else. A path no file can have (a str that does not encode, a NUL byte) is refused
// as a missing file is, BadIndex, with the path shown escaped.
std::filesystem::path os_path(py::handle given) {
    auto fspath = py::reinterpret_steal<py::object>(PyOS_FSPath(given.ptr()));
    if (!fspath) throw py::error_already_set();
    py::object encoded = fspath;
    if (PyUnicode_Check(fspath.ptr())) {
        encoded = py::reinterpret_steal<py::object>(PyUnicode_EncodeFSDefault(fspath.ptr()));
        if (!encoded) {
            PyErr_Clear();
            throw Error(ErrorCode::bad_index,
                        "cannot open index " + py::repr(fspath).cast<std::string>() +
                            ": the path cannot be encoded in the file-system encoding");
        }
    }
    std::string bytes = encoded.cast<py::bytes>();
    if (bytes.find('\0') != std::string::npos) {
        throw Error(ErrorCode::bad_index, "cannot open index " +
                                              py::repr(fspath).cast<std::string>() +
                                              ": the path contains a NUL byte");
    }
    return std::filesystem::path(std::move(bytes));
}

std::shared_ptr<Index> open_at(const std::filesystem::path& path, const OpenOptions& options) {
    std::optional<Engine> engine;
    std::error_code ignored;  // absolute() fails only without a working directory: keep `path`
    auto absolute = std::filesystem::absolute(path, ignored);
    if (absolute.empty()) absolute = path;
    {
        py::gil_scoped_release release;  // mapping and checking may touch every page
        engine.emplace(Engine::open(path, options));
    }
    return std::make_shared<Index>(std::move(*engine), path.string(), absolute.string(), options);
}

std::shared_ptr<Index> open_index(const py::object& path_argument, bool verify,
                                  bool preload_reverse, bool resident) {
    OpenOptions options;
    options.verify_checksum = verify;
    options.preload_reverse = preload_reverse;
    options.resident = resident;
    return open_at(os_path(path_argument), options);
}

IndexPtr shared(const Index& self) { return self.shared_from_this(); }

PyNearest nearest(const Index& self, const std::optional<std::string>& postcode, py::handle lat,
                  py::handle lon, py::handle k, const std::optional<std::string>& treatment,
                  py::handle max_miles, py::handle max_km) {
    const auto lat_deg = number("lat", lat), lon_deg = number("lon", lon);  // the CLI's order
    auto request = nearest_options(k, treatment, max_miles, max_km);
    request.postcode = postcode;
    request.lat = lat_deg;
    request.lon = lon_deg;
    std::optional<NearestAnswer> answer;
    {
        // Released: a query is ~2 us of pure engine work, and other Python threads may run.
        py::gil_scoped_release release;
        const auto query = unwrap(contract::validate(self.engine(), request));
        answer = unwrap(self.engine().nearest(query));
    }
    return PyNearest{shared(self), std::move(*answer)};
}

PyPostcode lookup(const Index& self, const std::string& postcode) {
    std::optional<PostcodeRecord> record;
    {
        py::gil_scoped_release release;
        record = unwrap(self.engine().lookup(postcode));
    }
    return PyPostcode{std::move(*record), postcode};
}

PyReverse reverse(const Index& self, py::handle lat, py::handle lon, py::handle k) {
    const auto request = reverse_request(lat, lon, k);
    std::optional<PyReverse> out;
    {
        // Released: the first reverse query loads the postcode tree (~5-70 ms).
        py::gil_scoped_release release;
        const auto query = unwrap(contract::validate(self.engine(), request));
        out = PyReverse{query.point, unwrap(self.engine().reverse(query))};
    }
    return std::move(*out);
}

std::vector<PySite> sites(const Index& self) {
    std::vector<PySite> out;
    for (std::uint32_t i = 0; i < self.engine().site_count(); ++i) out.push_back({shared(self), i});
    return out;
}

PySite site(const Index& self, const std::string& id) {
    return PySite{shared(self), unwrap(self.engine().find_site(id)).index};
}

std::vector<PyTreatment> treatments(const Index& self) {
    std::vector<PyTreatment> out;
    for (const auto& t : self.engine().treatments())
        out.push_back({std::string(t.name), t.site_count});
    return out;
}

PyPostcode located_postcode(const Index& self, long long row) {
    if (row < 0 || row >= static_cast<long long>(self.engine().located_count())) {
        throw Error(ErrorCode::invalid_parameter,
                    "postcode row " + std::to_string(row) + " is out of range");
    }
    auto record = self.engine().located_postcode(static_cast<std::uint32_t>(row));
    auto input = record.postcode;
    return PyPostcode{std::move(record), std::move(input)};
}

// A path as os.fsdecode gives it: bytes that are not UTF-8 become surrogates, so the text
// opens the same file again.
py::str fs_text(const std::string& path) {
    PyObject* text =
        PyUnicode_DecodeFSDefaultAndSize(path.data(), static_cast<Py_ssize_t>(path.size()));
    if (!text) throw py::error_already_set();
    return py::reinterpret_steal<py::str>(text);
}

py::str path_text(const Index& self) { return fs_text(self.path()); }

// ---- pickling ----------------------------------------------------------------------------
// An Index pickles as where it is and what it holds, never as its bytes: (absolute path,
// payload checksum, open options). Unpickling opens that file again, with the same options,
// and refuses it (BadIndex) unless its checksum is the pickled one, so a worker never answers
// from a file rebuilt or replaced since.

constexpr std::size_t kPickledIndexFields = 5;

py::tuple index_state(const Index& self) {
    const auto& o = self.options();
    return py::make_tuple(fs_text(self.absolute_path()), self.engine().info().checksum,
                          o.verify_checksum, o.preload_reverse, o.resident);
}

std::shared_ptr<Index> index_from_state(const py::tuple& state) {
    if (state.size() != kPickledIndexFields || !py::isinstance<py::str>(state[1])) {
        throw Error(ErrorCode::bad_index, "cannot unpickle an Index from " +
                                              py::repr(state).cast<std::string>() +
                                              ": not the state an Index pickles to");
    }
    OpenOptions options;
    options.verify_checksum = state[2].cast<bool>();
    options.preload_reverse = state[3].cast<bool>();
    options.resident = state[4].cast<bool>();
    auto index = open_at(os_path(state[0]), options);
    const auto pickled = state[1].cast<std::string>();
    const auto found = index->engine().info().checksum;
    if (found != pickled) {
        throw Error(ErrorCode::bad_index,
                    "cannot unpickle the Index of " + py::repr(state[0]).cast<std::string>() +
                        ": the file's payload checksum is " + found + ", the pickled Index's " +
                        pickled + " (the file was rebuilt or replaced since it was pickled)");
    }
    return index;
}

std::string index_repr(const Index& self) {
    std::string names;
    for (const auto& t : self.engine().treatments())
        names += (names.empty() ? "" : ", ") + std::string(t.name);
    return "<Index " + py::repr(path_text(self)).cast<std::string>() + ": " +
           std::to_string(self.engine().located_count()) + " located postcodes, " +
           std::to_string(self.engine().site_count()) + " sites; " + names + ">";
}

constexpr const char* kIndexDoc = R"doc(
An open hospital-locator index (.hlx), memory-mapped read-only.

Open it once and share it: it is immutable, every method is safe to call from many
threads at once, and the scalar and vectorised calls release the GIL while they work.

    >>> index = hospital_locator.Index("build/hospitals.hlx")
    >>> index.nearest("CH4 7QP")[0].site.id
    'chester'

path: str, bytes or os.PathLike, as open() takes it.

Raises BadIndex for a file that is missing, truncated, corrupt, of another format
version, not an index or not a regular file (a FIFO or a directory: refused at once).

Pickles as its absolute path, payload checksum and open options, never its contents:
unpickling opens the file again and raises BadIndex if its checksum is not the pickled one.
)doc";

// Opening, and what the index holds.
void bind_index_listing(py::class_<Index, std::shared_ptr<Index>>& index) {
    index
        .def(py::init(&open_index), py::arg("path"), py::kw_only(), py::arg("verify") = false,
             py::arg("preload_reverse") = false, py::arg("resident") = false,
             R"doc(Open an index file.

verify: also recompute the payload checksum (~2-20 ms for the GB index).
preload_reverse: load the postcode KD-tree and grid for reverse() now, not on the first reverse call.
resident: read the file into private memory (huge pages) instead of mapping it: for
  long-running processes doing many random lookups.)doc")
        .def_property_readonly("path", &path_text)
        .def(
            "info", [](const Index& self) { return PyIndexInfo{self.engine().info()}; },
            "Sources, dates, counts, checksum: the same as `hospital-locator info`.")
        .def("sites", &sites, "Every site, in id order (Site.index is the position in this list).")
        .def("site", &site, py::arg("id"), "The site with this id; raises UnknownSite.")
        .def(
            "sites_frame",
            [](const py::object& self) {
                return py::module_::import("hospital_locator._frame").attr("sites_frame")(self);
            },
            "Every site as a GeoDataFrame (EPSG:4326) with its phones, indexed by Site.index: "
            "see hospital_locator._frame.sites_frame. Needs GeoPandas.")
        .def("treatments", &treatments, "The treatments the index offers, with their site counts.")
        .def(
            "verify",
            [](const Index& self) {
                py::gil_scoped_release release;
                self.engine().verify();
            },
            "Recompute the payload checksum; raises BadIndex on a mismatch.")
        .def(
            "located_count", [](const Index& self) { return self.engine().located_count(); },
            "How many postcodes have coordinates (rows of postcodes()).")
        .def("located_postcode", &located_postcode, py::arg("row"),
             "The located postcode at `row` in [0, located_count()), in index order.")
        .def("__repr__", &index_repr)
        .def(py::pickle(&index_state, &index_from_state))
        // Dask names a task by its arguments' tokens: the same file and contents give the
        // same token, so the same call on the same index is the same graph (and can reuse a
        // persisted result) instead of a random one.
        .def("__dask_tokenize__", &index_state);
}

// The scalar queries.
void bind_index_queries(py::class_<Index, std::shared_ptr<Index>>& index) {
    index
        .def("lookup", &lookup, py::arg("postcode"),
             R"doc(A postcode's centroid, grid reference and quality.

Any case and spacing ("sw1a1aa"); a sector ("CM15 8") or outward code ("CM15") gives its
centroid. A unit that is not in the data falls back to its sector, then its district
(match says which, note says why); a quality-90 postcode is returned with located=False.
Raises InvalidPostcode, PostcodeNotFound, NotCovered or NonGeographicPostcode.)doc")
        .def("nearest", &nearest, py::arg("postcode") = py::none(), py::kw_only(),
             py::arg("lat") = py::none(), py::arg("lon") = py::none(), py::arg("k") = py::none(),
             py::arg("treatment") = py::none(), py::arg("max_miles") = py::none(),
             py::arg("max_km") = py::none(),
             R"doc(The k nearest sites offering a treatment, to a postcode or to a point.

postcode: a unit, sector or outward code, any case and spacing; or give lat and lon
  (WGS84 degrees) instead.
k: how many sites, a whole number 1..1000; None for 3.
treatment: the treatment's name; None for the index's only treatment.
max_miles / max_km: leave out sites farther than this (give one at most).

Ranked by WGS84 geodesic distance, ties by site id: exactly the order of measuring every
site. Raises InvalidPostcode, PostcodeNotFound, NotCovered, NonGeographicPostcode,
InvalidParameter or UnknownTreatment, with the CLI's message.)doc")
        .def("reverse", &reverse, py::arg("lat"), py::arg("lon"), py::arg("k") = py::none(),
             R"doc(The k nearest located postcodes to a point (WGS84 degrees), nearest first.

k: how many postcodes, a whole number 1..1000 (the CLI's and the service's "limit");
  None for 1.
The first call on an Index loads the postcode KD-tree and grid (~65 ms here) unless it was
opened with preload_reverse=True. Raises InvalidParameter for a point out of range or swapped,
NotCovered for one far outside the data.)doc");
}

}  // namespace

}  // namespace hloc::python

PYBIND11_MODULE(_core, m) {
    using namespace hloc::python;
    m.doc() = "The compiled part of hospital_locator; import hospital_locator, not this.";
    register_errors(m);
    m.attr("MAX_K") = hloc::kMaxK;
    m.attr("MAX_THREADS") = hloc::kMaxThreads;
    bind_results(m);
    py::class_<Index, std::shared_ptr<Index>> index(m, "Index", kIndexDoc);
    bind_index_listing(index);
    bind_index_queries(index);
    bind_batches(m, index);
    for (const char* name : {"Phone", "Site", "Treatment", "Query", "Neighbour", "Nearest",
                             "Postcode", "ReverseHit", "Reverse", "IndexInfo"})
        pickle_as_plain_data(m.attr(name), true);
    for (const char* name : {"NearestBatch", "LookupBatch", "ReverseBatch"})
        pickle_as_plain_data(m.attr(name), false);
}
