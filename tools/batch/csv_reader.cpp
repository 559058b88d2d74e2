#include "csv_reader.hpp"

#include <cerrno>
#include <cstring>

#include "hloc/error.hpp"

namespace hloc::batch {

CsvReader::CsvReader(std::FILE* file, std::string name)
    : file_(file), name_(std::move(name)), buffer_(1 << 16) {}

int CsvReader::get() {
    if (pos_ == end_) {
        end_ = std::fread(buffer_.data(), 1, buffer_.size(), file_);
        pos_ = 0;
        if (end_ == 0) {
            if (std::ferror(file_)) {
                throw Error(ErrorCode::io_error,
                            "cannot read " + name_ + ": " + std::strerror(errno));
            }
            return EOF;
        }
        if (!started_) {
            started_ = true;
            // A UTF-8 byte order mark (Excel writes one) is not part of the first field.
            if (end_ >= 3 && std::memcmp(buffer_.data(), "\xEF\xBB\xBF", 3) == 0) pos_ = 3;
        }
        if (pos_ == end_) return get();
    }
    ++consumed_;
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
        if (bytes >= kMaxRecordBytes) {
            record.truncated = true;
            return;
        }
        ++bytes;
        field.push_back(static_cast<char>(ch));
    };
    for (;;) {  // one field per pass; c holds its first byte
        if (c == '"') {
            for (;;) {
                c = get();
                if (c == EOF) break;
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
        while (c != ',' && c != '\n' && c != '\r' && c != EOF) {
            append(c);
            c = get();
        }
        record.fields.push_back(std::move(field));
        field.clear();
        if (c == ',') {
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
