#include "build.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iomanip>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "gdal_inputs.hpp"
#include "hloc/checksum.hpp"
#include "hloc/chord_tree.hpp"
#include "hloc/error.hpp"
#include "hloc/geodesy.hpp"
#include "hloc/index_format.hpp"
#include "hloc/metadata.hpp"
#include "hloc/postcode.hpp"
#include "hloc/unit_vector.hpp"
#include "listing.hpp"
#include "onspd.hpp"
#include "phone.hpp"
#include "site_input.hpp"
#include "synthetic_sites.hpp"

namespace hloc::ingest {
namespace fmt = format;
namespace {

// The metadata's builder value: tool and version.
constexpr const char* kBuilderVersion = "hospital-locator build 0.1.0";
constexpr std::size_t kPostcodeLeafSize = 24;
constexpr std::size_t kSiteLeafSize = 8;

// For comparing place names: lower case, letters and digits, single spaces
// ("Stockton-on-Tees" == "Stockton on Tees").
std::string fold(std::string_view s) {
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c)) {
            out.push_back(static_cast<char>(std::tolower(c)));
        } else if (!out.empty() && out.back() != ' ') {
            out.push_back(' ');
        }
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out;
}

std::string slug(std::string_view s) {
    std::string out = fold(s);
    std::replace(out.begin(), out.end(), ' ', '-');
    return out;
}

std::string iso_utc(std::int64_t seconds) {
    std::time_t t = static_cast<std::time_t>(seconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return text;
}

// Metres to the millimetre, for the provenance.
std::string number_text(double metres) {
    std::ostringstream s;
    s << std::fixed << std::setprecision(3) << metres;
    return s.str();
}

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(ErrorCode::io_error, "cannot read '" + path.string() + "'");
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// Finds a located Code-Point row by canonical postcode text.
const CodePointRow* find_row(const CodePoint& cp, std::string_view postcode) {
    auto parsed = normalise_postcode(postcode);
    if (!parsed) return nullptr;
    auto p = parse_postcode(*parsed).value();
    CodePointRow key;
    std::copy(p.outward.begin(), p.outward.end(), key.outward.begin());
    key.inward_code = fmt::inward_code(p.sector_digit, p.unit_letters[0], p.unit_letters[1]);
    auto less = [](const CodePointRow& a, const CodePointRow& b) {
        return a.outward != b.outward ? a.outward < b.outward : a.inward_code < b.inward_code;
    };
    auto it = std::lower_bound(cp.located.begin(), cp.located.end(), key, less);
    if (it == cp.located.end() || less(key, *it)) return nullptr;
    return &*it;
}

// Matches listing blocks to directory sites (DESIGN.md): by postcode when the block has one,
// else by street plus the phone's area or a town line.
class Matcher {
  public:
    Matcher(const std::vector<DirectorySite>& directory, const CodePoint& cp, bool skip_unmatched)
        : directory_(directory), cp_(cp), skip_unmatched_(skip_unmatched) {}

    void add_listing(const ListingSpec& spec, BuildReport& report) {
        const Listing listing = read_listing(spec.file.string());
        const std::string file = spec.file.filename().string();
        std::optional<Phone> central;
        if (listing.central_phone) {
            central = parse_phone(*listing.central_phone, file + " ('Contact us' line)").value();
        }
        std::map<std::string, int> matched_at;  // site id -> block line, to catch duplicates
        for (const auto& block : listing.blocks) {
            const std::string where = file + " block at " + block.summary();
            std::optional<std::string> site_id;
            try {
                site_id = match(block, where);
            } catch (const Error& e) {
                if (!skip_unmatched_ || e.code() != ErrorCode::bad_input) throw;
                report.skipped_blocks.push_back(e.message());
                continue;
            }
            if (auto [it, fresh] = matched_at.emplace(*site_id, block.first_line); !fresh) {
                throw Error(ErrorCode::bad_input, file + ": the blocks at lines " +
                                                      std::to_string(it->second) + " and " +
                                                      std::to_string(block.first_line) +
                                                      " both match site '" + *site_id + "'");
            }
            OfferInput offer;
            offer.treatment = spec.treatment;
            offer.site_id = *site_id;
            if (block.phone) {
                offer.phone = parse_phone(*block.phone, where).value();
                offer.source = fmt::PhoneSource::listing;
            } else if (central) {
                offer.phone = *central;
                offer.source = fmt::PhoneSource::provider;
            } else {
                throw Error(ErrorCode::bad_input, where +
                                                      ": no phone number, and the page has no "
                                                      "'Contact us' number to show instead");
            }
            offers_.push_back(std::move(offer));
        }
    }

    std::vector<SiteInput> sites() const {
        std::vector<SiteInput> out;
        for (const auto& [id, site] : sites_) out.push_back(site);
        return out;  // std::map: sorted by id
    }
    std::vector<OfferInput> offers() const { return offers_; }
    const std::optional<Phone>& any_central() const { return central_; }

  private:
    std::string match(const ListingBlock& block, const std::string& where) {
        if (block.postcode) {
            const DirectorySite* by_postcode = nullptr;
            for (const auto& d : directory_) {
                if (d.postcode == *block.postcode) {
                    if (by_postcode != nullptr) {
                        throw Error(
                            ErrorCode::bad_input,
                            where + ": several directory sites have postcode " + *block.postcode);
                    }
                    by_postcode = &d;
                }
            }
            if (by_postcode != nullptr) {
                return locate(*by_postcode, *block.postcode, fmt::LocatedBy::postcode, where);
            }
            // Not in the directory: the block stands on its own postcode.
            DirectorySite own;
            own.name = block.name ? *block.name
                                  : (block.address_lines.empty() ? *block.postcode
                                                                 : block.address_lines[0]);
            own.id = slug(own.name) + "-" + slug(*block.postcode);
            if (!block.address_lines.empty()) own.street = block.address_lines[0];
            if (block.address_lines.size() > 1) own.town = block.address_lines.back();
            own.postcode = *block.postcode;
            return locate(own, *block.postcode, fmt::LocatedBy::postcode, where);
        }

        std::vector<const DirectorySite*> by_street;
        for (const auto& d : directory_) {
            for (const auto& line : block.address_lines) {
                if (!d.street.empty() && fold(line) == fold(d.street)) {
                    by_street.push_back(&d);
                    break;
                }
            }
        }
        std::string area;
        if (block.phone) {
            auto phone = parse_phone(*block.phone, where);
            if (phone) area = phone->area;
        }
        std::vector<const DirectorySite*> confirmed;
        for (const auto* d : by_street) {
            std::set<std::string> places = {fold(d->town), fold(d->locality)};
            places.erase("");
            bool agrees = !area.empty() && places.count(fold(area)) > 0;
            for (const auto& line : block.address_lines) {
                if (places.count(fold(line)) > 0) agrees = true;
            }
            if (agrees) confirmed.push_back(d);
        }
        if (confirmed.size() == 1) {
            const auto* d = confirmed.front();
            if (d->postcode.empty()) {
                throw Error(ErrorCode::bad_input, where + ": matches directory site '" + d->id +
                                                      "', which has no postcode either");
            }
            return locate(*d, d->postcode, fmt::LocatedBy::directory, where);
        }
        if (confirmed.size() > 1) {
            throw Error(ErrorCode::bad_input, where + ": matches several directory sites ('" +
                                                  confirmed[0]->id + "', '" + confirmed[1]->id +
                                                  "')");
        }
        std::string why = where + ": has no postcode and matches no site in the directory";
        if (!by_street.empty()) {
            why += " (its street matches '" + by_street[0]->id + "', but neither its phone's area" +
                   (area.empty() ? std::string() : " (" + area + ")") + " nor a town line agrees)";
        }
        throw Error(ErrorCode::bad_input, why);
    }

    std::string locate(const DirectorySite& d, const std::string& postcode, fmt::LocatedBy how,
                       const std::string& where) {
        const CodePointRow* row = find_row(cp_, postcode);
        if (row == nullptr) {
            throw Error(ErrorCode::bad_input,
                        where + ": postcode " + postcode + " has no coordinates in " + cp_.source);
        }
        SiteInput s;
        s.id = d.id;
        s.name = d.name;
        s.street = d.street;
        s.locality = d.locality;
        s.town = d.town;
        s.postcode = postcode;
        // The engine's postcode positions are those of the stored unit vectors; a site takes
        // the same, so a query from its own postcode is exactly 0 m away (bearing N).
        s.position = from_unit_vector(to_unit_vector({row->lat_deg, row->lon_deg}));
        s.located_by = how;
        s.quality = row->quality;
        auto [it, fresh] = sites_.emplace(s.id, s);
        if (!fresh && it->second.postcode != s.postcode) {
            throw Error(ErrorCode::bad_input, where + ": site '" + s.id + "' was located at " +
                                                  it->second.postcode + " by another listing");
        }
        return s.id;
    }

    const std::vector<DirectorySite>& directory_;
    const CodePoint& cp_;
    bool skip_unmatched_;
    std::map<std::string, SiteInput> sites_;
    std::vector<OfferInput> offers_;
    std::optional<Phone> central_;
};

// The payload, section by section, in a fixed order.
class IndexWriter {
  public:
    fmt::StringRef add_string(std::string_view s) {
        if (auto it = interned_.find(std::string(s)); it != interned_.end()) return it->second;
        const fmt::StringRef ref{static_cast<std::uint32_t>(strings_.size()),
                                 static_cast<std::uint32_t>(s.size())};
        strings_.append(s);
        interned_.emplace(std::string(s), ref);
        return ref;
    }

    template <class T>
    void add_section(fmt::SectionId id, const std::vector<T>& records) {
        add_raw(id, reinterpret_cast<const std::byte*>(records.data()), records.size() * sizeof(T),
                records.size());
    }
    void add_raw(fmt::SectionId id, const std::byte* data, std::size_t size, std::uint64_t count) {
        payload_.resize(fmt::align_up(payload_.size(), fmt::kSectionAlignment));
        fmt::SectionEntry e{};
        e.id = static_cast<std::uint32_t>(id);
        e.offset = fmt::kHeaderBytes + payload_.size();
        e.size = size;
        e.count = count;
        entries_.push_back(e);
        payload_.insert(payload_.end(), data, data + size);
    }
    const std::string& strings() const { return strings_; }

    // Writes header + payload to `out` through a temporary file and a rename.
    std::uint64_t write(const std::filesystem::path& out, std::string& checksum_text) {
        payload_.resize(fmt::align_up(payload_.size(), fmt::kSectionAlignment));
        fmt::FileHeader h{};
        h.magic = fmt::kMagic;
        h.format_version = fmt::kFormatVersion;
        h.endian_tag = fmt::kEndianTag;
        h.header_bytes = fmt::kHeaderBytes;
        h.section_count = static_cast<std::uint32_t>(entries_.size());
        h.file_size = fmt::kHeaderBytes + payload_.size();
        h.payload_checksum = checksum(payload_);
        std::copy(entries_.begin(), entries_.end(), h.sections.begin());
        h.header_checksum = 0;
        h.header_checksum = checksum(std::as_bytes(std::span(&h, 1)));
        checksum_text = checksum_hex(h.payload_checksum);

        std::vector<std::byte> head(fmt::kHeaderBytes);
        std::memcpy(head.data(), &h, sizeof h);
        const auto dir = out.has_parent_path() ? out.parent_path() : std::filesystem::path(".");
        const auto tmp = dir / (out.filename().string() + ".tmp." + std::to_string(::getpid()));
        {
            std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
            if (!f) throw Error(ErrorCode::io_error, "cannot write '" + tmp.string() + "'");
            f.write(reinterpret_cast<const char*>(head.data()),
                    static_cast<std::streamsize>(head.size()));
            f.write(reinterpret_cast<const char*>(payload_.data()),
                    static_cast<std::streamsize>(payload_.size()));
            f.flush();
            if (!f) {
                f.close();
                std::filesystem::remove(tmp);
                throw Error(ErrorCode::io_error,
                            "writing '" + tmp.string() + "' failed (disk full?)");
            }
        }
        std::error_code ec;
        std::filesystem::rename(tmp, out, ec);
        if (ec) {
            std::filesystem::remove(tmp);
            throw Error(ErrorCode::io_error, "cannot rename '" + tmp.string() + "' to '" +
                                                 out.string() + "': " + ec.message());
        }
        return h.file_size;
    }

  private:
    std::string strings_;
    std::map<std::string, fmt::StringRef> interned_;
    std::vector<std::byte> payload_;
    std::vector<fmt::SectionEntry> entries_;
};

struct Accumulator {
    double east = 0, north = 0;
    std::uint32_t count = 0;
    std::array<std::uint32_t, 5> by_country{};  // by fmt::Country
    void add(const CodePointRow& r) {
        east += r.eastings_m;
        north += r.northings_m;
        ++count;
        ++by_country[static_cast<std::size_t>(r.country)];
    }
    std::uint8_t country() const {
        return static_cast<std::uint8_t>(std::max_element(by_country.begin(), by_country.end()) -
                                         by_country.begin());
    }
};

// ---- options and inputs ---------------------------------------------------------------------

void check_listings(const BuildOptions& options) {
    if (options.listings.empty() && options.synthetic_sites == 0) {
        throw Error(ErrorCode::bad_input, "no listings given (--listing TREATMENT=FILE)");
    }
    std::set<std::string> treatment_names;
    for (const auto& l : options.listings) {
        if (l.treatment.empty() || slug(l.treatment) != l.treatment) {
            throw Error(ErrorCode::bad_input, "treatment name '" + l.treatment +
                                                  "' must be lower-case letters, digits and '-'");
        }
        if (!treatment_names.insert(l.treatment).second) {
            throw Error(ErrorCode::bad_input, "treatment '" + l.treatment + "' is given twice");
        }
    }
}

// Listings are matched, and recorded as sources, in treatment-name order, whatever the order
// given, so that the same inputs give the same bytes.
std::vector<ListingSpec> sorted_by_treatment(std::vector<ListingSpec> listings) {
    std::sort(listings.begin(), listings.end(),
              [](const ListingSpec& a, const ListingSpec& b) { return a.treatment < b.treatment; });
    return listings;
}

struct Inputs {
    std::vector<DirectorySite> directory;
    GridTransform grid;
    std::optional<GridTransform> irish_grid;  // when there are Northern Ireland postcodes
    CodePoint cp;
};

Inputs read_inputs(const BuildOptions& options) {
    const unsigned threads =
        options.threads ? options.threads : std::max(1u, std::thread::hardware_concurrency());
    options.log("reading site directory " + options.sites_csv.string());
    auto directory = read_directory(options.sites_csv.string());
    // Check every listing before the long read, so a typo fails in milliseconds.
    for (const auto& l : options.listings) (void)read_listing(l.file.string());

    GridTransform grid(options.grid);  // fails before the long read if the grid is missing
    CodePoint cp;
    if (options.onspd.empty()) {
        options.log("reading Code-Point Open " + options.codepoint_zip.string());
        cp = read_codepoint(options.codepoint_zip, options.grid, threads);
    } else {
        options.log("reading ONSPD " + options.onspd.string());
        cp = read_onspd(options.onspd, options.grid);
    }
    std::optional<GridTransform> irish_grid;
    if (!cp.irish_transform.empty()) irish_grid.emplace(GridTransform::irish_grid());
    return Inputs{std::move(directory), std::move(grid), std::move(irish_grid), std::move(cp)};
}

// ---- sites and offers -------------------------------------------------------------------------

SitesAndOffers match_listings(const BuildOptions& options, const Inputs& in, BuildReport& report) {
    options.log("matching listings to sites");
    Matcher matcher(in.directory, in.cp, options.skip_unmatched);
    for (const auto& l : sorted_by_treatment(options.listings)) matcher.add_listing(l, report);
    return {matcher.sites(), matcher.offers()};
}

// Adds `more` to `placed`, keeping the sites in id order.
void merge(SitesAndOffers& placed, const SitesAndOffers& more) {
    placed.sites.insert(placed.sites.end(), more.sites.begin(), more.sites.end());
    placed.offers.insert(placed.offers.end(), more.offers.begin(), more.offers.end());
    std::sort(placed.sites.begin(), placed.sites.end(),
              [](const auto& a, const auto& b) { return a.id < b.id; });
}

// ---- postcode sections ------------------------------------------------------------------------

struct PostcodeSections {
    std::vector<std::uint64_t> rows;       // fmt::PackedRow, by outward code then inward code
    std::vector<fmt::UnitVector> vectors;  // one per row
    std::vector<fmt::DistrictRecord> districts;
    std::vector<fmt::SectorRecord> sectors;
    std::vector<fmt::UnlocatedRecord> unlocated;            // quality 90, by postcode text
    std::vector<fmt::AdminDistrictRecord> admin_districts;  // by code
    std::vector<std::uint16_t> row_admin_districts;         // one per row: 1 + index, or 0
    std::vector<fmt::TerminatedRecord> terminated;          // by postcode text
};

std::uint32_t quality_index(std::uint8_t quality) {
    const auto& codes = fmt::kQualityCodes;
    const auto at = std::find(codes.begin(), codes.end(), quality);
    return static_cast<std::uint32_t>(at - codes.begin());
}

// Appends one district: its located rows (cp.located from `next_row` on, which it walks past),
// its sectors, and their centroids, still in eastings/northings (see centroids_to_wgs84).
void add_district(const std::array<char, 4>& outward, const CodePoint& cp, std::size_t& next_row,
                  PostcodeSections& out) {
    fmt::DistrictRecord d{};
    d.outward = outward;
    d.first_row = static_cast<std::uint32_t>(out.rows.size());
    d.first_sector = static_cast<std::uint32_t>(out.sectors.size());
    Accumulator district_acc;
    std::map<int, Accumulator> sector_acc;
    for (; next_row < cp.located.size() && cp.located[next_row].outward == outward; ++next_row) {
        const auto& r = cp.located[next_row];
        out.rows.push_back(fmt::PackedRow::pack(r.inward_code, r.eastings_m, r.northings_m,
                                                quality_index(r.quality), r.country));
        out.vectors.push_back(to_unit_vector({r.lat_deg, r.lon_deg}));
        district_acc.add(r);
        sector_acc[static_cast<int>(r.inward_code / 676)].add(r);
    }
    d.row_count = static_cast<std::uint32_t>(out.rows.size() - d.first_row);
    const auto district_index = static_cast<std::uint32_t>(out.districts.size());
    for (const auto& [digit, acc] : sector_acc) {
        fmt::SectorRecord s{};
        s.district = district_index;
        s.digit = static_cast<std::uint8_t>('0' + digit);
        s.country = acc.country();
        s.centroid.located_count = acc.count;
        s.centroid.eastings_m = acc.east / acc.count;
        s.centroid.northings_m = acc.north / acc.count;
        out.sectors.push_back(s);
    }
    d.sector_count = static_cast<std::uint32_t>(out.sectors.size() - d.first_sector);
    d.country = district_acc.country();
    d.centroid.located_count = district_acc.count;
    if (district_acc.count > 0) {
        d.centroid.eastings_m = district_acc.east / district_acc.count;
        d.centroid.northings_m = district_acc.north / district_acc.count;
    } else {
        // Only quality-90 members: the district exists but has no position.
        const auto it = std::find_if(cp.unlocated.begin(), cp.unlocated.end(),
                                     [&](const auto& r) { return r.outward == outward; });
        d.country = static_cast<std::uint8_t>(it->country);
    }
    out.districts.push_back(d);
}

// Every positioned centroid (a mean of eastings/northings) to WGS84, in one batch per grid:
// Northern Ireland's (Irish Grid) through `irish_grid`, the others through `grid`.
void centroids_to_wgs84(PostcodeSections& out, const GridTransform& grid,
                        const std::optional<GridTransform>& irish_grid) {
    std::array<std::vector<fmt::Centroid*>, 2> slots;  // [0] British, [1] Irish Grid
    const auto ni = static_cast<std::uint8_t>(fmt::Country::northern_ireland);
    for (auto& d : out.districts) {
        if (d.centroid.located_count > 0) slots[d.country == ni].push_back(&d.centroid);
    }
    for (auto& s : out.sectors) slots[s.country == ni].push_back(&s.centroid);
    if (!slots[1].empty() && !irish_grid) {
        throw Error(ErrorCode::internal, "Irish Grid centroids without the Irish Grid transform");
    }
    for (std::size_t g = 0; g < slots.size(); ++g) {
        std::vector<double> east_lat, north_lon;
        for (const auto* c : slots[g]) {
            east_lat.push_back(c->eastings_m);
            north_lon.push_back(c->northings_m);
        }
        (g == 0 ? grid : *irish_grid).to_wgs84(east_lat, north_lon);
        for (std::size_t i = 0; i < slots[g].size(); ++i) {
            slots[g][i]->lat_deg = east_lat[i];
            slots[g][i]->lon_deg = north_lon[i];
        }
    }
}

std::vector<fmt::UnlocatedRecord> unlocated_records(const CodePoint& cp) {
    std::vector<fmt::UnlocatedRecord> unlocated;
    for (const auto& r : cp.unlocated) {
        fmt::UnlocatedRecord u{};
        const auto text = postcode_text(r);
        std::copy(text.begin(), text.end(), u.text.begin());
        u.quality = r.quality;
        u.country = static_cast<std::uint8_t>(r.country);
        unlocated.push_back(u);
    }
    std::sort(unlocated.begin(), unlocated.end(),
              [](const auto& a, const auto& b) { return a.text < b.text; });
    return unlocated;
}

// Terminated postcodes (ONSPD): by text, each with its last position when it has one.
std::vector<fmt::TerminatedRecord> terminated_records(const CodePoint& cp) {
    std::vector<fmt::TerminatedRecord> out;
    for (const auto& r : cp.terminated) {
        fmt::TerminatedRecord t{};
        const auto text = postcode_text(r);
        std::copy(text.begin(), text.end(), t.text.begin());
        t.located = r.quality != 90;
        if (t.located) {
            t.position = to_unit_vector({r.lat_deg, r.lon_deg});
            t.eastings_m = r.eastings_m;
            t.northings_m = r.northings_m;
        }
        t.terminated = r.terminated;
        t.quality = r.quality;
        t.country = static_cast<std::uint8_t>(r.country);
        out.push_back(t);
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.text < b.text; });
    return out;
}

// The admin district codes the located rows carry, and each row's (rows are in the order of
// cp.located, as `rows` is).
void admin_districts(const CodePoint& cp, PostcodeSections& out) {
    std::map<std::array<char, 9>, std::uint16_t> index;
    const std::array<char, 9> none{};
    for (const auto& r : cp.located) {
        if (r.admin_district != none) index.emplace(r.admin_district, 0);
    }
    if (index.size() > fmt::kMaxAdminDistricts) {
        throw Error(ErrorCode::bad_input, cp.source + " has " + std::to_string(index.size()) +
                                              " admin district codes; the index holds at most " +
                                              std::to_string(fmt::kMaxAdminDistricts));
    }
    for (auto& [code, n] : index) {
        n = static_cast<std::uint16_t>(out.admin_districts.size() + 1);
        fmt::AdminDistrictRecord record{};
        record.code = code;
        out.admin_districts.push_back(record);
    }
    out.row_admin_districts.reserve(cp.located.size());
    for (const auto& r : cp.located) {
        out.row_admin_districts.push_back(r.admin_district == none ? 0
                                                                   : index.at(r.admin_district));
    }
}

PostcodeSections postcode_sections(const CodePoint& cp, const GridTransform& grid,
                                   const std::optional<GridTransform>& irish_grid) {
    PostcodeSections out;
    out.rows.reserve(cp.located.size());
    out.vectors.reserve(cp.located.size());
    std::set<std::array<char, 4>> outwards;
    for (const auto& r : cp.located) outwards.insert(r.outward);
    for (const auto& r : cp.unlocated) outwards.insert(r.outward);
    std::size_t next_row = 0;
    for (const auto& outward : outwards) add_district(outward, cp, next_row, out);
    centroids_to_wgs84(out, grid, irish_grid);
    out.unlocated = unlocated_records(cp);
    out.terminated = terminated_records(cp);
    admin_districts(cp, out);
    return out;
}

std::vector<std::byte> postcode_tree(const std::vector<fmt::UnitVector>& vectors) {
    const UnitVectorCloud cloud{vectors};
    return serialise_chord_tree(*build_chord_tree(cloud, kPostcodeLeafSize));
}

// ---- site sections ----------------------------------------------------------------------------

struct SiteSections {
    std::vector<fmt::SiteRecord> sites;            // in id order
    std::vector<fmt::TreatmentRecord> treatments;  // in name order
    std::vector<fmt::OfferRecord> offers;          // per treatment, in site order
    std::vector<fmt::UnitVector> site_vectors;     // one per offer
    std::vector<std::byte> site_trees;             // one chord tree per treatment, 8-aligned
};

// The strings are interned in this order; a different order would give different bytes.
fmt::SiteRecord site_record(const SiteInput& s, IndexWriter& w) {
    fmt::SiteRecord r{};
    r.id = w.add_string(s.id);
    r.name = w.add_string(s.name);
    r.street = w.add_string(s.street);
    r.locality = w.add_string(s.locality);
    r.town = w.add_string(s.town);
    r.postcode = w.add_string(s.postcode);
    r.lat_deg = s.position.lat_deg;
    r.lon_deg = s.position.lon_deg;
    r.located_by = static_cast<std::uint8_t>(s.located_by);
    r.quality = s.quality;
    return r;
}

// For the report: how a site was located.
std::string site_line(const SiteInput& s) {
    return s.id + ": " + s.name + ", " + s.postcode + " (located by " +
           (s.located_by == fmt::LocatedBy::postcode ? "postcode" : "directory") + ", quality " +
           std::to_string(s.quality) + ")";
}

// Appends one treatment: its offers in site order, their site vectors, and its chord tree.
void add_treatment(const std::string& name, std::vector<const OfferInput*> offers,
                   const std::map<std::string, std::uint32_t>& site_index, IndexWriter& w,
                   SiteSections& out) {
    std::sort(offers.begin(), offers.end(), [&](const OfferInput* a, const OfferInput* b) {
        return site_index.at(a->site_id) < site_index.at(b->site_id);
    });
    fmt::TreatmentRecord t{};
    t.name = w.add_string(name);
    t.first_site = static_cast<std::uint32_t>(out.offers.size());
    t.site_count = static_cast<std::uint32_t>(offers.size());
    for (const auto* o : offers) {
        fmt::OfferRecord rec{};
        rec.site = site_index.at(o->site_id);
        rec.phone_display = w.add_string(o->phone.display);
        rec.phone_e164 = w.add_string(o->phone.e164);
        rec.phone_uri = w.add_string(o->phone.uri);
        rec.phone_source = static_cast<std::uint8_t>(o->source);
        out.offers.push_back(rec);
        const auto& site = out.sites[rec.site];
        out.site_vectors.push_back(to_unit_vector({site.lat_deg, site.lon_deg}));
    }
    const UnitVectorCloud cloud{std::span(out.site_vectors).subspan(t.first_site, t.site_count)};
    const auto bytes = serialise_chord_tree(*build_chord_tree(cloud, kSiteLeafSize));
    out.site_trees.resize(fmt::align_up(out.site_trees.size(), 8));
    t.tree_offset = out.site_trees.size();
    t.tree_size = bytes.size();
    out.site_trees.insert(out.site_trees.end(), bytes.begin(), bytes.end());
    out.treatments.push_back(t);
}

SiteSections site_sections(const SitesAndOffers& placed, IndexWriter& w, BuildReport& report) {
    SiteSections out;
    std::map<std::string, std::uint32_t> site_index;
    for (const auto& s : placed.sites) {
        site_index[s.id] = static_cast<std::uint32_t>(out.sites.size());
        out.sites.push_back(site_record(s, w));
        report.site_lines.push_back(site_line(s));
    }
    std::map<std::string, std::vector<const OfferInput*>> by_treatment;
    for (const auto& o : placed.offers) by_treatment[o.treatment].push_back(&o);
    for (auto& [name, offers] : by_treatment) {
        add_treatment(name, std::move(offers), site_index, w, out);
    }
    return out;
}

// ---- provenance -------------------------------------------------------------------------------

void add_entry(metadata::Entries& meta, std::string_view key, std::string value) {
    meta.emplace_back(std::string(key), std::move(value));
}

// source.<n>.*: one input file by name, size and content hash (and date, when it has one).
void add_source(metadata::Entries& meta, std::size_t n, const std::string& role,
                const std::filesystem::path& path, const std::string& modified) {
    using metadata::source_key;
    const std::string bytes = read_file(path);
    add_entry(meta, source_key(n, metadata::kSourceRole), role);
    add_entry(meta, source_key(n, metadata::kSourceFile), path.filename().string());
    add_entry(meta, source_key(n, metadata::kSourceBytes), std::to_string(bytes.size()));
    add_entry(meta, source_key(n, metadata::kSourceXxh3),
              checksum_hex(checksum(std::as_bytes(std::span(bytes)))));
    if (!modified.empty()) add_entry(meta, source_key(n, metadata::kSourceModified), modified);
}

// Names, sizes and content hashes, never paths or wall-clock times, so that the same inputs
// give the same bytes on any machine.
metadata::Entries provenance(const BuildOptions& options, const Inputs& in, std::size_t site_count,
                             const std::vector<std::string>& skipped_blocks) {
    const CodePoint& cp = in.cp;
    metadata::Entries meta;
    add_entry(meta, metadata::kBuilder, kBuilderVersion);
    add_entry(meta, metadata::kBuiltAt, iso_utc(cp.newest_member_time));
    add_entry(
        meta, metadata::kTransform,
        "EPSG:27700 -> EPSG:4326 via OSGB36 to WGS 84 (9), OSTN15 NTv2: " + in.grid.description());
    std::size_t n = 0;
    for (const auto& l : sorted_by_treatment(options.listings)) {
        add_source(meta, n++, "listing:" + l.treatment, l.file, "");
    }
    add_source(meta, n++, "sites", options.sites_csv, "");
    if (options.onspd.empty()) {
        add_source(meta, n++, "codepoint", options.codepoint_zip, iso_utc(cp.newest_member_time));
    } else {
        add_source(meta, n++, "onspd", options.onspd, iso_utc(cp.newest_member_time));
    }
    add_source(meta, n++, "grid", options.grid, "");
    add_entry(meta, metadata::kCountPostcodes,
              std::to_string(cp.located.size() + cp.unlocated.size()));
    add_entry(meta, metadata::kCountLocated, std::to_string(cp.located.size()));
    add_entry(meta, metadata::kCountUnlocated, std::to_string(cp.unlocated.size()));
    add_entry(meta, metadata::kCountAreaFiles, std::to_string(cp.area_files));
    add_entry(meta, metadata::kCountSites, std::to_string(site_count));
    if (!options.onspd.empty()) {
        add_entry(meta, metadata::kPostcodeSource, cp.source);
        add_entry(meta, metadata::kCountTerminated, std::to_string(cp.terminated.size()));
        add_entry(meta, metadata::kCountNorthernIreland, std::to_string(cp.northern_ireland));
        add_entry(meta, metadata::kCountNotCovered, std::to_string(cp.not_covered));
        add_entry(meta, metadata::kCountNonGeographic, std::to_string(cp.non_geographic));
        add_entry(meta, metadata::kCheckGbVsOnspdMaxM, number_text(cp.gb_vs_onspd_max_m));
        if (!cp.irish_transform.empty()) {
            add_entry(meta, metadata::kTransformIrishGrid, cp.irish_transform);
            add_entry(meta, metadata::kCheckIrishGridVsOnspdMaxM,
                      number_text(cp.irish_vs_onspd_max_m));
        }
    }
    for (const auto& l : skipped_blocks) add_entry(meta, metadata::kSkippedBlock, l);
    return meta;
}

// ---- the file ---------------------------------------------------------------------------------

std::vector<std::uint16_t> row_samples(const std::vector<std::uint64_t>& rows) {
    std::vector<std::uint16_t> samples;
    for (std::size_t i = 0; i < rows.size(); i += fmt::kRowSampleStride) {
        samples.push_back(static_cast<std::uint16_t>(fmt::PackedRow::inward_code(rows[i])));
    }
    return samples;
}

// Every section, in the format's fixed order.
void add_sections(IndexWriter& w, const metadata::Entries& meta, const PostcodeSections& postcodes,
                  const SiteSections& sites, const std::vector<std::byte>& postcode_tree) {
    using S = fmt::SectionId;
    const std::string meta_text = metadata::encode(meta);
    w.add_raw(S::metadata, reinterpret_cast<const std::byte*>(meta_text.data()), meta_text.size(),
              meta_text.size());
    w.add_section(S::districts, postcodes.districts);
    w.add_section(S::sectors, postcodes.sectors);
    w.add_section(S::postcodes, postcodes.rows);
    w.add_section(S::row_samples, row_samples(postcodes.rows));
    w.add_section(S::unit_vectors, postcodes.vectors);
    w.add_section(S::unlocated, postcodes.unlocated);
    w.add_section(S::sites, sites.sites);
    w.add_section(S::treatments, sites.treatments);
    w.add_section(S::treatment_sites, sites.offers);
    w.add_section(S::site_vectors, sites.site_vectors);
    w.add_raw(S::site_trees, sites.site_trees.data(), sites.site_trees.size(),
              sites.treatments.size());
    w.add_raw(S::postcode_tree, postcode_tree.data(), postcode_tree.size(), 1);
    w.add_section(S::admin_districts, postcodes.admin_districts);
    w.add_section(S::row_admin_districts, postcodes.row_admin_districts);
    if (!postcodes.terminated.empty()) w.add_section(S::terminated, postcodes.terminated);
    // Strings last: every section above has interned its strings by now.
    const std::string& strings = w.strings();
    w.add_raw(S::strings, reinterpret_cast<const std::byte*>(strings.data()), strings.size(),
              strings.size());
}

void write_index(IndexWriter& w, const std::filesystem::path& out, BuildReport& report) {
    if (out.has_parent_path() && !std::filesystem::is_directory(out.parent_path())) {
        throw Error(ErrorCode::io_error,
                    "output directory '" + out.parent_path().string() + "' does not exist");
    }
    report.file_bytes = w.write(out, report.checksum);
}

void count(const CodePoint& cp, const PostcodeSections& postcodes, const SiteSections& sites,
           BuildReport& report) {
    report.postcodes = cp.located.size() + cp.unlocated.size();
    report.located = cp.located.size();
    report.unlocated = cp.unlocated.size();
    report.sectors = postcodes.sectors.size();
    report.districts = postcodes.districts.size();
    report.sites = sites.sites.size();
    report.area_files = cp.area_files;
    report.source = cp.source;
    report.terminated = cp.terminated.size();
    report.northern_ireland = cp.northern_ireland;
    report.not_covered = cp.not_covered;
    report.non_geographic = cp.non_geographic;
    report.gb_vs_onspd_max_m = cp.gb_vs_onspd_max_m;
    report.irish_vs_onspd_max_m = cp.irish_vs_onspd_max_m;
}

}  // namespace

BuildReport build_index(const BuildOptions& options) {
    check_listings(options);
    const Inputs in = read_inputs(options);

    BuildReport report;
    SitesAndOffers placed = match_listings(options, in, report);
    if (options.synthetic_sites > 0) {
        merge(placed, synthetic_sites(options.synthetic_sites, in.cp, options.listings));
    }
    if (placed.sites.empty()) {
        throw Error(ErrorCode::bad_input, "no listing block could be matched to a site");
    }

    options.log("writing " + options.out.string());
    IndexWriter w;
    const PostcodeSections postcodes = postcode_sections(in.cp, in.grid, in.irish_grid);
    const SiteSections sites = site_sections(placed, w, report);
    options.log("building the postcode KD-tree over " + std::to_string(postcodes.vectors.size()) +
                " points");
    const auto tree = postcode_tree(postcodes.vectors);
    const auto meta = provenance(options, in, sites.sites.size(), report.skipped_blocks);
    add_sections(w, meta, postcodes, sites, tree);
    write_index(w, options.out, report);
    count(in.cp, postcodes, sites, report);
    return report;
}

}  // namespace hloc::ingest
