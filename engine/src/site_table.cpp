#include "site_table.hpp"

#include <algorithm>

#include "text.hpp"

namespace hloc::detail {

namespace fmt = format;

SiteTable::SiteTable(const IndexReader& index) : index_(index) {
    treatments_.reserve(index.treatment_records.size());
    for (const auto& t : index.treatment_records) {
        Treatment tr;
        tr.name = index.str(t.name);
        tr.first_offer = t.first_site;
        tr.offers = index.offers.subspan(t.first_site, t.site_count);
        tr.cloud.points = index.site_vectors.subspan(t.first_site, t.site_count);
        treatments_.push_back(std::move(tr));
    }
    // Trees point at their cloud, so load them once the vector no longer moves.
    for (std::size_t i = 0; i < treatments_.size(); ++i) {
        const auto& t = index.treatment_records[i];
        treatments_[i].tree = load_chord_tree(
            treatments_[i].cloud, index.site_tree_bytes.subspan(t.tree_offset, t.tree_size),
            "sites offering " + std::string(treatments_[i].name));
    }
    site_ends_.reserve(index.site_records.size());
    for (const auto& r : index.site_records) {
        site_ends_.push_back(vincenty_end({r.lat_deg, r.lon_deg}));
    }
    // Offers grouped by site (counting sort), in treatment order within a site.
    const auto sites = index.site_records.size();
    site_offer_begin_.assign(sites + 1, 0);
    for (const auto& o : index.offers) ++site_offer_begin_[o.site + 1];
    for (std::size_t s = 0; s < sites; ++s) site_offer_begin_[s + 1] += site_offer_begin_[s];
    site_offer_index_.resize(index.offers.size());
    std::vector<std::uint32_t> fill(site_offer_begin_.begin(), site_offer_begin_.end() - 1);
    for (std::uint32_t o = 0; o < index.offers.size(); ++o) {
        site_offer_index_[fill[index.offers[o].site]++] = o;
    }
}

Result<const Treatment*> SiteTable::treatment(std::string_view name) const {
    if (name.empty() && treatments_.size() == 1) return &treatments_.front();
    for (const auto& t : treatments_) {
        if (!name.empty() && t.name == name) return &t;
    }
    // Refused: only now list the names, for the message (this runs on every query otherwise).
    std::string names;
    for (const auto& t : treatments_) {
        if (!names.empty()) names += ", ";
        names += t.name;
    }
    if (name.empty()) {
        return Error(ErrorCode::invalid_parameter, "this index offers several treatments (" +
                                                       names + "): name one with treatment");
    }
    return Error(ErrorCode::unknown_treatment,
                 "no treatment " + in_quotes(name) + " in this index; it has: " + names);
}

SiteView SiteTable::site(std::uint32_t index) const {
    const auto& r = index_.site_records[index];
    SiteView v;
    v.index = index;
    v.id = index_.str(r.id);
    v.name = index_.str(r.name);
    v.street = index_.str(r.street);
    v.locality = index_.str(r.locality);
    v.town = index_.str(r.town);
    v.postcode = index_.str(r.postcode);
    v.located_by = r.located_by == static_cast<std::uint8_t>(fmt::LocatedBy::directory)
                       ? "directory"
                       : "postcode";
    v.quality = r.quality;
    v.position = {r.lat_deg, r.lon_deg};
    for (auto i = site_offer_begin_[index]; i < site_offer_begin_[index + 1]; ++i) {
        const auto offer = site_offer_index_[i];
        v.phones.push_back(phone(offer));
        for (const auto& t : index_.treatment_records) {
            if (offer >= t.first_site && offer < t.first_site + t.site_count) {
                v.treatments.push_back(index_.str(t.name));
            }
        }
    }
    return v;
}

PhoneView SiteTable::phone(std::uint32_t offer_index) const {
    const auto& o = index_.offers[offer_index];
    return {index_.str(o.phone_display), index_.str(o.phone_e164), index_.str(o.phone_uri),
            o.phone_source == static_cast<std::uint8_t>(fmt::PhoneSource::provider) ? "provider"
                                                                                    : "listing"};
}

Result<SiteView> SiteTable::find_site(std::string_view id) const {
    const auto& recs = index_.site_records;
    auto it = std::lower_bound(
        recs.begin(), recs.end(), id,
        [&](const fmt::SiteRecord& r, std::string_view key) { return index_.str(r.id) < key; });
    if (it == recs.end() || index_.str(it->id) != id) {
        return Error(ErrorCode::unknown_site, "no site " + in_quotes(id) + " in this index");
    }
    return site(static_cast<std::uint32_t>(it - recs.begin()));
}

}  // namespace hloc::detail
