// Names for Code-Point's admin district codes, from a code list the user supplies.
//
// Code-Point Open's own list is Doc/Codelist.xlsx in the full download (one sheet per kind of
// area, each row a name and its GSS code, no header); ONS publishes the same codes as CSV
// (LAD23CD,LAD23NM,...). Either is read through GDAL, so anything GDAL reads as a table will do
// (CSV, XLSX, ODS, a GeoPackage): every layer (sheet), every row. In a row, the cell that is a
// GSS code is the code and the first other cell with a letter in it is the name; rows without
// a GSS code (headers, notes) are passed over.
#pragma once

#include <functional>
#include <map>
#include <string>

namespace hloc::batch {

using DistrictNames = std::map<std::string, std::string, std::less<>>;  // GSS code -> name

// Throws Error{io_error} when the file cannot be opened, Error{bad_input} when GDAL cannot read
// it as a table, when a code is given two different names (both places named), or when no row
// holds a GSS code and a name.
DistrictNames read_district_names(const std::string& path);

}  // namespace hloc::batch
