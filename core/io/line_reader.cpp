#include "io/line_reader.h"

#include "common/error.h"

#include <zlib.h>

#include <cstring>
#include <filesystem>
#include <fstream>

namespace sllmr {

std::size_t findInvalidUtf8(std::string_view text) noexcept
{
    const auto* s = reinterpret_cast<const unsigned char*>(text.data());
    const std::size_t n = text.size();
    std::size_t i = 0;
    while (i < n) {
        // ASCII fast path, eight bytes at a time.
        while (i + 8 <= n) {
            std::uint64_t word;
            std::memcpy(&word, s + i, 8);
            if (word & 0x8080808080808080ULL)
                break;
            i += 8;
        }
        if (i >= n)
            break;
        const unsigned char c = s[i];
        if (c < 0x80) {
            ++i;
            continue;
        }
        std::size_t len = 0;
        std::uint32_t cp = 0;
        if ((c & 0xE0) == 0xC0) {
            len = 2;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4;
            cp = c & 0x07;
        } else {
            return i;
        }
        if (i + len > n)
            return i;
        for (std::size_t k = 1; k < len; ++k) {
            if ((s[i + k] & 0xC0) != 0x80)
                return i;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        // Overlong forms, surrogates and values past U+10FFFF are invalid.
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return i;
        i += len;
    }
    return std::string_view::npos;
}

LineReader::LineReader(std::string path) : LineReader(std::move(path), Options{}) {}

LineReader::LineReader(std::string path, Options options)
    : m_path(std::move(path)), m_options(options)
{
    std::error_code ec;
    if (!std::filesystem::is_regular_file(m_path, ec))
        throw Error(ErrorKind::NotFound, "file not found or not a regular file", m_path, 0,
                    "check the path");
    m_fileSize = std::filesystem::file_size(m_path, ec);
    {
        std::ifstream probe(m_path, std::ios::binary);
        unsigned char magic[2] = {0, 0};
        probe.read(reinterpret_cast<char*>(magic), 2);
        m_compressed = probe.gcount() == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    }
    gzFile gz = gzopen(m_path.c_str(), "rb");
    if (!gz)
        throw Error(ErrorKind::NotFound, "cannot open file for reading", m_path, 0,
                    "check that it exists and is readable");
    gzbuffer(gz, 256u * 1024u);
    m_gz = gz;
    m_buffer.resize(m_options.maxLineBytes + m_options.chunkBytes + 1);
}

LineReader::~LineReader()
{
    if (m_gz)
        gzclose(static_cast<gzFile>(m_gz));
}

std::uint64_t LineReader::bytesConsumed() const
{
    if (!m_gz)
        return m_fileSize;
    const auto off = gzoffset(static_cast<gzFile>(m_gz));
    return off < 0 ? 0 : static_cast<std::uint64_t>(off);
}

bool LineReader::refill()
{
    if (m_eof)
        return false;
    if (m_begin > 0) {
        std::memmove(m_buffer.data(), m_buffer.data() + m_begin, m_end - m_begin);
        m_end -= m_begin;
        m_begin = 0;
    }
    const std::size_t room = m_buffer.size() - 1 - m_end;
    if (room == 0)
        return false;
    const std::size_t want = std::min(room, m_options.chunkBytes);
    const int got =
        gzread(static_cast<gzFile>(m_gz), m_buffer.data() + m_end, static_cast<unsigned>(want));
    if (got < 0) {
        int errnum = 0;
        const char* msg = gzerror(static_cast<gzFile>(m_gz), &errnum);
        throwBadInput(m_path, m_lineNumber + 1,
                      std::string("cannot read compressed data: ") + (msg ? msg : "unknown error"),
                      "the .gz file is corrupt or truncated; download or compress it again");
    }
    if (got == 0) {
        m_eof = true;
        // A truncated gzip stream reads as EOF with an error code set.
        int errnum = Z_OK;
        const char* msg = gzerror(static_cast<gzFile>(m_gz), &errnum);
        if (errnum != Z_OK && errnum != Z_STREAM_END)
            throwBadInput(m_path, m_lineNumber + 1,
                          std::string("compressed data ends early: ") + (msg ? msg : ""),
                          "the .gz file is truncated; download or compress it again");
        if (m_compressed && !gzdirect(static_cast<gzFile>(m_gz))) {
            // zlib reports a missing trailer as Z_BUF_ERROR on the next read
            char c;
            if (gzread(static_cast<gzFile>(m_gz), &c, 1) < 0)
                throwBadInput(m_path, m_lineNumber + 1, "compressed data ends early",
                              "the .gz file is truncated; download or compress it again");
        }
        return false;
    }
    m_end += static_cast<std::size_t>(got);
    return true;
}

void LineReader::checkLine(std::string_view line) const
{
    if (std::memchr(line.data(), '\0', line.size()))
        throwBadInput(m_path, m_lineNumber, "binary data (NUL byte) in a text file",
                      "this is not a UTF-8 text file; if it is UTF-16, re-save it as UTF-8");
    if (m_options.checkUtf8) {
        const auto bad = findInvalidUtf8(line);
        if (bad != std::string_view::npos)
            throwBadInput(m_path, m_lineNumber,
                          "invalid UTF-8 at byte " + std::to_string(bad + 1) + " of the line",
                          "the file is probably Latin-1 or Windows-1252; convert it with "
                          "'iconv -f latin1 -t utf-8'");
    }
}

bool LineReader::next(std::string_view& line)
{
    std::size_t scanFrom = m_begin;
    for (;;) {
        const char* start = m_buffer.data() + scanFrom;
        const void* nl = std::memchr(start, '\n', m_end - scanFrom);
        if (nl) {
            const auto pos =
                static_cast<std::size_t>(static_cast<const char*>(nl) - m_buffer.data());
            std::size_t len = pos - m_begin;
            if (len > m_options.maxLineBytes) {
                ++m_lineNumber;
                throwBadInput(
                    m_path, m_lineNumber,
                    "line is longer than " + std::to_string(m_options.maxLineBytes) + " bytes",
                    "is this the right file? a delimited data file has short lines");
            }
            line = std::string_view(m_buffer.data() + m_begin, len);
            m_begin = pos + 1;
            break;
        }
        if (m_end - m_begin > m_options.maxLineBytes) {
            ++m_lineNumber;
            throwBadInput(m_path, m_lineNumber,
                          "line is longer than " + std::to_string(m_options.maxLineBytes) +
                              " bytes and has no line break",
                          "is this the right file? a delimited data file has short lines");
        }
        const std::size_t scanned = m_end - m_begin;
        if (!refill()) {
            if (m_begin == m_end)
                return false;
            // Last line without a terminator.
            line = std::string_view(m_buffer.data() + m_begin, m_end - m_begin);
            m_begin = m_end;
            break;
        }
        scanFrom = m_begin + scanned;
    }
    ++m_lineNumber;
    m_textBytes += line.size() + 1;
    if (m_first) {
        m_first = false;
        const auto* u = reinterpret_cast<const unsigned char*>(line.data());
        if (line.size() >= 2 && ((u[0] == 0xFF && u[1] == 0xFE) || (u[0] == 0xFE && u[1] == 0xFF)))
            throwBadInput(m_path, 1, "the file is UTF-16 encoded",
                          "re-save it as UTF-8, e.g. with 'iconv -f utf-16 -t utf-8'");
        if (line.size() >= 3 && u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF)
            line.remove_prefix(3);
    }
    if (!line.empty() && line.back() == '\r')
        line.remove_suffix(1);
    checkLine(line);
    m_hash.add(line);
    m_hash.add(std::string_view("\n"));
    return true;
}

bool LineReader::nextNonBlank(std::string_view& line)
{
    while (next(line)) {
        if (line.find_first_not_of(" \t") != std::string_view::npos)
            return true;
        ++m_blankLines;
    }
    return false;
}

}  // namespace sllmr
