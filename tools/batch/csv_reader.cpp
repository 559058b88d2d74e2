#include "csv_reader.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include "hloc/error.hpp"

namespace hloc::batch {

namespace {

constexpr std::size_t kRawBlock = 1 << 16;

// How many of the first n bytes at p are ASCII (below 0x80), eight at a time.
std::size_t ascii_run(const char* p, std::size_t n) {
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        std::uint64_t word;
        std::memcpy(&word, p + i, 8);
        if (word & 0x8080808080808080u) break;
    }
    while (i < n && static_cast<unsigned char>(p[i]) < 0x80) ++i;
    return i;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

const char* encoding_name(TextEncoding encoding) {
    switch (encoding) {
        case TextEncoding::windows_1252:
            return "Windows-1252";
        case TextEncoding::latin_1:
            return "Latin-1";
        default:
            return "UTF-8";
    }
}

iconv_t open_decoder(TextEncoding encoding) {
    // UTF-8 is checked by converting it to UTF-16 and discarding that: glibc's UTF-8 to UTF-8
    // accepts code points beyond U+10FFFF, its UTF-16 encoder refuses them. The bytes that
    // passed are then used as they are.
    const char* to = encoding == TextEncoding::utf8 ? "UTF-16LE" : "UTF-8";
    const char* from = encoding == TextEncoding::windows_1252 ? "WINDOWS-1252"
                       : encoding == TextEncoding::latin_1    ? "ISO-8859-1"
                                                              : "UTF-8";
    iconv_t decoder = ::iconv_open(to, from);
    if (decoder == reinterpret_cast<iconv_t>(-1)) {
        throw Error(ErrorCode::internal, std::string("iconv cannot convert ") + from + " to " + to +
                                             ": " + std::strerror(errno));
    }
    return decoder;
}

char hex_digit(unsigned v) { return "0123456789ABCDEF"[v & 15]; }

}  // namespace

TextEncoding parse_encoding(std::string_view name) {
    const auto n = lower(name);
    if (n == "utf-8" || n == "utf8") return TextEncoding::utf8;
    if (n == "windows-1252" || n == "cp1252") return TextEncoding::windows_1252;
    if (n == "latin-1" || n == "latin1" || n == "iso-8859-1") return TextEncoding::latin_1;
    throw Error(ErrorCode::invalid_parameter,
                "--encoding " + std::string(name) + ": use utf-8, windows-1252 or latin-1");
}

char parse_delimiter(std::string_view name) {
    if (name == ",") return ',';
    if (name == ";") return ';';
    if (name == "tab" || name == "\t") return '\t';
    throw Error(ErrorCode::invalid_parameter,
                "--delimiter " + std::string(name) + ": use , or ; or tab");
}

CsvReader::CsvReader(std::FILE* file, std::string name, TextEncoding encoding, char delimiter)
    : file_(file),
      name_(std::move(name)),
      encoding_(encoding),
      delimiter_(delimiter),
      decoder_(open_decoder(encoding)),
      raw_(kRawBlock),
      scratch_(2 * kRawBlock),   // UTF-16: at most 2 bytes per byte of UTF-8
      buffer_(3 * kRawBlock) {}  // UTF-8: at most 3 bytes per byte of Windows-1252

CsvReader::~CsvReader() { ::iconv_close(decoder_); }

void CsvReader::read_raw() {
    std::memmove(raw_.data(), raw_.data() + raw_pos_, raw_end_ - raw_pos_);
    raw_end_ -= raw_pos_;
    raw_pos_ = 0;
    const auto n = std::fread(raw_.data() + raw_end_, 1, raw_.size() - raw_end_, file_);
    if (n == 0) {
        if (std::ferror(file_)) {
            throw Error(ErrorCode::io_error, "cannot read " + name_ + ": " + std::strerror(errno));
        }
        raw_eof_ = true;
    }
    raw_end_ += n;
    if (!started_) {
        started_ = true;
        if (raw_end_ >= 3 && std::memcmp(raw_.data(), "\xEF\xBB\xBF", 3) == 0) {
            if (encoding_ != TextEncoding::utf8) {
                throw Error(ErrorCode::bad_input,
                            name_ + " starts with a UTF-8 byte order mark: it is UTF-8, not " +
                                encoding_name(encoding_) + "; leave out --encoding");
            }
            // A UTF-8 byte order mark (Excel writes one) is not part of the first field.
            raw_pos_ = 3;
            raw_offset_ = 3;
        }
    }
}

void CsvReader::refuse_byte(std::size_t at, bool at_end) const {
    const auto byte = static_cast<unsigned char>(raw_[at]);
    const std::string where = "line " + std::to_string(raw_newlines_ + 1) + ", byte offset " +
                              std::to_string(raw_offset_) + " (byte 0x" + hex_digit(byte >> 4u) +
                              hex_digit(byte) + ")";
    if (encoding_ == TextEncoding::utf8) {
        throw Error(ErrorCode::bad_input,
                    name_ + " is not valid UTF-8: " +
                        (at_end ? "it ends inside a character at " : "") + where +
                        "; a CSV saved by Excel as \"CSV (Comma delimited)\" is Windows-1252: "
                        "give --encoding windows-1252");
    }
    throw Error(
        ErrorCode::bad_input,
        name_ + " is not " + encoding_name(encoding_) + ": " + where + " is not a character in it" +
            (encoding_ == TextEncoding::windows_1252 ? "; --encoding latin-1 reads every byte"
                                                     : ""));
}

bool CsvReader::fill() {
    pos_ = end_ = 0;
    for (;;) {
        if (!raw_eof_ && (raw_pos_ == raw_end_ || incomplete_ || !started_)) read_raw();
        if (raw_pos_ == raw_end_) return false;
        const std::size_t from = raw_pos_;
        char* in = raw_.data() + raw_pos_;
        std::size_t in_left = raw_end_ - raw_pos_;
        const bool check_only = encoding_ == TextEncoding::utf8;
        char* out = check_only ? scratch_.data() : buffer_.data();
        std::size_t out_left = check_only ? scratch_.size() : buffer_.size();
        // ASCII is UTF-8 as it stands: a run of it needs no decoder (a postcode file is all
        // ASCII, and iconv was a twentieth of a batch row's time).
        const std::size_t ascii = check_only ? ascii_run(in, std::min(in_left, buffer_.size())) : 0;
        int error = 0;
        if (ascii > 0) {
            in += ascii;
        } else if (::iconv(decoder_, &in, &in_left, &out, &out_left) ==
                   static_cast<std::size_t>(-1)) {
            error = errno;
        }
        raw_pos_ = static_cast<std::size_t>(in - raw_.data());
        raw_newlines_ += static_cast<std::uint64_t>(
            std::count(raw_.data() + from, raw_.data() + raw_pos_, '\n'));
        raw_offset_ += raw_pos_ - from;
        if (check_only) {
            std::memcpy(buffer_.data(), raw_.data() + from, raw_pos_ - from);
            end_ = raw_pos_ - from;
        } else {
            end_ = static_cast<std::size_t>(out - buffer_.data());
        }
        incomplete_ = false;
        if (error == EILSEQ) refuse_byte(raw_pos_, false);
        if (error == EINVAL) {  // a character cut by the block's end, or by the file's
            if (raw_eof_) refuse_byte(raw_pos_, true);
            incomplete_ = true;
        }
        // E2BIG: the output block is full; the rest is decoded on the next fill().
        if (end_ > 0) return true;
    }
}

std::string_view CsvReader::peek_first_line() {
    if (pos_ == end_ && !fill()) return {};
    const std::string_view text(buffer_.data() + pos_, end_ - pos_);
    const auto line_end = text.find_first_of("\r\n");
    if (line_end != std::string_view::npos) return text.substr(0, line_end);
    const bool whole_file = raw_eof_ && raw_pos_ == raw_end_;
    return whole_file ? text : std::string_view();
}

int CsvReader::get() {
    if (pos_ == end_ && !fill()) return EOF;
    return static_cast<unsigned char>(buffer_[pos_++]);
}
bool CsvReader::next(CsvRecord& record) {
    // Skip blank lines: they are not rows.
    int c;
    for (;;) {
        c = get();
        if (c == EOF) return false;
        if (c == '\n') {
            ++line_;
        } else if (c == '\r') {
            const int c2 = get();
            if (c2 != '\n' && c2 != EOF) unget();
            ++line_;
        } else {
            break;
        }
    }
    record.fields.clear();
    record.line = line_;
    record.truncated = false;
    std::size_t bytes = 0;
    std::string field;
    auto append = [&](int ch) {
        if (record.truncated) return;
        // Cut before a character, not inside one: the field stays UTF-8.
        if (bytes >= kMaxRecordBytes && (static_cast<unsigned>(ch) & 0xC0u) != 0x80u) {
            record.truncated = true;
            return;
        }
        ++bytes;
        field.push_back(static_cast<char>(ch));
    };
    for (;;) {  // one field per pass; c holds its first byte
        if (c == '"') {
            const auto quote_line = line_;
            for (;;) {
                c = get();
                // Read on, this quote would make the rest of the file one field: fewer rows out
                // than records in, and no word. Refused instead, where it began.
                if (c == EOF) {
                    throw Error(ErrorCode::bad_input,
                                name_ + ": the quoted field that begins on line " +
                                    std::to_string(quote_line) +
                                    " is never closed (a quote inside a quoted field is written "
                                    "twice: \"\")");
                }
                if (c == '"') {
                    c = get();
                    if (c != '"') break;  // closing quote; c is the byte after it
                    append('"');
                } else {
                    if (c == '\n') ++line_;
                    append(c);
                }
            }
        }
        while (c != delimiter_ && c != '\n' && c != '\r' && c != EOF) {
            append(c);
            c = get();
        }
        record.fields.push_back(std::move(field));
        field.clear();
        if (c == delimiter_) {
            c = get();
            continue;
        }
        if (c == '\r') {
            const int c2 = get();
            if (c2 != '\n' && c2 != EOF) unget();
        }
        if (c != EOF) ++line_;
        return true;
    }
}

}  // namespace hloc::batch
