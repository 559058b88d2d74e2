// The provider's published treatment page, turned into blocks of classified lines.
//
// The page is free text. Between the line "Find your nearest hospital that provides this
// treatment" and "Get in touch" are blocks of 1-4 lines in no fixed order, separated by blank
// lines; a block's phone may stand after a blank line of its own. Every line is classified by
// what it is (postcode, phone, hospital name, address), never by where it stands.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "hloc/error.hpp"

namespace hloc::ingest {

struct ListingBlock {
    int first_line = 0;                      // 1-based line number in the listing file
    std::optional<std::string> name;         // "Cardiff Bay Hospital"
    std::vector<std::string> address_lines;  // in page order: street, then locality/town
    std::optional<std::string> postcode;     // canonical ("CM15 8EH")
    std::optional<std::string> phone;        // as printed ("01244 680 444")
    std::string summary() const;             // "line 77: Wrexham Road / 01244 680 444"
};

struct Listing {
    std::string file;                          // as given, for messages
    std::optional<std::string> central_phone;  // the "Contact us" number, as printed
    std::vector<ListingBlock> blocks;
};

enum class LineKind { blank, postcode, phone, name, address };
// What a single (trimmed) line of a block is.
LineKind classify_line(std::string_view line);

// Throws Error{bad_input} naming the file and line for a page it cannot read as a listing.
Listing parse_listing(std::string_view text, const std::string& file);
Listing read_listing(const std::string& path);

}  // namespace hloc::ingest
