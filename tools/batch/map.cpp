#include "map.hpp"

#include <cairo-svg.h>
#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <ogr_srs_api.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "options.hpp"

namespace hloc::batch {

namespace {

// Tableau 10 with its grey swapped for cyan (grey is the land): ten hues told apart at a
// glance, and by most colour-blind readers in neighbouring pairs.
constexpr std::uint32_t kPalette[] = {0x4e79a7, 0xf28e2b, 0xe15759, 0x76b7b2, 0x59a14f, 0xedc948,
                                      0xb07aa1, 0xff9da7, 0x9c755f, 0x17becf, 0x1f3a93, 0x8c564b};
constexpr std::size_t kPaletteSize = sizeof kPalette / sizeof kPalette[0];
constexpr std::uint32_t kLand = 0xd4d4d4;

constexpr int kMargin = 16;
constexpr int kTitleHeight = 58;
constexpr int kFooterHeight = 44;

void set_rgb(cairo_t* cr, std::uint32_t rgb, double alpha = 1.0) {
    cairo_set_source_rgba(cr, ((rgb >> 16) & 0xff) / 255.0, ((rgb >> 8) & 0xff) / 255.0,
                          (rgb & 0xff) / 255.0, alpha);
}

void font(cairo_t* cr, double size, bool bold = false) {
    cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
                           bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, size);
}

double text_width(cairo_t* cr, const std::string& text) {
    cairo_text_extents_t e;
    cairo_text_extents(cr, text.c_str(), &e);
    return e.x_advance;
}

// Dark text with a white halo, readable over any catchment colour.
void halo_text(cairo_t* cr, double x, double y, const std::string& text) {
    cairo_move_to(cr, x, y);
    cairo_text_path(cr, text.c_str());
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_set_line_width(cr, 3.5);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    cairo_stroke_preserve(cr);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    cairo_fill(cr);
}

void plain_text(cairo_t* cr, double x, double y, const std::string& text,
                std::uint32_t rgb = 0x222222) {
    set_rgb(cr, rgb);
    cairo_move_to(cr, x, y);
    cairo_show_text(cr, text.c_str());
}

// An SVG surface streams to `path` as it is drawn; a PNG is drawn in memory and written to
// `path` by finish_surface.
cairo_surface_t* open_surface(const std::string& path, bool svg, int width_px, int height_px) {
    cairo_surface_t* surface =
        svg ? cairo_svg_surface_create(path.c_str(), width_px, height_px)
            : cairo_image_surface_create(CAIRO_FORMAT_RGB24, width_px, height_px);
    // Pixels rather than cairo's default points, so the SVG's size is the PNG's.
    if (svg) cairo_svg_surface_set_document_unit(surface, CAIRO_SVG_UNIT_PX);
    return surface;
}

// Completes the file (the SVG's last writes, or the whole PNG) and frees the surface. Throws
// Error{io_error} when cairo could not write: a half-written map must not pass as a map.
void finish_surface(cairo_surface_t* surface, bool svg, const std::string& path) {
    cairo_status_t status = CAIRO_STATUS_SUCCESS;
    if (svg) {
        cairo_surface_finish(surface);
        status = cairo_surface_status(surface);
    } else {
        status = cairo_surface_write_to_png(surface, path.c_str());
    }
    cairo_surface_destroy(surface);
    if (status != CAIRO_STATUS_SUCCESS) {
        throw Error(ErrorCode::io_error,
                    "cannot write the map " + path + ": " + cairo_status_to_string(status));
    }
}

// Land pixels with no point of their own take a neighbour's palette slot, one pixel deeper
// per pass: with many points the gaps between them on land close up, so catchments read as
// areas rather than speckle. `slots` is width x height, as `land` is.
std::vector<std::uint16_t> fill_gaps(std::vector<std::uint16_t> slots,
                                     const std::vector<std::uint8_t>& land, int width, int height,
                                     int passes) {
    for (int pass = 0; pass < passes; ++pass) {
        std::vector<std::uint16_t> next = slots;
        for (int y = 0; y < height; ++y) {
            for (int x = 0; x < width; ++x) {
                const std::size_t i = static_cast<std::size_t>(y) * width + x;
                if (slots[i] != 0 || !land[i]) continue;
                // First neighbour in a fixed order: deterministic.
                if (x > 0 && slots[i - 1])
                    next[i] = slots[i - 1];
                else if (x + 1 < width && slots[i + 1])
                    next[i] = slots[i + 1];
                else if (y > 0 && slots[i - width])
                    next[i] = slots[i - width];
                else if (y + 1 < height && slots[i + width])
                    next[i] = slots[i + width];
            }
        }
        slots.swap(next);
    }
    return slots;
}

}  // namespace

CatchmentMap::CatchmentMap(const Engine& engine, const std::string& treatment, MapOptions options)
    : engine_(engine), options_(std::move(options)) {
    colour_of_site_.assign(engine.site_count(), -1);
    for (const auto& site : engine.sites()) {
        if (std::find(site.treatments.begin(), site.treatments.end(), treatment) ==
            site.treatments.end())
            continue;
        colour_of_site_[site.index] = static_cast<int>(sites_.size());  // legend position
        sites_.push_back(site.index);
    }
    points_per_site_.assign(sites_.size(), 0);

    OGRSpatialReferenceH wgs84 = OSRNewSpatialReference(nullptr);
    OGRSpatialReferenceH grid = OSRNewSpatialReference(nullptr);
    OSRImportFromEPSG(wgs84, 4326);
    OSRImportFromEPSG(grid, 27700);
    OSRSetAxisMappingStrategy(wgs84, OAMS_TRADITIONAL_GIS_ORDER);
    OSRSetAxisMappingStrategy(grid, OAMS_TRADITIONAL_GIS_ORDER);
    to_grid_ = OCTNewCoordinateTransformation(wgs84, grid);
    OSRDestroySpatialReference(wgs84);
    OSRDestroySpatialReference(grid);

    // The extent of the located postcodes, so the whole country (or the whole tiny index) shows.
    double min_e = std::numeric_limits<double>::max(), max_e = -min_e, min_n = min_e,
           max_n = -min_e;
    const std::uint32_t located = engine.located_count();
    for (std::uint32_t row = 0; row < located; ++row) {
        const auto r = engine.located_postcode(row);
        min_e = std::min(min_e, r.eastings_m), max_e = std::max(max_e, r.eastings_m);
        min_n = std::min(min_n, r.northings_m), max_n = std::max(max_n, r.northings_m);
    }
    if (located == 0) min_e = 0, max_e = 700000, min_n = 0, max_n = 1250000;
    // At least 20 km across, plus a margin, so a one-town index still makes a picture.
    const double pad = std::max({20000.0 - (max_e - min_e), 20000.0 - (max_n - min_n), 0.0}) / 2;
    const double margin = 0.03 * std::max(max_e - min_e, max_n - min_n) + pad;
    min_e -= margin, max_e += margin, min_n -= margin, max_n += margin;

    width_ = std::max(options_.width_px, 320);
    map_x_ = kMargin;
    map_y_ = kTitleHeight;
    map_w_ = width_ - 2 * kMargin;
    metres_per_px_ = (max_e - min_e) / map_w_;
    map_h_ = static_cast<int>(std::ceil((max_n - min_n) / metres_per_px_));
    height_ = map_y_ + map_h_ + kFooterHeight;
    min_e_ = min_e;
    max_n_ = max_n;

    land_.assign(static_cast<std::size_t>(map_w_) * map_h_, 0);
    catchment_.assign(land_.size(), 0);
    for (std::uint32_t row = 0; row < located; ++row) {
        const auto r = engine.located_postcode(row);
        int x, y;
        if (to_pixel(r.eastings_m, r.northings_m, x, y))
            land_[static_cast<std::size_t>(y) * map_w_ + x] = 1;
    }
    // Grow each occupied pixel by one in every direction: rural postcodes are a kilometre or
    // more apart, and without this the land reads as speckle rather than as a coast.
    std::vector<std::uint8_t> grown = land_;
    for (int y = 0; y < map_h_; ++y) {
        for (int x = 0; x < map_w_; ++x) {
            if (!land_[static_cast<std::size_t>(y) * map_w_ + x]) continue;
            for (int dy = -1; dy <= 1; ++dy) {
                for (int dx = -1; dx <= 1; ++dx) {
                    const int nx = x + dx, ny = y + dy;
                    if (nx >= 0 && ny >= 0 && nx < map_w_ && ny < map_h_)
                        grown[static_cast<std::size_t>(ny) * map_w_ + nx] = 1;
                }
            }
        }
    }
    land_.swap(grown);
}

CatchmentMap::~CatchmentMap() {
    if (to_grid_)
        OCTDestroyCoordinateTransformation(static_cast<OGRCoordinateTransformationH>(to_grid_));
}

bool CatchmentMap::to_pixel(double e, double n, int& x, int& y) const {
    const double fx = (e - min_e_) / metres_per_px_, fy = (max_n_ - n) / metres_per_px_;
    if (!(fx >= 0 && fy >= 0 && fx < map_w_ && fy < map_h_)) return false;
    x = static_cast<int>(fx);
    y = static_cast<int>(fy);
    return true;
}

void CatchmentMap::add_wgs84(LatLon point, std::int32_t site) {
    double x = point.lon_deg, y = point.lat_deg, z = 0;
    if (!to_grid_ ||
        !OCTTransform(static_cast<OGRCoordinateTransformationH>(to_grid_), 1, &x, &y, &z))
        return;
    add_grid(x, y, site);
}

void CatchmentMap::add_grid(double e, double n, std::int32_t site) {
    const int slot = site >= 0 && static_cast<std::size_t>(site) < colour_of_site_.size()
                         ? colour_of_site_[site]
                         : -1;
    ++points_;
    if (slot >= 0) ++points_per_site_[static_cast<std::size_t>(slot)];
    int x, y;
    if (!to_pixel(e, n, x, y)) return;
    auto& cell = catchment_[static_cast<std::size_t>(y) * map_w_ + x];
    if (cell == 0) cell = static_cast<std::uint16_t>(slot + 1);  // 0 stays "no site"
    if (markers_.size() < kMaxMarkers) {
        markers_.push_back({static_cast<float>((e - min_e_) / metres_per_px_),
                            static_cast<float>((max_n_ - n) / metres_per_px_),
                            static_cast<std::int16_t>(slot)});
    } else {
        markers_overflowed_ = true;
    }
}

void CatchmentMap::write(const std::string& path, const std::string& format) const {
    const bool svg = format == "svg";
    cairo_surface_t* surface = open_surface(path, svg, width_, height_);
    paint(surface);
    finish_surface(surface, svg, path);
}

std::string CatchmentMap::png_bytes() const {
    cairo_surface_t* surface = open_surface("", false, width_, height_);
    paint(surface);
    std::string png;
    const auto append = [](void* closure, const unsigned char* data, unsigned int length) {
        static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
        return CAIRO_STATUS_SUCCESS;
    };
    const auto status = cairo_surface_write_to_png_stream(surface, append, &png);
    cairo_surface_destroy(surface);
    if (status != CAIRO_STATUS_SUCCESS) {
        throw Error(ErrorCode::io_error,
                    std::string("cannot draw the map as PNG: ") + cairo_status_to_string(status));
    }
    return png;
}

void CatchmentMap::paint(cairo_surface_t* surface) const {
    cairo_t* cr = cairo_create(surface);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);

    // Back to front: each step draws over the ones before it.
    draw_land_and_catchments(cr);
    // Dots only when every point was kept; past kMaxMarkers the coloured pixels are the picture.
    if (!markers_overflowed_) draw_markers(cr);
    draw_sites(cr);
    draw_legend(cr);
    draw_titles(cr);
    draw_scale_bar(cr);
    draw_footer(cr);
    cairo_destroy(cr);
}

// The raster: land grey; with many points, each pixel in its nearest site's colour, gaps
// between points on land filled from their neighbours (three passes, ~3 px). With few points
// the land alone: the dots drawn over it are the picture.
void CatchmentMap::draw_land_and_catchments(cairo_t* cr) const {
    const bool dots = !markers_overflowed_;
    const std::vector<std::uint16_t> fill = dots ? std::vector<std::uint16_t>(catchment_.size(), 0)
                                                 : fill_gaps(catchment_, land_, map_w_, map_h_, 3);
    cairo_surface_t* raster = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, map_w_, map_h_);
    cairo_surface_flush(raster);
    auto* pixels = cairo_image_surface_get_data(raster);
    const int stride = cairo_image_surface_get_stride(raster);
    for (int y = 0; y < map_h_; ++y) {
        auto* line =
            reinterpret_cast<std::uint32_t*>(pixels + static_cast<std::ptrdiff_t>(y) * stride);
        for (int x = 0; x < map_w_; ++x) {
            const std::size_t i = static_cast<std::size_t>(y) * map_w_ + x;
            std::uint32_t argb = 0;
            if (fill[i])
                argb = 0xff000000u | kPalette[(fill[i] - 1) % kPaletteSize];
            else if (land_[i])
                argb = 0xff000000u | kLand;
            line[x] = argb;
        }
    }
    cairo_surface_mark_dirty(raster);
    cairo_set_source_surface(cr, raster, map_x_, map_y_);
    // Nearest-neighbour: pixels are copied, never blended with a neighbour's colour.
    cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
    cairo_paint(cr);
    cairo_surface_destroy(raster);
}

// Each kept point as a dot in its nearest site's colour (dark grey: no site), outlined so
// that neighbours stay apart; smaller past 2,000 points, where full-size dots would cover
// each other.
void CatchmentMap::draw_markers(cairo_t* cr) const {
    const double r = markers_.size() > 2000 ? 1.6 : 3.0;
    for (const auto& m : markers_) {
        cairo_arc(cr, map_x_ + static_cast<double>(m.x), map_y_ + static_cast<double>(m.y), r, 0,
                  2 * M_PI);
        if (m.slot >= 0)
            set_rgb(cr, kPalette[static_cast<std::size_t>(m.slot) % kPaletteSize]);
        else
            cairo_set_source_rgb(cr, 0.25, 0.25, 0.25);
        cairo_fill_preserve(cr);
        cairo_set_source_rgba(cr, 0, 0, 0, 0.5);
        cairo_set_line_width(cr, 0.5);
        cairo_stroke(cr);
    }
}

// A site's place in the grid: its own postcode's grid reference when the index has it
// located (the same coordinates the catchment pixels come from), else its WGS84 position
// projected. False, with e and n NaN, when neither is known.
bool CatchmentMap::site_grid_position(const SiteView& site, double& e, double& n) const {
    e = NAN, n = NAN;
    const auto record = engine_.lookup(site.postcode);
    if (record && record->located) {
        e = record->eastings_m, n = record->northings_m;
    } else if (to_grid_) {
        double x = site.position.lon_deg, y = site.position.lat_deg, z = 0;
        if (OCTTransform(static_cast<OGRCoordinateTransformationH>(to_grid_), 1, &x, &y, &z)) {
            e = x, n = y;
        }
    }
    return !std::isnan(e);
}

// Sites: a ringed dot in their colour, labelled by town.
void CatchmentMap::draw_sites(cairo_t* cr) const {
    font(cr, 12, true);
    for (std::size_t k = 0; k < sites_.size(); ++k) {
        const auto site = engine_.site(sites_[k]);
        double e, n;
        if (!site_grid_position(site, e, n)) continue;
        const double px = map_x_ + (e - min_e_) / metres_per_px_,
                     py = map_y_ + (max_n_ - n) / metres_per_px_;
        cairo_arc(cr, px, py, 6.5, 0, 2 * M_PI);
        cairo_set_source_rgb(cr, 1, 1, 1);
        cairo_fill_preserve(cr);
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        cairo_set_line_width(cr, 1.5);
        cairo_stroke(cr);
        cairo_arc(cr, px, py, 3.5, 0, 2 * M_PI);
        set_rgb(cr, kPalette[k % kPaletteSize]);
        cairo_fill(cr);
        const std::string label = site.town.empty() ? std::string(site.id) : std::string(site.town);
        const double w = text_width(cr, label);
        // Right of the dot, unless that would run off the map's right edge.
        const double lx = px + 10 + w < map_x_ + map_w_ ? px + 10 : px - 10 - w;
        halo_text(cr, lx, py + 4, label);
    }
}

// What every shown site's name starts with, cut back to a whole word ("Nuffield Health "):
// the legend says it once, in its heading, so its rows stay short. Empty for one site.
std::string CatchmentMap::common_name_prefix() const {
    std::string common;
    if (sites_.size() > 1) {
        common = std::string(engine_.site(sites_[0]).name);
        for (auto s : sites_) {
            const auto name = engine_.site(s).name;
            std::size_t n = 0;
            while (n < common.size() && n < name.size() && common[n] == name[n]) ++n;
            common.resize(n);
        }
        const auto space = common.rfind(' ');
        common.resize(space == std::string::npos ? 0 : space + 1);
    }
    return common;
}

// Legend, top right (over the North Sea on a GB map): each site's colour, its name less the
// common prefix, and how many points it is nearest to.
void CatchmentMap::draw_legend(cairo_t* cr) const {
    const std::string common = common_name_prefix();
    auto short_name = [&](std::uint32_t s) {
        std::string name(engine_.site(s).name);
        return name.substr(std::min(common.size(), name.size()));
    };
    font(cr, 11);
    double name_w = 0, count_w = 0;
    for (std::size_t k = 0; k < sites_.size(); ++k) {
        name_w = std::max(name_w, text_width(cr, short_name(sites_[k])));
        count_w = std::max(count_w, text_width(cr, with_commas(points_per_site_[k])));
    }
    font(cr, 12, true);
    const std::string heading =
        "Nearest site" +
        (common.empty() ? std::string() : " (" + common.substr(0, common.size() - 1) + ")");
    const double box_w = std::max(text_width(cr, heading), 18 + name_w + 14 + count_w) + 20;
    const double row_h = 17;
    const double box_h = 30 + row_h * static_cast<double>(sites_.size()) + 6;
    const double bx = map_x_ + map_w_ - box_w - 4, by = map_y_ + 4;
    cairo_rectangle(cr, bx, by, box_w, box_h);
    cairo_set_source_rgba(cr, 1, 1, 1, 0.92);
    cairo_fill_preserve(cr);
    cairo_set_source_rgb(cr, 0.6, 0.6, 0.6);
    cairo_set_line_width(cr, 1);
    cairo_stroke(cr);
    plain_text(cr, bx + 10, by + 20, heading);
    font(cr, 11);
    for (std::size_t k = 0; k < sites_.size(); ++k) {
        const double y = by + 30 + row_h * static_cast<double>(k);
        cairo_rectangle(cr, bx + 10, y + 2, 12, 12);
        set_rgb(cr, kPalette[k % kPaletteSize]);
        cairo_fill(cr);
        plain_text(cr, bx + 28, y + 12, short_name(sites_[k]));
        const std::string count = with_commas(points_per_site_[k]);
        plain_text(cr, bx + box_w - 10 - text_width(cr, count), y + 12, count, 0x555555);
    }
}

// Title and subtitle, in the band above the map.
void CatchmentMap::draw_titles(cairo_t* cr) const {
    font(cr, 17, true);
    plain_text(cr, kMargin, 26, options_.title);
    font(cr, 12);
    plain_text(cr, kMargin, 46, options_.subtitle, 0x444444);
}

// Scale bar, bottom left of the map: the longest round length that fits in 160 px.
void CatchmentMap::draw_scale_bar(cairo_t* cr) const {
    double bar_km = 1;
    for (double c : {1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0}) {
        if (c * 1000 / metres_per_px_ <= 160) bar_km = c;
    }
    const double bar_px = bar_km * 1000 / metres_per_px_;
    const double sx = map_x_ + 6, sy = map_y_ + map_h_ - 12;
    cairo_set_source_rgb(cr, 0.15, 0.15, 0.15);
    cairo_set_line_width(cr, 2);
    cairo_move_to(cr, sx, sy - 5);
    cairo_line_to(cr, sx, sy);
    cairo_line_to(cr, sx + bar_px, sy);
    cairo_line_to(cr, sx + bar_px, sy - 5);
    cairo_stroke(cr);
    font(cr, 11);
    halo_text(cr, sx + bar_px + 6, sy + 4, std::to_string(static_cast<int>(bar_km)) + " km");
}

// Footer, below the map: the projection, where the grey land comes from, and the attribution
// Code-Point Open's licence requires.
void CatchmentMap::draw_footer(cairo_t* cr) const {
    font(cr, 10);
    plain_text(cr, kMargin, map_y_ + map_h_ + 18,
               "British National Grid (EPSG:27700). Grey: land, drawn from the index's " +
                   with_commas(engine_.located_count()) + " postcode centroids.",
               0x555555);
    plain_text(cr, kMargin, map_y_ + map_h_ + 33,
               "Contains OS data \xC2\xA9 Crown copyright and database right (Code-Point Open).",
               0x555555);
}

void release_drawing_caches() {
    cairo_debug_reset_static_data();
    FcFini();
}

}  // namespace hloc::batch
