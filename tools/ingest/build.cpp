#include "build.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <ctime>
#include <fstream>
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
#include "hloc/unit_vector.hpp"
#include "hloc/index_format.hpp"
#include "hloc/metadata.hpp"
#include "hloc/postcode.hpp"
#include "listing.hpp"
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
                throw Error(ErrorCode::bad_input, file + ": the blocks at lines " + std::to_string(it->second) +
                                                      " and " + std::to_string(block.first_line) +
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
                throw Error(ErrorCode::bad_input, where + ": no phone number, and the page has no "
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
                        throw Error(ErrorCode::bad_input, where + ": several directory sites have postcode " +
                                                              *block.postcode);
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
                                  : (block.address_lines.empty() ? *block.postcode : block.address_lines[0]);
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
                                                  confirmed[0]->id + "', '" + confirmed[1]->id + "')");
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
            throw Error(ErrorCode::bad_input, where + ": postcode " + postcode +
                                                  " has no coordinates in Code-Point Open");
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
            f.write(reinterpret_cast<const char*>(head.data()), static_cast<std::streamsize>(head.size()));
            f.write(reinterpret_cast<const char*>(payload_.data()), static_cast<std::streamsize>(payload_.size()));
            f.flush();
            if (!f) {
                f.close();
                std::filesystem::remove(tmp);
                throw Error(ErrorCode::io_error, "writing '" + tmp.string() + "' failed (disk full?)");
            }
        }
        std::error_code ec;
        std::filesystem::rename(tmp, out, ec);
        if (ec) {
            std::filesystem::remove(tmp);
            throw Error(ErrorCode::io_error, "cannot rename '" + tmp.string() + "' to '" + out.string() +
                                                 "': " + ec.message());
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
    std::array<std::uint32_t, 4> by_country{};
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

}  // namespace

BuildReport build_index(const BuildOptions& options) {
    BuildReport report;
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
    const unsigned threads = options.threads ? options.threads : std::max(1u, std::thread::hardware_concurrency());

    options.log("reading site directory " + options.sites_csv.string());
    const auto directory = read_directory(options.sites_csv.string());
    // Check every listing before the long read, so a typo fails in milliseconds.
    for (const auto& l : options.listings) (void)read_listing(l.file.string());

    options.log("reading Code-Point Open " + options.codepoint_zip.string());
    const GridTransform grid(options.grid);  // fails before the long read if the grid is missing
    const CodePoint cp = read_codepoint(options.codepoint_zip, options.grid, threads);

    options.log("matching listings to sites");
    Matcher matcher(directory, cp, options.skip_unmatched);
    auto listings = options.listings;
    std::sort(listings.begin(), listings.end(),
              [](const ListingSpec& a, const ListingSpec& b) { return a.treatment < b.treatment; });
    for (const auto& l : listings) matcher.add_listing(l, report);
    std::vector<SiteInput> sites = matcher.sites();
    std::vector<OfferInput> offers = matcher.offers();

    if (options.synthetic_sites > 0) {
        auto synthetic = synthetic_sites(options.synthetic_sites, cp, options.listings);
        sites.insert(sites.end(), synthetic.sites.begin(), synthetic.sites.end());
        offers.insert(offers.end(), synthetic.offers.begin(), synthetic.offers.end());
        std::sort(sites.begin(), sites.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    }
    if (sites.empty()) throw Error(ErrorCode::bad_input, "no listing block could be matched to a site");

    options.log("writing " + options.out.string());
    IndexWriter w;

    // Postcode tables.
    std::vector<std::uint64_t> rows;
    std::vector<fmt::UnitVector> vectors;
    std::vector<fmt::DistrictRecord> districts;
    std::vector<fmt::SectorRecord> sectors;
    std::vector<double> centroid_e, centroid_n;  // transformed in one batch below
    std::vector<fmt::Centroid*> centroid_slots;
    rows.reserve(cp.located.size());
    vectors.reserve(cp.located.size());
    auto quality_index = [](std::uint8_t q) {
        return static_cast<std::uint32_t>(
            std::find(fmt::kQualityCodes.begin(), fmt::kQualityCodes.end(), q) - fmt::kQualityCodes.begin());
    };
    std::set<std::array<char, 4>> outwards;
    for (const auto& r : cp.located) outwards.insert(r.outward);
    for (const auto& r : cp.unlocated) outwards.insert(r.outward);
    std::size_t li = 0;
    for (const auto& outward : outwards) {
        fmt::DistrictRecord d{};
        d.outward = outward;
        d.first_row = static_cast<std::uint32_t>(rows.size());
        d.first_sector = static_cast<std::uint32_t>(sectors.size());
        Accumulator district_acc;
        std::map<int, Accumulator> sector_acc;
        for (; li < cp.located.size() && cp.located[li].outward == outward; ++li) {
            const auto& r = cp.located[li];
            rows.push_back(fmt::PackedRow::pack(r.inward_code, r.eastings_m, r.northings_m,
                                                quality_index(r.quality), r.country));
            vectors.push_back(to_unit_vector({r.lat_deg, r.lon_deg}));
            district_acc.add(r);
            sector_acc[static_cast<int>(r.inward_code / 676)].add(r);
        }
        d.row_count = static_cast<std::uint32_t>(rows.size() - d.first_row);
        const auto district_index = static_cast<std::uint32_t>(districts.size());
        for (const auto& [digit, acc] : sector_acc) {
            fmt::SectorRecord s{};
            s.district = district_index;
            s.digit = static_cast<std::uint8_t>('0' + digit);
            s.country = acc.country();
            s.centroid.located_count = acc.count;
            s.centroid.eastings_m = acc.east / acc.count;
            s.centroid.northings_m = acc.north / acc.count;
            sectors.push_back(s);
        }
        d.sector_count = static_cast<std::uint32_t>(sectors.size() - d.first_sector);
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
        districts.push_back(d);
    }
    for (auto& d : districts) {
        if (d.centroid.located_count > 0) centroid_slots.push_back(&d.centroid);
    }
    for (auto& s : sectors) centroid_slots.push_back(&s.centroid);
    for (auto* c : centroid_slots) {
        centroid_e.push_back(c->eastings_m);
        centroid_n.push_back(c->northings_m);
    }
    grid.to_wgs84(centroid_e, centroid_n);
    for (std::size_t i = 0; i < centroid_slots.size(); ++i) {
        centroid_slots[i]->lat_deg = centroid_e[i];
        centroid_slots[i]->lon_deg = centroid_n[i];
    }
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

    // Sites and treatments.
    std::map<std::string, std::uint32_t> site_index;
    std::vector<fmt::SiteRecord> site_records;
    for (const auto& s : sites) {
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
        site_index[s.id] = static_cast<std::uint32_t>(site_records.size());
        site_records.push_back(r);
        report.site_lines.push_back(s.id + ": " + s.name + ", " + s.postcode + " (located by " +
                                    (s.located_by == fmt::LocatedBy::postcode ? "postcode" : "directory") +
                                    ", quality " + std::to_string(s.quality) + ")");
    }
    std::map<std::string, std::vector<const OfferInput*>> by_treatment;
    for (const auto& o : offers) by_treatment[o.treatment].push_back(&o);
    std::vector<fmt::TreatmentRecord> treatment_records;
    std::vector<fmt::OfferRecord> offer_records;
    std::vector<fmt::UnitVector> site_vectors;
    std::vector<std::byte> site_trees;
    for (auto& [name, list] : by_treatment) {
        std::sort(list.begin(), list.end(), [&](const OfferInput* a, const OfferInput* b) {
            return site_index.at(a->site_id) < site_index.at(b->site_id);
        });
        fmt::TreatmentRecord t{};
        t.name = w.add_string(name);
        t.first_site = static_cast<std::uint32_t>(offer_records.size());
        t.site_count = static_cast<std::uint32_t>(list.size());
        for (const auto* o : list) {
            fmt::OfferRecord rec{};
            rec.site = site_index.at(o->site_id);
            rec.phone_display = w.add_string(o->phone.display);
            rec.phone_e164 = w.add_string(o->phone.e164);
            rec.phone_uri = w.add_string(o->phone.uri);
            rec.phone_source = static_cast<std::uint8_t>(o->source);
            offer_records.push_back(rec);
            const auto& sr = site_records[rec.site];
            site_vectors.push_back(to_unit_vector({sr.lat_deg, sr.lon_deg}));
        }
        UnitVectorCloud cloud{std::span(site_vectors).subspan(t.first_site, t.site_count)};
        const auto tree = build_chord_tree(cloud, kSiteLeafSize);
        const auto bytes = serialise_chord_tree(*tree);
        site_trees.resize(fmt::align_up(site_trees.size(), 8));
        t.tree_offset = site_trees.size();
        t.tree_size = bytes.size();
        site_trees.insert(site_trees.end(), bytes.begin(), bytes.end());
        treatment_records.push_back(t);
    }

    options.log("building the postcode KD-tree over " + std::to_string(vectors.size()) + " points");
    UnitVectorCloud postcode_cloud{vectors};
    const auto postcode_tree = serialise_chord_tree(*build_chord_tree(postcode_cloud, kPostcodeLeafSize));

    // Provenance: names, sizes and content hashes, never paths or wall-clock times, so that
    // the same inputs give the same bytes on any machine.
    metadata::Entries meta;
    auto add = [&meta](std::string_view key, std::string value) {
        meta.emplace_back(std::string(key), std::move(value));
    };
    add(metadata::kBuilder, kBuilderVersion);
    add(metadata::kBuiltAt, iso_utc(cp.newest_member_time));
    add(metadata::kTransform, "EPSG:27700 -> EPSG:4326 via OSGB36 to WGS 84 (9), OSTN15 NTv2: " +
                                  grid.description());
    std::size_t n = 0;
    auto add_source = [&](const std::string& role, const std::filesystem::path& path,
                          const std::string& modified) {
        const std::string bytes = read_file(path);
        using metadata::source_key;
        add(source_key(n, metadata::kSourceRole), role);
        add(source_key(n, metadata::kSourceFile), path.filename().string());
        add(source_key(n, metadata::kSourceBytes), std::to_string(bytes.size()));
        add(source_key(n, metadata::kSourceXxh3), checksum_hex(checksum(std::as_bytes(std::span(bytes)))));
        if (!modified.empty()) add(source_key(n, metadata::kSourceModified), modified);
        ++n;
    };
    for (const auto& l : listings) add_source("listing:" + l.treatment, l.file, "");
    add_source("sites", options.sites_csv, "");
    add_source("codepoint", options.codepoint_zip, iso_utc(cp.newest_member_time));
    add_source("grid", options.grid, "");
    add(metadata::kCountPostcodes, std::to_string(cp.located.size() + cp.unlocated.size()));
    add(metadata::kCountLocated, std::to_string(cp.located.size()));
    add(metadata::kCountUnlocated, std::to_string(cp.unlocated.size()));
    add(metadata::kCountAreaFiles, std::to_string(cp.area_files));
    add(metadata::kCountSites, std::to_string(site_records.size()));
    for (const auto& l : report.skipped_blocks) add(metadata::kSkippedBlock, l);
    const std::string meta_text = metadata::encode(meta);

    using S = fmt::SectionId;
    w.add_raw(S::metadata, reinterpret_cast<const std::byte*>(meta_text.data()), meta_text.size(),
              meta_text.size());
    w.add_section(S::districts, districts);
    w.add_section(S::sectors, sectors);
    w.add_section(S::postcodes, rows);
    std::vector<std::uint16_t> samples;
    for (std::size_t i = 0; i < rows.size(); i += fmt::kRowSampleStride) {
        samples.push_back(static_cast<std::uint16_t>(fmt::PackedRow::inward_code(rows[i])));
    }
    w.add_section(S::row_samples, samples);
    w.add_section(S::unit_vectors, vectors);
    w.add_section(S::unlocated, unlocated);
    w.add_section(S::sites, site_records);
    w.add_section(S::treatments, treatment_records);
    w.add_section(S::treatment_sites, offer_records);
    w.add_section(S::site_vectors, site_vectors);
    w.add_raw(S::site_trees, site_trees.data(), site_trees.size(), treatment_records.size());
    w.add_raw(S::postcode_tree, postcode_tree.data(), postcode_tree.size(), 1);
    // Strings last: every section above has interned its strings by now.
    const std::string strings = w.strings();
    w.add_raw(S::strings, reinterpret_cast<const std::byte*>(strings.data()), strings.size(),
              strings.size());

    if (options.out.has_parent_path() && !std::filesystem::is_directory(options.out.parent_path())) {
        throw Error(ErrorCode::io_error,
                    "output directory '" + options.out.parent_path().string() + "' does not exist");
    }
    report.file_bytes = w.write(options.out, report.checksum);
    report.postcodes = cp.located.size() + cp.unlocated.size();
    report.located = cp.located.size();
    report.unlocated = cp.unlocated.size();
    report.sectors = sectors.size();
    report.districts = districts.size();
    report.sites = site_records.size();
    report.area_files = cp.area_files;
    return report;
}

}  // namespace hloc::ingest
