// What the index will hold about each site and each treatment's offer of it, before the
// records are written: the matcher fills these from the listings, and synthetic_sites.hpp
// adds benchmark sites of the same shape.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hloc/index_format.hpp"
#include "hloc/query.hpp"
#include "phone.hpp"

namespace hloc::ingest {

struct SiteInput {
    std::string id, name, street, locality, town, postcode;
    LatLon position;  // WGS84 degrees, as its postcode's stored unit vector gives them
    format::LocatedBy located_by = format::LocatedBy::postcode;
    std::uint8_t quality = 0;  // Code-Point Open positional quality of that postcode
};

struct OfferInput {
    std::string treatment;
    std::string site_id;
    Phone phone;
    format::PhoneSource source = format::PhoneSource::listing;
};

struct SitesAndOffers {
    std::vector<SiteInput> sites;  // sorted by id
    std::vector<OfferInput> offers;
};

}  // namespace hloc::ingest
