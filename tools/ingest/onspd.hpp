// The ONS Postcode Directory (ONSPD) as a postcode source: every UK postcode, live and
// terminated, with a grid reference to 1 m (British National Grid in Great Britain, Irish Grid
// in Northern Ireland). Code-Point Open stays the default source; this one adds Northern
// Ireland and terminated postcodes.
#pragma once

#include <filesystem>

#include "gdal_inputs.hpp"

namespace hloc::ingest {

// Reads ONSPD through GDAL: the release zip (its Data/ONSPD_<MON>_<YEAR>_UK.csv, through
// /vsizip/) or that CSV itself, chosen by the file's extension. Great Britain's rows go through
// the OSTN15 grid, Northern Ireland's through GridTransform::irish_grid(). Rows of the Channel
// Islands and the Isle of Man, which ONSPD lists without a grid reference, are counted and left
// out. Throws Error{bad_input} naming the file, line and field of a bad row.
CodePoint read_onspd(const std::filesystem::path& file, const std::filesystem::path& ostn15_grid);

}  // namespace hloc::ingest
