#include "requests.hpp"

#include <cmath>
#include <cstdio>

#include "hloc/parallel.hpp"

namespace hloc::python {

namespace {

Error invalid(std::string message) {
    return Error(ErrorCode::invalid_parameter, std::move(message));
}

// At most 64 characters of the value's repr, as the contract shows at most 64 bytes of text.
std::string shown(py::handle value) {
    auto text = py::repr(value).cast<std::string>();
    if (text.size() > 64) text = std::string(contract::clipped(text, 64)) + "...";
    return text;
}

// A number as a person would write it (as the engine's messages do): 2, 2.5, 1e+30.
std::string number_text(double value) {
    char text[32];
    std::snprintf(text, sizeof text, "%.15g", value);
    return text;
}

// NumPy's bool_ (not a Python bool) would otherwise pass as an integer through __index__.
bool is_bool(PyObject* o) {
    const std::string_view type = Py_TYPE(o)->tp_name;
    return PyBool_Check(o) || type == "numpy.bool_" || type == "numpy.bool";
}

double int_value(std::string_view name, py::handle value) {
    const double d = PyLong_AsDouble(value.ptr());
    if (d == -1.0 && PyErr_Occurred()) {  // OverflowError: beyond 1.8e308
        PyErr_Clear();
        const auto bits = value.attr("bit_length")().cast<long long>();
        throw invalid(std::string(name) +
                      " must be a number (got an integer too large for a float: " +
                      std::to_string(bits) + " bits)");
    }
    return d;
}

}  // namespace

std::optional<double> number(std::string_view name, py::handle value) {
    PyObject* o = value.ptr();
    if (value.is_none()) return std::nullopt;
    if (PyFloat_Check(o)) return PyFloat_AS_DOUBLE(o);
    if (!is_bool(o)) {
        if (PyLong_Check(o)) return int_value(name, value);
        if (PyIndex_Check(o)) {  // NumPy integers
            auto as_int = py::reinterpret_steal<py::object>(PyNumber_Index(o));
            if (!as_int) throw py::error_already_set();
            return int_value(name, as_int);
        }
        const auto* numeric = Py_TYPE(o)->tp_as_number;
        if (numeric != nullptr && numeric->nb_float != nullptr) {  // float32, Decimal, Fraction
            const double d = PyFloat_AsDouble(o);
            if (!(d == -1.0 && PyErr_Occurred())) return d;
            PyErr_Clear();  // complex: refused below
        }
    }
    throw invalid(std::string(name) + " must be a number (got " + shown(value) + ")");
}

contract::NearestRequest nearest_options(py::handle k, const std::optional<std::string>& treatment,
                                         py::handle max_miles, py::handle max_km) {
    contract::NearestRequest request;
    request.k = number("k", k);
    request.max_miles = number("max_miles", max_miles);
    request.max_km = number("max_km", max_km);
    request.treatment = treatment.value_or("");
    return request;
}

contract::ReverseRequest reverse_request(py::handle lat, py::handle lon, py::handle k) {
    contract::ReverseRequest request;
    request.lat = number("lat", lat);
    request.lon = number("lon", lon);
    request.limit = number("limit", k);
    return request;
}

unsigned thread_count(py::handle threads) {
    const auto value = number("threads", threads);
    if (!value) return 0;
    if (!(*value >= 0 && *value <= kMaxThreads && std::floor(*value) == *value)) {
        throw invalid("threads must be a whole number between 0 (all cores) and " +
                      std::to_string(kMaxThreads) + " (got " + number_text(*value) + ")");
    }
    return static_cast<unsigned>(*value);
}

}  // namespace hloc::python
