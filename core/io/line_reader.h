#pragma once
// Streaming line reader for text inputs, plain or gzip-compressed (detected by content, not by
// name). Buffers have a fixed size: a line longer than `maxLineBytes` is rejected as soon as the
// limit is passed, without reading the rest of it. Accepts UTF-8 with or without BOM and LF or CRLF
// line ends; anything else (UTF-16, NUL bytes, invalid UTF-8) is an Error naming file and line.
#include "common/hash.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sllmr {

class LineReader
{
public:
    struct Options
    {
        std::size_t maxLineBytes = 1u << 20;  // 1 MiB
        std::size_t chunkBytes = 1u << 20;    // read granularity
        bool checkUtf8 = true;
    };

    explicit LineReader(std::string path);
    LineReader(std::string path, Options options);
    ~LineReader();
    LineReader(const LineReader&) = delete;
    LineReader& operator=(const LineReader&) = delete;

    // Next line without its terminator; false at end of file. The view stays valid until the
    // next call. Throws Error on bad encoding or an over-long line.
    bool next(std::string_view& line);
    // Like next(), skipping lines that are empty or only spaces and tabs (counted in blankLines()).
    bool nextNonBlank(std::string_view& line);
    std::int64_t blankLines() const noexcept { return m_blankLines; }
    // Hash of the decoded lines handed out so far (after BOM and CR removal), so the same text
    // stored plain, compressed or with CRLF line ends hashes the same.
    std::string contentHash() const { return m_hash.hex(); }

    // 1-based number of the line last returned (0 before the first).
    std::int64_t lineNumber() const noexcept { return m_lineNumber; }
    const std::string& path() const noexcept { return m_path; }
    bool compressed() const noexcept { return m_compressed; }
    // Bytes of the file consumed so far (compressed bytes for .gz) and the file's size: progress.
    std::uint64_t bytesConsumed() const;
    std::uint64_t fileSize() const noexcept { return m_fileSize; }
    // Uncompressed bytes handed out so far.
    std::uint64_t textBytes() const noexcept { return m_textBytes; }
    // Capacity of the internal buffer: constant for the reader's lifetime.
    std::size_t bufferCapacity() const noexcept { return m_buffer.size(); }

private:
    bool refill();
    void checkLine(std::string_view line) const;

    std::string m_path;
    Options m_options;
    void* m_gz = nullptr;  // gzFile, opaque here to keep zlib out of the header
    bool m_compressed = false;
    std::uint64_t m_fileSize = 0;
    std::vector<char> m_buffer;
    std::size_t m_begin = 0;
    std::size_t m_end = 0;
    bool m_eof = false;
    bool m_first = true;
    std::int64_t m_lineNumber = 0;
    std::uint64_t m_textBytes = 0;
    std::int64_t m_blankLines = 0;
    Hasher m_hash;
};

// Offset of the first byte of an invalid UTF-8 sequence in `text`, or npos when it is valid.
std::size_t findInvalidUtf8(std::string_view text) noexcept;

}  // namespace sllmr
