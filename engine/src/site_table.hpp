// The sites of a mapped index, the treatments they offer (each with its KD-tree over the sites
// that offer it), and the phone to ring for each offer. Views point into the mapping.
#pragma once

#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "hloc/chord_tree.hpp"
#include "hloc/error.hpp"
#include "hloc/query.hpp"
#include "index_reader.hpp"
#include "vincenty.hpp"

namespace hloc::detail {

struct Treatment {
    std::string_view name;
    std::uint32_t first_offer = 0;
    std::span<const format::OfferRecord> offers;  // ascending site index (= site id order)
    UnitVectorCloud cloud;
    std::unique_ptr<ChordTree> tree;
};

class SiteTable {
  public:
    // Loads every treatment's tree (throws Error{bad_index} for a damaged one).
    explicit SiteTable(const IndexReader& index);
    SiteTable(const SiteTable&) = delete;
    SiteTable& operator=(const SiteTable&) = delete;

    // "" picks the index's only treatment; several, or an unknown name, is an error.
    Result<const Treatment*> treatment(std::string_view name) const;
    const std::vector<Treatment>& treatments() const { return treatments_; }

    std::uint32_t site_count() const {
        return static_cast<std::uint32_t>(index_.site_records.size());
    }
    SiteView site(std::uint32_t index) const;
    PhoneView phone(std::uint32_t offer_index) const;
    Result<SiteView> find_site(std::string_view id) const;
    // Inline: exact_nearest asks for it once per candidate, and twice per answer.
    const VincentyEnd& site_end(std::uint32_t index) const { return site_ends_[index]; }

  private:
    const IndexReader& index_;
    std::vector<Treatment> treatments_;
    // Per site, its offer indices: site_offer_index_[site_offer_begin_[s] ..
    // site_offer_begin_[s+1]).
    std::vector<std::uint32_t> site_offer_begin_, site_offer_index_;
    std::vector<VincentyEnd> site_ends_;  // per site: its reduced latitude, prepared at open
};

}  // namespace hloc::detail
