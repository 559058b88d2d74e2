// Synthetic sites for scaling benchmarks and tests (`--synthetic-sites N`): a treatment
// "synthetic" offered at N sites placed at pseudo-random located postcodes. The seed and the
// random engine are fixed, so the same inputs give the same sites, and index bytes, anywhere.
#pragma once

#include <cstdint>
#include <vector>

#include "build.hpp"
#include "gdal_inputs.hpp"
#include "site_input.hpp"

namespace hloc::ingest {

// `count` sites "synthetic-000001"... at rows of cp.located (which must not be empty), each
// offering treatment "synthetic" with the first listing's "Contact us" number, or the
// provider's published one when there is no listing or it has none.
SitesAndOffers synthetic_sites(std::uint32_t count, const CodePoint& cp,
                               const std::vector<ListingSpec>& listings);

}  // namespace hloc::ingest
