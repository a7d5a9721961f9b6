#pragma once
// Streaming line reader for text inputs, plain or gzip-compressed (detected by content, not by
// name; concatenated gzip members are read in turn, anything else after the compressed data is an
// error). Buffers have a fixed size: a line longer than `maxLineBytes` is rejected as soon as the
// limit is passed, without reading the rest of it. Accepts LF or CRLF line ends and UTF-8 with or
// without BOM, or Latin-1 / Windows-1252 text when the options say so (converted to UTF-8 line by
// line). Anything else (UTF-16, NUL bytes, invalid UTF-8, CR-only line ends) is an Error naming
// file and line and what to do.
#include "common/hash.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sllmr {

// The text encoding of an input file. Lines are handed out in UTF-8 whatever the file uses.
enum class TextEncoding { Utf8, Latin1, Cp1252 };

// "utf-8" (also "utf8"), "latin1" (also "latin-1", "iso-8859-1"), "cp1252" (also
// "windows-1252"); throws Error(Usage) naming `setting` for anything else.
TextEncoding parseTextEncoding(const std::string& name, const std::string& setting);
// The canonical name: "utf-8", "latin1" or "cp1252".
const char* textEncodingName(TextEncoding encoding) noexcept;

class LineReader
{
public:
    struct Options
    {
        std::size_t maxLineBytes = 1u << 20;  // 1 MiB
        std::size_t chunkBytes = 1u << 20;    // read granularity
        bool checkUtf8 = true;                // UTF-8 only: validate every line
        TextEncoding encoding = TextEncoding::Utf8;
        // Where the encoding is chosen, for the hint of an invalid UTF-8 error (e.g.
        // "--encoding or 'dataset.encoding'").
        std::string encodingSetting = "the encoding setting";
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
    // The encoding lines were decoded from: the option's, or UTF-8 when the file has a UTF-8 BOM.
    TextEncoding encoding() const noexcept { return m_encoding; }
    // Bytes of the file consumed so far (compressed bytes for .gz) and the file's size: progress.
    std::uint64_t bytesConsumed() const;
    std::uint64_t fileSize() const noexcept { return m_fileSize; }
    // Uncompressed bytes handed out so far.
    std::uint64_t textBytes() const noexcept { return m_textBytes; }
    // Capacity of the internal buffer: constant for the reader's lifetime.
    // The line buffer grows from 64 KiB to at most maxLineBytes + chunkBytes + 1 bytes.
    std::size_t bufferCapacity() const noexcept { return m_buffer.size(); }

private:
    static constexpr std::size_t kInitialBuffer = 64u * 1024u;
    std::size_t maxBuffer() const;
    bool refill();
    std::size_t readRaw(char* out, std::size_t want);
    std::size_t inflateInto(char* out, std::size_t want);
    void checkLine(std::string_view line) const;
    std::string_view decode(std::string_view line);

    std::string m_path;
    Options m_options;
    void* m_file = nullptr;            // FILE*
    void* m_zs = nullptr;              // z_stream, opaque here to keep zlib out of the header
    std::vector<unsigned char> m_raw;  // compressed input not yet inflated
    std::size_t m_rawBegin = 0;
    std::size_t m_rawEnd = 0;
    std::uint64_t m_rawConsumed = 0;  // compressed bytes read from the file
    bool m_rawEof = false;
    bool m_streamEnded = false;                    // a gzip member ended and no other began yet
    std::uint64_t m_trailingAt = 0;                // offset of bytes after the last gzip member
    std::uint64_t m_trailingBytes = 0;             // how many; reported once the text is read
    TextEncoding m_encoding = TextEncoding::Utf8;  // in effect (a UTF-8 BOM wins)
    std::string m_decoded;  // the current line converted to UTF-8 (Latin-1, CP1252)
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
