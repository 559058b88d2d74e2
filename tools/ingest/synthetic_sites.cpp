#include "synthetic_sites.hpp"

#include <cstdio>
#include <optional>
#include <random>
#include <string>

#include "hloc/unit_vector.hpp"
#include "listing.hpp"
#include "phone.hpp"

namespace hloc::ingest {
namespace {

constexpr std::uint64_t kSeed = 20261125;
constexpr const char* kProviderPhone = "0345 602 8179";  // the provider's "Contact us" number

Phone contact_phone(const std::vector<ListingSpec>& listings) {
    if (!listings.empty()) {
        const auto listing = read_listing(listings.front().file.string());
        if (listing.central_phone) {
            return parse_phone(*listing.central_phone, "synthetic sites").value();
        }
    }
    return parse_phone(kProviderPhone, "synthetic sites").value();
}

}  // namespace

SitesAndOffers synthetic_sites(std::uint32_t count, const CodePoint& cp,
                               const std::vector<ListingSpec>& listings) {
    // Fixed seed and a fully specified engine: the same sites on every machine.
    std::mt19937_64 rng(kSeed);
    const Phone phone = contact_phone(listings);
    SitesAndOffers out;
    for (std::uint32_t i = 0; i < count; ++i) {
        const auto& row = cp.located[rng() % cp.located.size()];
        SiteInput s;
        char id[32];
        std::snprintf(id, sizeof id, "synthetic-%06u", i + 1);
        s.id = id;
        s.name = "Synthetic site " + std::to_string(i + 1);
        s.postcode = postcode_text(row);
        s.town = s.postcode;
        s.position = from_unit_vector(to_unit_vector({row.lat_deg, row.lon_deg}));
        s.located_by = format::LocatedBy::postcode;
        s.quality = row.quality;
        out.sites.push_back(s);
        out.offers.push_back({"synthetic", s.id, phone, format::PhoneSource::provider});
    }
    return out;
}

}  // namespace hloc::ingest
