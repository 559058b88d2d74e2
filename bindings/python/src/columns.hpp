// Input columns for the vectorised calls, read without a Python object per row where the
// input allows it, and output arrays filled from worker threads without the GIL.
//
// Construct a column with the GIL held (it checks types and shapes and raises TypeError or
// ValueError); read rows from any thread with the GIL released. A column holds a reference
// to its source array, so the buffer it reads stays alive for the whole call.
#pragma once

#include <pybind11/numpy.h>

#include <cstddef>
#include <cstring>
#include <exception>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bindings.hpp"
#include "hloc/parallel.hpp"

namespace hloc::python {

py::module_ numpy();

// Postcode strings: a NumPy array of str ('<U'), bytes ('S') or objects, a list or tuple, or
// anything with __array__ (a pandas Series). In an object array or a sequence, None, NaN and
// pandas' NA count as missing (an empty string, which the engine refuses row by row).
class StringColumn {
  public:
    StringColumn(py::handle source, const char* name);
    std::size_t size() const { return size_; }
    // Row i as UTF-8; `scratch` holds the text when it has to be converted.
    std::string_view row(std::size_t i, std::string& scratch) const;

  private:
    enum class Kind { ucs4, bytes, owned };
    void take_sequence(py::handle items, const char* name);
    void take_array(const py::array& array, const char* name);
    void append_object(py::handle item, std::size_t i, const char* name);

    Kind kind_ = Kind::owned;
    std::size_t size_ = 0;
    py::object keep_;  // the array whose buffer ucs4/bytes rows read
    const char* data_ = nullptr;
    py::ssize_t stride_ = 0;
    std::size_t item_bytes_ = 0;
    std::string text_;  // owned rows, back to back
    std::vector<std::size_t> ends_;
};

// A float64 copy (or view) of a 1-D numeric array; bool, str, object and complex are refused.
struct FloatColumn {
    FloatColumn(py::handle source, const char* name);
    std::size_t size() const { return size_; }
    double operator[](std::size_t i) const { return data_[i]; }

    py::array_t<double> array;
    const double* data_ = nullptr;
    std::size_t size_ = 0;
};

// An uninitialised C-contiguous array.
template <class T>
py::array_t<T> new_array(std::vector<py::ssize_t> shape) {
    return py::array_t<T>(std::move(shape));
}

// A '<U{width}' array of the given shape, zero-filled (empty strings).
py::array new_unicode_array(std::vector<py::ssize_t> shape, std::size_t width);
// Writes ASCII text into one '<U{width}' slot (the rest stays zero).
inline void put_ascii(std::uint32_t* slot, std::size_t width, std::string_view text) {
    const std::size_t n = text.size() < width ? text.size() : width;
    for (std::size_t j = 0; j < n; ++j) slot[j] = static_cast<unsigned char>(text[j]);
}

// Per-row failures collected from worker threads: (row, error).
class RowErrors {
  public:
    void add(std::vector<std::pair<std::size_t, Error>>& local) {
        if (local.empty()) return;
        std::lock_guard lock(mutex_);
        for (auto& e : local) errors_.push_back(std::move(e));
        local.clear();
    }
    // {row: message}, in row order.
    py::dict messages();
    std::size_t size() const { return errors_.size(); }

  private:
    std::mutex mutex_;
    std::vector<std::pair<std::size_t, Error>> errors_;
};

// Rows a worker takes at a time: a few milliseconds of queries, so that taking the next chunk
// costs nothing next to answering it, and the last chunks still spread over the threads.
inline constexpr std::size_t kRowsPerChunk = 2048;

// Answers rows [0, n) with the GIL released, on `threads` threads (0 = all cores) through the
// project's one parallel_for. answer(i, scratch) writes row i's outputs and returns nothing,
// or the Error the row then carries: status[i] is 0 for an answered row, else the error's code,
// and `errors` collects the messages. Nothing escapes a worker thread.
template <class Answer>
void answer_rows(std::size_t n, unsigned threads, std::uint8_t* status, RowErrors& errors,
                 Answer answer) {
    py::gil_scoped_release release;
    parallel_for(n, threads, kRowsPerChunk, [&](std::size_t begin, std::size_t end) {
        std::string scratch;
        std::vector<std::pair<std::size_t, Error>> failed;
        for (std::size_t i = begin; i < end; ++i) {
            std::optional<Error> error;
            try {
                error = answer(i, scratch);
            } catch (const Error& e) {
                error = e;
            } catch (const std::exception& e) {
                error = Error(ErrorCode::internal, e.what());
            }
            status[i] = error ? static_cast<std::uint8_t>(error->code()) : 0;
            if (error) failed.emplace_back(i, std::move(*error));
        }
        errors.add(failed);
    });
}

}  // namespace hloc::python
