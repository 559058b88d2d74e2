// A catchment map: query points coloured by their nearest site, drawn in British National Grid
// (EPSG:27700) over an outline of Great Britain made from the index's own postcode centroids
// (every pixel holding a located postcode is land), with the sites marked and labelled, a
// legend, a scale bar and the Code-Point Open attribution. SVG or PNG through cairo.
//
// Memory is fixed by the picture size, not the number of points: each pixel keeps the nearest
// site of the first point (in input order) that falls in it, so the same input draws the same
// picture. Up to kMaxMarkers points are also kept to be drawn as dots, so a small batch shows
// its individual rows; past that the pixels themselves are the picture.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hloc/engine.hpp"

// cairo's drawing context, declared as cairo.h declares it, so this header need not include it.
typedef struct _cairo cairo_t;
typedef struct _cairo_surface cairo_surface_t;

namespace hloc::batch {

struct MapOptions {
    int width_px = 800;
    std::string title;
    std::string subtitle;
};
inline MapOptions map_options(int width_px) {
    MapOptions o;
    o.width_px = width_px;
    return o;
}

class CatchmentMap {
  public:
    static constexpr std::size_t kMaxMarkers = 20000;

    // Sites shown are those offering `treatment`. Reads every located postcode for the outline.
    CatchmentMap(const Engine& engine, const std::string& treatment, MapOptions options);
    ~CatchmentMap();
    CatchmentMap(const CatchmentMap&) = delete;
    CatchmentMap& operator=(const CatchmentMap&) = delete;

    // A point in British National Grid metres, coloured by `site` (-1: no nearest site).
    void add_grid(double eastings_m, double northings_m, std::int32_t site);
    // A WGS84 point, projected to the grid with OSR.
    void add_wgs84(LatLon point, std::int32_t site);

    void set_titles(std::string title, std::string subtitle) {
        options_.title = std::move(title);
        options_.subtitle = std::move(subtitle);
    }
    int width_px() const { return width_; }
    int height_px() const { return height_; }

    // Writes SVG or PNG (as `format` says: "svg" or "png") to `path`. Throws Error{io_error}.
    void write(const std::string& path, const std::string& format) const;
    // The same picture as write(..., "png"), as the bytes of a PNG file (for embedding in a
    // page). Throws Error{io_error}.
    std::string png_bytes() const;

  private:
    bool to_pixel(double e, double n, int& x, int& y) const;
    void paint(cairo_surface_t* surface) const;  // the whole picture, back to front
    // The steps of write(), in the order they paint.
    void draw_land_and_catchments(cairo_t* cr) const;
    void draw_markers(cairo_t* cr) const;
    bool site_grid_position(const SiteView& site, double& e, double& n) const;
    void draw_sites(cairo_t* cr) const;
    std::string common_name_prefix() const;
    void draw_legend(cairo_t* cr) const;
    void draw_titles(cairo_t* cr) const;
    void draw_scale_bar(cairo_t* cr) const;
    void draw_footer(cairo_t* cr) const;

    const Engine& engine_;
    MapOptions options_;
    std::vector<std::uint32_t> sites_;  // site indexes offering the treatment
    std::vector<int> colour_of_site_;   // site index -> legend position, -1 if not shown
    std::vector<std::uint64_t> points_per_site_;
    std::uint64_t points_ = 0;
    double min_e_ = 0, max_n_ = 0, metres_per_px_ = 1;
    int width_ = 0, height_ = 0;                         // whole picture
    int map_x_ = 0, map_y_ = 0, map_w_ = 0, map_h_ = 0;  // the map area within it
    std::vector<std::uint8_t> land_;                     // map_w_ x map_h_
    std::vector<std::uint16_t> catchment_;               // palette slot + 1, 0 = none
    struct Marker {
        float x, y;
        std::int16_t slot;
    };
    std::vector<Marker> markers_;
    bool markers_overflowed_ = false;
    void* to_grid_ = nullptr;  // OGRCoordinateTransformationH, WGS84 -> EPSG:27700
};

// Frees cairo's and fontconfig's process-wide caches (fonts, patterns): call once, at the end
// of a process that drew a map, so leak checkers see only our own allocations.
void release_drawing_caches();

}  // namespace hloc::batch
