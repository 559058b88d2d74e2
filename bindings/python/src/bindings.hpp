// Shared by the pieces of the `hospital_locator._core` extension module.
//
// Every object handed to Python that points into an index (a Site, a Phone, a Nearest answer)
// holds the IndexPtr, so the mapping outlives the last view of it whatever order Python
// frees things in.
#pragma once

#include <pybind11/pybind11.h>

#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "hloc/contract/json_writer.hpp"
#include "hloc/engine.hpp"

namespace hloc::python {

namespace py = pybind11;

// hospital_locator.Index: an open index and its JSON writer, immutable, safe to share between
// threads.
class Index : public std::enable_shared_from_this<Index> {
  public:
    // `path` as the caller gave it; `absolute` the same file from any working directory, and
    // `options` how it was opened: what a pickled Index re-opens in another process.
    Index(Engine engine, std::string path, std::string absolute, OpenOptions options)
        : engine_(std::move(engine)),
          path_(std::move(path)),
          absolute_(std::move(absolute)),
          options_(options) {}

    const Engine& engine() const { return engine_; }
    const std::string& path() const { return path_; }
    const std::string& absolute_path() const { return absolute_; }
    const OpenOptions& options() const { return options_; }
    // The contract's JSON writer of this index (every to_dict() goes through it), made on first
    // use: it renders every site once, which a caller who never asks for JSON need not pay.
    const contract::JsonWriter& json() const {
        std::call_once(json_once_, [this] { json_.emplace(engine_); });
        return *json_;
    }

  private:
    Engine engine_;
    std::string path_, absolute_;
    OpenOptions options_;
    mutable std::once_flag json_once_;
    mutable std::optional<contract::JsonWriter> json_;
};

using IndexPtr = std::shared_ptr<const Index>;

// The contract's JSON as Python values: objects become dicts in the same key order, so
// to_dict() equals json.loads of the CLI's --format json output.
py::object to_python(const contract::Json& value);
// JSON text the contract's writer rendered, as Python values (json.loads).
py::object from_json_text(const std::string& text);

// Raises the engine error as hospital_locator.<Subclass>(message) with .code and .status.
void set_python_error(const Error& error);
void register_errors(py::module_& m);

template <class T>
T unwrap(Result<T> r) {
    if (!r) throw r.error();
    return std::move(r).value();
}

// Answers and batches pickle as plain data, not as objects tied to an open index: `cls`
// (a class with to_dict()) unpickles as its to_dict(), so the receiving process needs neither
// the index file nor this module. `immutable`: copy.copy and copy.deepcopy return the object
// itself, as for a tuple, instead of going through pickling.
void pickle_as_plain_data(py::handle cls, bool immutable);

void bind_results(py::module_& m);
void bind_batches(py::module_& m, py::class_<Index, std::shared_ptr<Index>>& index);

}  // namespace hloc::python
