#include "columns.hpp"

#include <algorithm>
#include <cmath>

namespace hloc::python {

py::module_ numpy() { return py::module_::import("numpy"); }

namespace {

std::string type_name(py::handle h) {
    return py::str(py::type::handle_of(h).attr("__name__")).cast<std::string>();
}

std::string shape_text(const py::array& a) {
    std::string s = "(";  // as NumPy writes it: (3,) or (2, 3)
    for (py::ssize_t d = 0; d < a.ndim(); ++d) {
        if (d > 0) s += ", ";
        s += std::to_string(a.shape(d));
    }
    if (a.ndim() == 1) s += ",";
    return s + ")";
}

std::string dtype_text(const py::array& a) { return py::str(a.dtype()).cast<std::string>(); }

void append_utf8(std::string& out, std::uint32_t c) {
    if (c >= 0xD800 && c <= 0xDFFF) c = 0xFFFD;  // a lone surrogate is not a character
    if (c < 0x80) {
        out += static_cast<char>(c);
    } else if (c < 0x800) {
        out += static_cast<char>(0xC0 | (c >> 6));
        out += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
        out += static_cast<char>(0xE0 | (c >> 12));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c <= 0x10FFFF) {
        out += static_cast<char>(0xF0 | (c >> 18));
        out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
    } else {
        append_utf8(out, 0xFFFD);
    }
}

// None, NaN (pandas' missing value in an object column), pd.NA and pd.NaT.
bool is_missing(py::handle item) {
    if (item.is_none()) return true;
    if (PyFloat_Check(item.ptr())) return std::isnan(PyFloat_AS_DOUBLE(item.ptr()));
    const auto name = type_name(item);
    return name == "NAType" || name == "NaTType";
}

}  // namespace

StringColumn::StringColumn(py::handle source, const char* name) {
    const std::string what(name);
    if (PyUnicode_Check(source.ptr()) || PyBytes_Check(source.ptr())) {
        throw py::type_error(what + " must be a sequence or array of postcodes, not a single " +
                             type_name(source) + ": use the scalar call for one postcode");
    }
    if (PyList_Check(source.ptr()) || PyTuple_Check(source.ptr())) {
        take_sequence(source, name);
    } else if (py::isinstance<py::array>(source) || py::hasattr(source, "__array__")) {
        take_array(numpy().attr("asarray")(source), name);  // a pandas Series: its values, no copy
    } else if (PySequence_Check(source.ptr())) {
        take_sequence(source, name);
    } else {
        throw py::type_error(what + " must be a sequence or NumPy array of str, not " +
                             type_name(source));
    }
}

void StringColumn::take_sequence(py::handle items, const char* name) {
    auto fast = py::reinterpret_steal<py::object>(PySequence_Fast(items.ptr(), "not a sequence"));
    if (!fast) throw py::error_already_set();
    size_ = static_cast<std::size_t>(PySequence_Fast_GET_SIZE(fast.ptr()));
    PyObject** objects = PySequence_Fast_ITEMS(fast.ptr());
    kind_ = Kind::owned;
    ends_.reserve(size_);
    for (std::size_t i = 0; i < size_; ++i) append_object(objects[i], i, name);
}

void StringColumn::take_array(const py::array& given, const char* name) {
    const std::string what(name);
    py::array array = given;
    if (array.ndim() != 1) {
        throw py::value_error(what + " must be a one-dimensional array (got shape " +
                              shape_text(array) + ")");
    }
    size_ = static_cast<std::size_t>(array.shape(0));
    const char kind = array.dtype().kind();
    if (kind == 'U' || kind == 'S') {
        if (kind == 'U' && py::str(array.dtype().attr("byteorder")).cast<std::string>() == ">") {
            array = array.attr("astype")(array.dtype().attr("newbyteorder")("="));
        }
        kind_ = kind == 'U' ? Kind::ucs4 : Kind::bytes;
        keep_ = array;
        data_ = static_cast<const char*>(array.data());
        stride_ = array.strides(0);
        item_bytes_ = static_cast<std::size_t>(array.itemsize());
        return;
    }
    if (kind == 'O') {
        kind_ = Kind::owned;
        ends_.reserve(size_);
        const auto* base = static_cast<const char*>(array.data());
        for (std::size_t i = 0; i < size_; ++i) {
            PyObject* item = nullptr;
            std::memcpy(&item, base + static_cast<py::ssize_t>(i) * array.strides(0), sizeof item);
            append_object(item, i, name);
        }
        return;
    }
    throw py::type_error(what + " must be strings: got a NumPy array of dtype " +
                         dtype_text(array) +
                         " (use a str array, dtype '<U8', or an object array of str)");
}

void StringColumn::append_object(py::handle item, std::size_t i, const char* name) {
    if (PyUnicode_Check(item.ptr())) {
        Py_ssize_t length = 0;
        const char* utf8 = PyUnicode_AsUTF8AndSize(item.ptr(), &length);
        if (utf8 != nullptr) {
            text_.append(utf8, static_cast<std::size_t>(length));
        } else {  // lone surrogates: not a postcode, and the engine will say so
            PyErr_Clear();
            text_ += "\xEF\xBF\xBD";
        }
    } else if (PyBytes_Check(item.ptr())) {
        text_.append(PyBytes_AS_STRING(item.ptr()),
                     static_cast<std::size_t>(PyBytes_GET_SIZE(item.ptr())));
    } else if (!is_missing(item)) {
        throw py::type_error(std::string(name) + "[" + std::to_string(i) + "] is " +
                             type_name(item) + ", not str (None and NaN count as missing)");
    }
    ends_.push_back(text_.size());
}

std::string_view StringColumn::row(std::size_t i, std::string& scratch) const {
    switch (kind_) {
        case Kind::owned: {
            const std::size_t begin = i == 0 ? 0 : ends_[i - 1];
            return std::string_view(text_).substr(begin, ends_[i] - begin);
        }
        case Kind::bytes: {
            const char* p = data_ + static_cast<py::ssize_t>(i) * stride_;
            std::size_t n = item_bytes_;
            while (n > 0 && p[n - 1] == '\0') --n;  // NumPy pads with NULs
            return {p, n};
        }
        case Kind::ucs4: {
            const char* p = data_ + static_cast<py::ssize_t>(i) * stride_;
            std::size_t n = item_bytes_ / 4;
            auto at = [&](std::size_t j) {
                std::uint32_t c;
                std::memcpy(&c, p + 4 * j, 4);  // a strided view need not be aligned
                return c;
            };
            while (n > 0 && at(n - 1) == 0) --n;
            scratch.clear();
            for (std::size_t j = 0; j < n; ++j) append_utf8(scratch, at(j));
            return scratch;
        }
    }
    return {};
}

FloatColumn::FloatColumn(py::handle source, const char* name) {
    const std::string what(name);
    py::array given = numpy().attr("asarray")(source);
    const char kind = given.dtype().kind();
    if (kind != 'f' && kind != 'i' && kind != 'u') {
        throw py::type_error(what + " must be numbers (WGS84 degrees): got dtype " +
                             dtype_text(given));
    }
    if (given.ndim() != 1) {
        throw py::value_error(what + " must be a one-dimensional array (got shape " +
                              shape_text(given) + ")");
    }
    array = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(given);
    if (!array) throw py::error_already_set();
    data_ = array.data();
    size_ = static_cast<std::size_t>(array.shape(0));
}

py::array new_unicode_array(std::vector<py::ssize_t> shape, std::size_t width) {
    py::array out(py::dtype("<U" + std::to_string(std::max<std::size_t>(width, 1))),
                  std::move(shape));
    std::memset(out.mutable_data(), 0, static_cast<std::size_t>(out.nbytes()));
    return out;
}

py::dict RowErrors::messages() {
    std::sort(errors_.begin(), errors_.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    py::dict out;
    for (const auto& [row, error] : errors_) out[py::int_(row)] = error.message();
    return out;
}

}  // namespace hloc::python
