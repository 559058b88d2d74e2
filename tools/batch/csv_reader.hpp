// A streaming CSV record reader for batch inputs: RFC 4180 quoting (fields with delimiters,
// quotes and line breaks), a UTF-8 byte order mark, CRLF, LF or lone CR line ends, a comma,
// semicolon or tab between fields. Reads in blocks, so
// memory stays bounded whatever the file size; a record longer than kMaxRecordBytes is cut short
// and flagged rather than held whole.
//
// Text is decoded with iconv (glibc) into UTF-8: every field a record holds is valid UTF-8.
// UTF-8 input is checked, not trusted (overlong forms, surrogates and code points beyond
// U+10FFFF are refused); Windows-1252 and Latin-1 are converted. A byte the encoding does not
// allow is not guessed at: next() throws Error{bad_input} naming its line and byte offset.
//
// Lenient where real files are sloppy, in the way Python's csv module is: text after a closing
// quote is kept ("ab"c -> abc), a quote inside an unquoted field is literal. Strict where
// leniency loses rows: a quote that opens a field and is never closed would swallow every later
// line into that field, so next() throws Error{bad_input} naming the line where it opened.
#pragma once

#include <iconv.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace hloc::batch {

inline constexpr std::size_t kMaxRecordBytes = 1 << 20;  // 1 MiB, counted in decoded UTF-8

enum class TextEncoding { utf8, windows_1252, latin_1 };

// "utf-8", "windows-1252" or "latin-1" (any case), as --encoding spells them; throws
// Error{invalid_parameter} for anything else.
TextEncoding parse_encoding(std::string_view name);

// ",", ";" or "tab", as --delimiter spells them; throws Error{invalid_parameter} for the rest.
char parse_delimiter(std::string_view name);

struct CsvRecord {
    std::vector<std::string> fields;
    std::uint64_t line = 0;  // 1-based line number where the record starts
    bool truncated = false;  // longer than kMaxRecordBytes: fields hold the first MiB only,
                             // cut before a character (up to 3 bytes more), never inside one
};

class CsvReader {
  public:
    // Does not own `file`. `name` is for messages. `delimiter` is ',', ';' or '\t'.
    CsvReader(std::FILE* file, std::string name, TextEncoding encoding = TextEncoding::utf8,
              char delimiter = ',');
    ~CsvReader();
    CsvReader(const CsvReader&) = delete;
    CsvReader& operator=(const CsvReader&) = delete;

    // The next record, skipping blank lines. False at end of input. Throws Error{io_error} when
    // the file cannot be read, Error{bad_input} for a byte the encoding does not allow or a
    // quoted field that is never closed. After a
    // throw the reader is not to be used again.
    bool next(CsvRecord& record);

    // The decoded text of line 1, without consuming it, when the first block (64 KiB of input)
    // holds all of it; otherwise empty. Enough to choose a delimiter before the first next().
    // Throws as next() does.
    std::string_view peek_first_line();
    // Only before the first next().
    void set_delimiter(char delimiter) { delimiter_ = delimiter; }

    // Bytes of the file consumed so far (for progress against the file size).
    std::uint64_t bytes_read() const { return raw_offset_; }

  private:
    int get();  // next decoded byte or EOF
    void unget() { --pos_; }
    bool fill();  // decodes the next block into buffer_; false at end of input
    void read_raw();
    [[noreturn]] void refuse_byte(std::size_t at, bool at_end) const;

    std::FILE* file_;
    std::string name_;
    TextEncoding encoding_;
    char delimiter_;
    iconv_t decoder_;
    std::vector<char> raw_;  // bytes as read; [raw_pos_, raw_end_) not yet decoded
    std::size_t raw_pos_ = 0, raw_end_ = 0;
    bool raw_eof_ = false, incomplete_ = false, started_ = false;
    std::uint64_t raw_offset_ = 0;    // file offset of raw_[raw_pos_]
    std::uint64_t raw_newlines_ = 0;  // '\n' bytes decoded so far, for messages
    std::vector<char> scratch_;       // UTF-16 output of the UTF-8 check, discarded
    std::vector<char> buffer_;        // decoded UTF-8; [pos_, end_) not yet parsed
    std::size_t pos_ = 0, end_ = 0;
    std::uint64_t line_ = 1;
};

}  // namespace hloc::batch
