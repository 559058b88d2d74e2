#include "listing.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

#include "hloc/postcode.hpp"

namespace hloc::ingest {
namespace {

constexpr std::string_view kStartMarker = "find your nearest hospital";
constexpr std::string_view kEndMarker = "get in touch";
constexpr std::string_view kContactMarker = "contact us";

std::string trim(std::string_view s) {
    // Blanks include the non-breaking space the page uses before bullets (UTF-8 C2 A0).
    auto is_blank = [](unsigned char c) { return std::isspace(c) != 0; };
    std::string out(s);
    for (;;) {
        if (out.starts_with("\xC2\xA0"))
            out.erase(0, 2);
        else if (!out.empty() && is_blank(static_cast<unsigned char>(out.front())))
            out.erase(0, 1);
        else
            break;
    }
    for (;;) {
        if (out.ends_with("\xC2\xA0"))
            out.resize(out.size() - 2);
        else if (!out.empty() && is_blank(static_cast<unsigned char>(out.back())))
            out.pop_back();
        else
            break;
    }
    return out;
}

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

// A UK phone number as printed: digits with spaces, an optional leading +44 and (0).
bool looks_like_phone(std::string_view line) {
    int digits = 0;
    for (char c : line) {
        if (std::isdigit(static_cast<unsigned char>(c)))
            ++digits;
        else if (std::string_view(" +()-").find(c) == std::string_view::npos)
            return false;
    }
    return digits >= 10 && digits <= 13;
}

// The phone number at the end of a line such as "Contact us 0345 602 8179".
std::optional<std::string> trailing_phone(std::string_view line) {
    const auto first_digit = line.find_first_of("+0123456789");
    if (first_digit == std::string_view::npos) return std::nullopt;
    const std::string candidate = trim(line.substr(first_digit));
    if (!looks_like_phone(candidate)) return std::nullopt;
    return candidate;
}

bool has_word(const std::string& lowered, std::string_view word) {
    std::size_t at = 0;
    while ((at = lowered.find(word, at)) != std::string::npos) {
        const bool start_ok = at == 0 || !std::isalpha(static_cast<unsigned char>(lowered[at - 1]));
        const auto end = at + word.size();
        const bool end_ok =
            end == lowered.size() || !std::isalpha(static_cast<unsigned char>(lowered[end]));
        if (start_ok && end_ok) return true;
        at = end;
    }
    return false;
}

std::vector<std::string> split_lines(std::string_view text) {
    std::vector<std::string> lines;
    std::string current;
    for (char c : text) {
        if (c == '\n') {
            if (!current.empty() && current.back() == '\r') current.pop_back();
            lines.push_back(std::move(current));
            current.clear();
        } else {
            current.push_back(c);
        }
    }
    if (!current.empty()) lines.push_back(std::move(current));
    return lines;
}

std::string where(const std::string& file, std::size_t index) {
    return file + ":" + std::to_string(index + 1);
}

// The list of hospitals: lines [begin, end), between the start and end markers. The "Contact
// us" number, when the page has one, stands before it.
struct ListBounds {
    std::size_t begin = 0, end = 0;
    std::optional<std::string> central_phone;
};

ListBounds find_list(const std::vector<std::string>& lines, const std::string& file) {
    ListBounds bounds{lines.size(), lines.size(), std::nullopt};
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const std::string l = lower(trim(lines[i]));
        if (bounds.begin == lines.size()) {
            if (l.starts_with(kStartMarker))
                bounds.begin = i + 1;
            else if (l.starts_with(kContactMarker) && !bounds.central_phone) {
                bounds.central_phone = trailing_phone(trim(lines[i]));
            }
        } else if (l.starts_with(kEndMarker)) {
            bounds.end = i;
            break;
        }
    }
    if (bounds.begin == lines.size()) {
        throw Error(ErrorCode::bad_input,
                    file +
                        ": no line starting 'Find your nearest hospital' "
                        "was found, so the list of hospitals cannot be located");
    }
    if (bounds.end == lines.size()) {
        throw Error(ErrorCode::bad_input,
                    file + ": the list of hospitals has no closing 'Get in touch' line");
    }
    return bounds;
}

// Reads the paragraph (run of non-blank lines) starting at lines[i] into a block, leaving `i`
// on the blank line or `end` after it. Each line goes where its kind says; a kind that comes
// twice is an error naming the line.
ListingBlock read_paragraph(const std::vector<std::string>& lines, std::size_t& i, std::size_t end,
                            const std::string& file) {
    ListingBlock block;
    block.first_line = static_cast<int>(i + 1);
    auto second = [&](const char* what, const std::string& line) {
        return Error(ErrorCode::bad_input,
                     where(file, i) + ": a second " + what + " in one block ('" + line + "')");
    };
    for (; i < end && classify_line(lines[i]) != LineKind::blank; ++i) {
        const std::string line = trim(lines[i]);
        switch (classify_line(line)) {
            case LineKind::postcode:
                if (block.postcode) throw second("postcode", line);
                block.postcode = normalise_postcode(line).value();
                break;
            case LineKind::phone:
                if (block.phone) throw second("phone number", line);
                block.phone = line;
                break;
            case LineKind::name:
                if (block.name) throw second("hospital name", line);
                block.name = line;
                break;
            case LineKind::address:
                block.address_lines.push_back(line);
                break;
            case LineKind::blank:
                break;
        }
    }
    return block;
}

}  // namespace

std::string ListingBlock::summary() const {
    std::string s = "line " + std::to_string(first_line) + ":";
    auto add = [&](const std::string& part) { s += (s.back() == ':' ? " " : " / ") + part; };
    if (name) add(*name);
    for (const auto& a : address_lines) add(a);
    if (postcode) add(*postcode);
    if (phone) add(*phone);
    return s;
}

LineKind classify_line(std::string_view raw) {
    const std::string line = trim(raw);
    if (line.empty()) return LineKind::blank;
    if (auto p = parse_postcode(line); p && p->level == PostcodeLevel::unit)
        return LineKind::postcode;
    if (looks_like_phone(line)) return LineKind::phone;
    const std::string l = lower(line);
    for (auto word : {"hospital", "clinic", "centre", "center", "infirmary"}) {
        if (has_word(l, word)) return LineKind::name;
    }
    return LineKind::address;
}

Listing parse_listing(std::string_view text, const std::string& file) {
    const std::vector<std::string> lines = split_lines(text);
    const ListBounds bounds = find_list(lines, file);
    Listing listing;
    listing.file = file;
    listing.central_phone = bounds.central_phone;

    // Paragraphs become blocks; a paragraph of phone lines only belongs to the block before
    // it, which must not have a phone yet.
    std::size_t i = bounds.begin;
    while (i < bounds.end) {
        if (classify_line(lines[i]) == LineKind::blank) {
            ++i;
            continue;
        }
        const std::size_t para_start = i;
        ListingBlock block = read_paragraph(lines, i, bounds.end, file);
        const bool phone_only = !block.postcode && !block.name && block.address_lines.empty();
        if (!phone_only) {
            listing.blocks.push_back(std::move(block));
            continue;
        }
        if (listing.blocks.empty() || listing.blocks.back().phone) {
            throw Error(ErrorCode::bad_input, where(file, para_start) + ": phone number '" +
                                                  *block.phone +
                                                  "' does not follow a hospital without one");
        }
        listing.blocks.back().phone = block.phone;
    }
    if (listing.blocks.empty()) {
        throw Error(ErrorCode::bad_input, file + ": the list of hospitals is empty");
    }
    return listing;
}

Listing read_listing(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(ErrorCode::io_error, "cannot read listing '" + path + "'");
    std::ostringstream text;
    text << in.rdbuf();
    return parse_listing(text.str(), path);
}

}  // namespace hloc::ingest
