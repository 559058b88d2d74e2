// A streaming CSV record reader for batch inputs: RFC 4180 quoting (fields with commas, quotes
// and line breaks), a UTF-8 byte order mark, CRLF, LF or lone CR line ends. Reads in blocks, so
// memory stays bounded whatever the file size; a record longer than kMaxRecordBytes is cut
// short and flagged rather than held whole.
//
// Lenient where real files are sloppy, in the way Python's csv module is: text after a closing
// quote is kept ("ab"c -> abc), a quote inside an unquoted field is literal. Bytes are passed
// through as they are (no UTF-8 check): a row with junk in it is still one row.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace hloc::batch {

inline constexpr std::size_t kMaxRecordBytes = 1 << 20;  // 1 MiB

struct CsvRecord {
    std::vector<std::string> fields;
    std::uint64_t line = 0;  // 1-based line number where the record starts
    bool truncated = false;  // longer than kMaxRecordBytes: fields hold the first MiB only
};

class CsvReader {
  public:
    // Does not own `file`. `name` is for messages.
    CsvReader(std::FILE* file, std::string name);

    // The next record, skipping blank lines. False at end of input; throws Error{io_error}
    // when the file cannot be read.
    bool next(CsvRecord& record);

    // Bytes consumed so far (for progress against the file size).
    std::uint64_t bytes_read() const { return consumed_; }

  private:
    int get();  // next byte or EOF
    void unget() { --pos_, --consumed_; }

    std::FILE* file_;
    std::string name_;
    std::vector<char> buffer_;
    std::size_t pos_ = 0, end_ = 0;
    std::uint64_t consumed_ = 0;
    std::uint64_t line_ = 1;
    bool started_ = false;
};

}  // namespace hloc::batch
