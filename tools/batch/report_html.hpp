// The batch summary as one self-contained HTML page: the Markdown summary (Summary::to_markdown,
// the one writer of its tables) rendered to HTML, with the catchment map embedded as a PNG
// data: URI. No scripts, styles inline, no external resources: the file can be mailed on.
//
// The Markdown is rendered by cmark-gfm (libcmark-gfm, with its table extension); raw HTML in
// it is not passed through and all text is HTML-escaped, so names from user files (district
// code lists, input paths) cannot inject markup.
#pragma once

#include <string>
#include <string_view>

namespace hloc::batch {

// `map_png`: the bytes of a PNG file, or empty for no map. `map_width_px`/`map_height_px` are
// its size in pixels, given to the <img> so the page lays out before the image decodes.
std::string report_markdown_to_html(std::string_view markdown, std::string_view map_png,
                                    int map_width_px, int map_height_px);

// "&<>\"'" as entities; every other byte as it is (the input is UTF-8).
std::string html_escape(std::string_view text);

// RFC 4648 base64, with padding.
std::string base64(std::string_view bytes);

}  // namespace hloc::batch
