#include "report_html.hpp"

#include <algorithm>
#include <cstdint>
#include <vector>

namespace hloc::batch {

namespace {

// Inline Markdown as to_markdown writes it: `code` (literal up to the next backtick),
// **bold**, and a backslash that makes the next character plain text.
std::string inline_html(std::string_view md) {
    std::string html;
    bool bold = false;
    for (std::size_t i = 0; i < md.size(); ++i) {
        const char c = md[i];
        if (c == '\\' && i + 1 < md.size()) {
            html += html_escape(md.substr(++i, 1));
        } else if (c == '`') {
            const auto end = md.find('`', i + 1);
            if (end == std::string_view::npos) {
                html += html_escape(md.substr(i, 1));
                continue;
            }
            html += "<code>" + html_escape(md.substr(i + 1, end - i - 1)) + "</code>";
            i = end;
        } else if (c == '*' && i + 1 < md.size() && md[i + 1] == '*') {
            html += bold ? "</strong>" : "<strong>";
            bold = !bold;
            ++i;
        } else {
            html += html_escape(md.substr(i, 1));
        }
    }
    if (bold) html += "</strong>";
    return html;
}

// "| a | b\| c | `x|y` |" -> {"a", "b\| c", "`x|y`"}: a pipe splits cells unless escaped or
// inside a code span. Cells keep their Markdown; surrounding spaces go.
std::vector<std::string> table_cells(std::string_view line) {
    std::vector<std::string> cells;
    std::string cell;
    bool code = false;
    auto trimmed = [](const std::string& s) {
        const auto from = s.find_first_not_of(' ');
        if (from == std::string::npos) return std::string();
        return s.substr(from, s.find_last_not_of(' ') - from + 1);
    };
    for (std::size_t i = 1; i < line.size(); ++i) {  // past the leading pipe
        const char c = line[i];
        if (c == '\\' && i + 1 < line.size() && !code) {
            cell += c;
            cell += line[++i];
        } else if (c == '|' && !code) {
            cells.push_back(trimmed(cell));
            cell.clear();
        } else {
            if (c == '`') code = !code;
            cell += c;
        }
    }
    if (!trimmed(cell).empty()) cells.push_back(trimmed(cell));  // no closing pipe
    return cells;
}

constexpr std::string_view kStyle =
    "body{font-family:sans-serif;max-width:72em;margin:2em auto;padding:0 1em;color:#222}"
    "table{border-collapse:collapse;margin:1em 0}"
    "th,td{border:1px solid #ccc;padding:0.25em 0.6em}th{background:#f2f2f2}"
    "td.num,th.num{text-align:right}code{font-size:90%}"
    "figure{margin:1em 0}img{max-width:100%;height:auto}";

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
    static constexpr char kDigits[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    for (std::size_t i = 0; i < bytes.size(); i += 3) {
        std::uint32_t group = static_cast<std::uint8_t>(bytes[i]) << 16;
        if (i + 1 < bytes.size()) group |= static_cast<std::uint8_t>(bytes[i + 1]) << 8;
        if (i + 2 < bytes.size()) group |= static_cast<std::uint8_t>(bytes[i + 2]);
        out += kDigits[(group >> 18) & 63];
        out += kDigits[(group >> 12) & 63];
        out += i + 1 < bytes.size() ? kDigits[(group >> 6) & 63] : '=';
        out += i + 2 < bytes.size() ? kDigits[group & 63] : '=';
    }
    return out;
}

std::string report_markdown_to_html(std::string_view markdown, std::string_view map_png,
                                    int map_width_px, int map_height_px) {
    std::vector<std::string_view> lines;
    for (std::size_t from = 0; from < markdown.size();) {
        const auto end = std::min(markdown.find('\n', from), markdown.size());
        lines.push_back(markdown.substr(from, end - from));
        from = end + 1;
    }
    std::string title = "Batch report", body;
    bool map_placed = map_png.empty();
    auto place_map = [&] {
        if (map_placed) return;
        map_placed = true;
        body += "<figure><img alt=\"Catchment map: the rows coloured by their nearest site\" ";
        body += "width=\"" + std::to_string(map_width_px) + "\" height=\"" +
                std::to_string(map_height_px) + "\" src=\"data:image/png;base64,";
        body += base64(map_png);
        body += "\"></figure>\n";
    };
    for (std::size_t i = 0; i < lines.size();) {
        const auto line = lines[i];
        if (line.empty()) {
            ++i;
        } else if (line.starts_with("# ")) {
            title = std::string(line.substr(2));
            body += "<h1>" + inline_html(line.substr(2)) + "</h1>\n";
            ++i;
        } else if (line.starts_with("## ")) {
            place_map();  // after the run's particulars, before the first table
            body += "<h2>" + inline_html(line.substr(3)) + "</h2>\n";
            ++i;
        } else if (line.starts_with("- ")) {
            body += "<ul>\n";
            for (; i < lines.size() && lines[i].starts_with("- "); ++i)
                body += "<li>" + inline_html(lines[i].substr(2)) + "</li>\n";
            body += "</ul>\n";
        } else if (line.starts_with("|") && i + 1 < lines.size() &&
                   lines[i + 1].starts_with("|---")) {
            std::vector<bool> right;
            for (const auto& rule : table_cells(lines[i + 1])) right.push_back(rule.ends_with(":"));
            auto row = [&](std::string_view md, const char* tag) {
                body += "<tr>";
                const auto cells = table_cells(md);
                for (std::size_t c = 0; c < cells.size(); ++c) {
                    // Appended piece by piece: GCC 12 warns (-Wrestrict, a false positive) on
                    // "literal" + std::string here.
                    body += '<';
                    body += tag;
                    if (c < right.size() && right[c]) body += " class=\"num\"";
                    body += '>';
                    body += inline_html(cells[c]);
                    body += "</";
                    body += tag;
                    body += '>';
                }
                body += "</tr>\n";
            };
            body += "<table>\n<thead>\n";
            row(line, "th");
            body += "</thead>\n<tbody>\n";
            for (i += 2; i < lines.size() && lines[i].starts_with("|"); ++i) row(lines[i], "td");
            body += "</tbody>\n</table>\n";
        } else {
            std::string text;
            for (; i < lines.size() && !lines[i].empty() && !lines[i].starts_with("#") &&
                   !lines[i].starts_with("- ") && !lines[i].starts_with("|");
                 ++i) {
                if (!text.empty()) text += ' ';
                text += lines[i];
            }
            body += "<p>" + inline_html(text) + "</p>\n";
        }
    }
    place_map();
    std::string html = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
    html += "<title>" + html_escape(title) + "</title>\n<style>";
    html += kStyle;
    html += "</style>\n</head>\n<body>\n" + body + "</body>\n</html>\n";
    return html;
}

}  // namespace hloc::batch
