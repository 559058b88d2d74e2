#include "report_html.hpp"

#include <cmark-gfm-core-extensions.h>
#include <cmark-gfm.h>

#include <boost/archive/iterators/base64_from_binary.hpp>
#include <boost/archive/iterators/transform_width.hpp>
#include <cstdlib>
#include <memory>

#include "hloc/error.hpp"

namespace hloc::batch {

namespace {

constexpr std::string_view kStyle =
    "body{font-family:sans-serif;max-width:72em;margin:2em auto;padding:0 1em;color:#222}"
    "table{border-collapse:collapse;margin:1em 0}"
    "th,td{border:1px solid #ccc;padding:0.25em 0.6em}th{background:#f2f2f2}"
    "td[align=right],th[align=right]{text-align:right}code{font-size:90%}"
    "figure{margin:1em 0}img{max-width:100%;height:auto}";

// The summary's Markdown as HTML, by cmark-gfm (GitHub's CommonMark, with its table extension
// for the summary's pipe tables). Raw HTML in the text is not passed through (cmark-gfm's
// default, no CMARK_OPT_UNSAFE), and text is escaped, so names from user files cannot inject
// markup.
std::string markdown_html(std::string_view markdown) {
    cmark_gfm_core_extensions_ensure_registered();
    const std::unique_ptr<cmark_parser, decltype(&cmark_parser_free)> parser(
        cmark_parser_new(CMARK_OPT_DEFAULT), &cmark_parser_free);
    cmark_syntax_extension* table = cmark_find_syntax_extension("table");
    if (!parser || table == nullptr || !cmark_parser_attach_syntax_extension(parser.get(), table)) {
        throw Error(ErrorCode::internal, "cmark-gfm: no table extension");
    }
    cmark_parser_feed(parser.get(), markdown.data(), markdown.size());
    const std::unique_ptr<cmark_node, decltype(&cmark_node_free)> document(
        cmark_parser_finish(parser.get()), &cmark_node_free);
    const std::unique_ptr<char, decltype(&std::free)> html(
        cmark_render_html(document.get(), CMARK_OPT_DEFAULT,
                          cmark_parser_get_syntax_extensions(parser.get())),
        &std::free);
    return html ? std::string(html.get()) : std::string();
}

}  // namespace

std::string html_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

std::string base64(std::string_view bytes) {
    namespace it = boost::archive::iterators;
    using Encoder = it::base64_from_binary<it::transform_width<const char*, 6, 8>>;
    std::string out(Encoder(bytes.data()), Encoder(bytes.data() + bytes.size()));
    out.append((3 - bytes.size() % 3) % 3, '=');
    return out;
}

std::string report_markdown_to_html(std::string_view markdown, std::string_view map_png,
                                    int map_width_px, int map_height_px) {
    std::string body = markdown_html(markdown);
    if (!map_png.empty()) {
        // After the run's particulars, before the first table's heading (or at the end).
        std::string figure =
            "<figure><img alt=\"Catchment map: the rows coloured by their nearest site\" ";
        figure += "width=\"" + std::to_string(map_width_px) + "\" height=\"" +
                  std::to_string(map_height_px) + "\" src=\"data:image/png;base64,";
        figure += base64(map_png);
        figure += "\"></figure>\n";
        body.insert(std::min(body.find("<h2>"), body.size()), figure);
    }
    // The title: the first "# " line, as text.
    std::string title = "Batch report";
    if (markdown.starts_with("# ")) {
        title = std::string(markdown.substr(2, markdown.find('\n') - 2));
    }
    std::string html = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
    html += "<title>" + html_escape(title) + "</title>\n<style>";
    html += kStyle;
    html += "</style>\n</head>\n<body>\n" + body + "</body>\n</html>\n";
    return html;
}

}  // namespace hloc::batch
