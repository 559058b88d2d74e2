// libFuzzer: the batch CSV reader on any bytes. The first byte chooses the encoding and the
// delimiter, the rest is the file. Properties: never crashes; a failure is an hloc::Error,
// bad_input with a message (a bad byte, a quote never closed), never anything else; every record
// has a field and starts on a later line than the one before; every field is valid UTF-8,
// whatever the encoding, and no longer than kMaxRecordBytes plus one character.
#include <iconv.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "csv_reader.hpp"
#include "hloc/error.hpp"

namespace {

bool valid_utf8(const std::string& text) {
    // The same check the reader makes, from outside: UTF-8 to UTF-16 refuses what is not.
    static iconv_t check = ::iconv_open("UTF-16LE", "UTF-8");
    std::string out(2 * text.size() + 2, '\0');
    char* in = const_cast<char*>(text.data());
    std::size_t in_left = text.size(), out_left = out.size();
    char* to = out.data();
    ::iconv(check, nullptr, nullptr, nullptr, nullptr);
    return ::iconv(check, &in, &in_left, &to, &out_left) != static_cast<std::size_t>(-1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    using hloc::batch::TextEncoding;
    const TextEncoding encodings[] = {TextEncoding::utf8, TextEncoding::windows_1252,
                                      TextEncoding::latin_1};
    const char delimiters[] = {',', ';', '\t'};
    const auto encoding = encodings[data[0] % 3];
    const auto delimiter = delimiters[(data[0] / 3) % 3];
    const bool peek = (data[0] / 9) % 2 == 1;
    std::FILE* file = ::fmemopen(const_cast<std::uint8_t*>(data), size, "rb");
    if (!file) std::abort();
    std::fgetc(file);  // the choice byte is not part of the file
    try {
        hloc::batch::CsvReader reader(file, "fuzz.csv", encoding, ',');
        if (peek) {
            const auto line = reader.peek_first_line();
            if (line.find('\n') != std::string_view::npos) std::abort();
        }
        reader.set_delimiter(delimiter);
        hloc::batch::CsvRecord record;
        std::uint64_t last_line = 0;
        while (reader.next(record)) {
            if (record.fields.empty() || record.line <= last_line) std::abort();
            last_line = record.line;
            std::size_t bytes = 0;
            for (const auto& f : record.fields) {
                if (!valid_utf8(f)) std::abort();
                bytes += f.size();
            }
            if (bytes > hloc::batch::kMaxRecordBytes + 3) std::abort();
        }
    } catch (const hloc::Error& e) {
        if (e.code() != hloc::ErrorCode::bad_input || e.message().empty()) std::abort();
    }
    std::fclose(file);
    return 0;
}
