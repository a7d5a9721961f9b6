#include "io/line_reader.h"

#include "common/error.h"

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <filesystem>

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

TextEncoding parseTextEncoding(const std::string& name, const std::string& setting)
{
    std::string n;
    for (const char c : name)
        n += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (n.empty() || n == "utf-8" || n == "utf8")
        return TextEncoding::Utf8;
    if (n == "latin1" || n == "latin-1" || n == "iso-8859-1" || n == "iso8859-1")
        return TextEncoding::Latin1;
    if (n == "cp1252" || n == "windows-1252")
        return TextEncoding::Cp1252;
    throw Error(ErrorKind::Usage, setting + " '" + name + "' is not a known text encoding", {}, 0,
                "choose utf-8, latin1 or cp1252");
}

const char* textEncodingName(TextEncoding encoding) noexcept
{
    switch (encoding) {
        case TextEncoding::Latin1:
            return "latin1";
        case TextEncoding::Cp1252:
            return "cp1252";
        case TextEncoding::Utf8:
            break;
    }
    return "utf-8";
}

namespace {

// Windows-1252 0x80..0x9F; the five undefined bytes map to the C1 controls, as in WHATWG.
constexpr std::uint16_t kCp1252High[32] = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178};

void appendUtf8(std::string& out, std::uint32_t cp)
{
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

z_stream* zstream(void* p)
{
    return static_cast<z_stream*>(p);
}

FILE* cfile(void* p)
{
    return static_cast<FILE*>(p);
}

const char* kGzipHint = "the .gz file is corrupt or truncated; download or compress it again";

}  // namespace

LineReader::LineReader(std::string path) : LineReader(std::move(path), Options{}) {}

LineReader::LineReader(std::string path, Options options)
    : m_path(std::move(path)), m_options(std::move(options))
{
    std::error_code ec;
    if (!std::filesystem::is_regular_file(m_path, ec))
        throw Error(ErrorKind::NotFound, "file not found or not a regular file", m_path, 0,
                    "check the path");
    m_fileSize = std::filesystem::file_size(m_path, ec);
    FILE* f = std::fopen(m_path.c_str(), "rb");
    if (!f)
        throw Error(ErrorKind::NotFound, "cannot open file for reading", m_path, 0,
                    "check that it exists and is readable");
    m_file = f;
    m_raw.resize(64u * 1024u);
    m_rawEnd = std::fread(m_raw.data(), 1, m_raw.size(), f);
    m_rawConsumed = m_rawEnd;
    m_rawEof = m_rawEnd < m_raw.size();
    m_compressed = m_rawEnd >= 2 && m_raw[0] == 0x1f && m_raw[1] == 0x8b;
    if (m_compressed) {
        auto* zs = new z_stream{};
        if (inflateInit2(zs, 15 + 16) != Z_OK) {
            delete zs;
            std::fclose(f);
            m_file = nullptr;
            throw Error(ErrorKind::Internal, "cannot initialise zlib", m_path);
        }
        m_zs = zs;
    }
    // Small files (most of them, and every fuzz input) need a small buffer; refill() grows it
    // up to the bound of one longest line plus one chunk.
    m_buffer.resize(std::min(kInitialBuffer, maxBuffer()));
}

std::size_t LineReader::maxBuffer() const
{
    return m_options.maxLineBytes + m_options.chunkBytes + 1;
}

LineReader::~LineReader()
{
    if (m_zs) {
        inflateEnd(zstream(m_zs));
        delete zstream(m_zs);
    }
    if (m_file)
        std::fclose(cfile(m_file));
}

std::uint64_t LineReader::bytesConsumed() const
{
    return m_rawConsumed - (m_rawEnd - m_rawBegin);
}

std::size_t LineReader::readRaw(char* out, std::size_t want)
{
    std::size_t got = 0;
    if (m_rawBegin < m_rawEnd) {  // the bytes read to detect compression
        got = std::min(want, m_rawEnd - m_rawBegin);
        std::memcpy(out, m_raw.data() + m_rawBegin, got);
        m_rawBegin += got;
    }
    if (got < want && !m_rawEof) {
        const auto n = std::fread(out + got, 1, want - got, cfile(m_file));
        m_rawConsumed += n;
        if (n < want - got) {
            m_rawEof = true;
            if (std::ferror(cfile(m_file)))
                throwBadInput(m_path, m_lineNumber + 1, "read error",
                              "check the disk and the file");
        }
        got += n;
    }
    return got;
}

std::size_t LineReader::inflateInto(char* out, std::size_t want)
{
    z_stream* zs = zstream(m_zs);
    zs->next_out = reinterpret_cast<Bytef*>(out);
    zs->avail_out = static_cast<uInt>(want);
    while (zs->avail_out > 0 && m_trailingBytes == 0) {
        if (m_rawEnd - m_rawBegin < 2 && !m_rawEof) {
            // Keep the unread byte (a member start may straddle reads) and read more.
            const std::size_t keep = m_rawEnd - m_rawBegin;
            std::memmove(m_raw.data(), m_raw.data() + m_rawBegin, keep);
            const auto n = std::fread(m_raw.data() + keep, 1, m_raw.size() - keep, cfile(m_file));
            m_rawConsumed += n;
            m_rawBegin = 0;
            m_rawEnd = keep + n;
            if (n == 0) {
                m_rawEof = true;
                if (std::ferror(cfile(m_file)))
                    throwBadInput(m_path, m_lineNumber + 1, "read error",
                                  "check the disk and the file");
            }
        }
        const std::size_t avail = m_rawEnd - m_rawBegin;
        if (m_streamEnded) {
            if (avail == 0)
                break;  // the end of the last gzip member is the end of the file
            if (avail < 2 || m_raw[m_rawBegin] != 0x1f || m_raw[m_rawBegin + 1] != 0x8b) {
                // Not another gzip member: remember it and report it after the last line.
                m_trailingAt = bytesConsumed();
                m_trailingBytes = m_fileSize > m_trailingAt ? m_fileSize - m_trailingAt : avail;
                break;
            }
            inflateReset(zs);
            m_streamEnded = false;
        }
        if (avail == 0)
            throwBadInput(m_path, m_lineNumber + 1, "compressed data ends early",
                          "the .gz file is truncated; download or compress it again");
        zs->next_in = m_raw.data() + m_rawBegin;
        zs->avail_in = static_cast<uInt>(avail);
        const int rc = inflate(zs, Z_NO_FLUSH);
        m_rawBegin = m_rawEnd - zs->avail_in;
        if (rc == Z_STREAM_END) {
            m_streamEnded = true;
        } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
            throwBadInput(
                m_path, m_lineNumber + 1,
                std::string("cannot read compressed data: ") + (zs->msg ? zs->msg : "corrupt data"),
                kGzipHint);
        }
    }
    return want - zs->avail_out;
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
    if (m_buffer.size() - 1 - m_end < m_options.chunkBytes && m_buffer.size() < maxBuffer())
        m_buffer.resize(std::min(maxBuffer(), 2 * m_buffer.size()));
    const std::size_t room = m_buffer.size() - 1 - m_end;
    if (room == 0)
        return false;
    const std::size_t want = std::min(room, m_options.chunkBytes);
    char* out = m_buffer.data() + m_end;
    const std::size_t got = m_compressed ? inflateInto(out, want) : readRaw(out, want);
    if (got == 0) {
        m_eof = true;
        return false;
    }
    m_end += got;
    return true;
}

void LineReader::checkLine(std::string_view line) const
{
    if (std::memchr(line.data(), '\0', line.size()))
        throwBadInput(m_path, m_lineNumber, "binary data (NUL byte) in a text file",
                      "this is not a UTF-8 text file; if it is UTF-16, re-save it as UTF-8");
    if (std::memchr(line.data(), '\r', line.size()))
        throwBadInput(m_path, m_lineNumber,
                      "carriage return (CR) inside the line: the file has old Mac (CR-only) line "
                      "ends, so its lines run together",
                      "convert the line ends to LF, e.g. with \"tr '\\r' '\\n' < FILE > FIXED\" or "
                      "mac2unix");
    if (m_encoding == TextEncoding::Utf8 && m_options.checkUtf8) {
        const auto bad = findInvalidUtf8(line);
        if (bad != std::string_view::npos)
            throwBadInput(m_path, m_lineNumber,
                          "invalid UTF-8 at byte " + std::to_string(bad + 1) + " of the line",
                          "the file is probably Latin-1 or Windows-1252: read it with " +
                              m_options.encodingSetting +
                              " latin1 or cp1252, or convert it with 'iconv -f latin1 -t utf-8'");
    }
}

std::string_view LineReader::decode(std::string_view line)
{
    if (m_encoding == TextEncoding::Utf8)
        return line;
    const auto* u = reinterpret_cast<const unsigned char*>(line.data());
    if (std::none_of(u, u + line.size(), [](unsigned char c) { return c >= 0x80; }))
        return line;
    m_decoded.clear();
    for (std::size_t k = 0; k < line.size(); ++k) {
        const unsigned char c = u[k];
        if (m_encoding == TextEncoding::Cp1252 && c >= 0x80 && c < 0xA0)
            appendUtf8(m_decoded, kCp1252High[c - 0x80]);
        else
            appendUtf8(m_decoded, c);
    }
    return m_decoded;
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
            const bool cr = std::memchr(m_buffer.data() + m_begin, '\r', m_end - m_begin);
            throwBadInput(m_path, m_lineNumber,
                          "line is longer than " + std::to_string(m_options.maxLineBytes) +
                              " bytes and has no line break" +
                              (cr ? " (it has carriage returns: old Mac CR-only line ends)" : ""),
                          cr ? "convert the line ends to LF, e.g. with \"tr '\\r' '\\n' < FILE > "
                               "FIXED\" or mac2unix"
                             : "is this the right file? a delimited data file has short lines");
        }
        const std::size_t scanned = m_end - m_begin;
        if (!refill()) {
            if (m_begin == m_end) {
                if (m_trailingBytes > 0)
                    throwBadInput(m_path, m_lineNumber + 1,
                                  "after the end of the compressed data (line " +
                                      std::to_string(m_lineNumber) + " of the text) come " +
                                      std::to_string(m_trailingBytes) +
                                      " bytes that are not gzip data (at byte " +
                                      std::to_string(m_trailingAt) + " of the file)",
                                  "rows appended as plain text to a .gz file are not read: "
                                  "decompress it ('gzip -dc FILE.gz > FILE') and append to the "
                                  "plain file, or append compressed rows ('gzip -c more.csv >> "
                                  "FILE.gz')");
                return false;
            }
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
        m_encoding = m_options.encoding;
        const auto* u = reinterpret_cast<const unsigned char*>(line.data());
        if (line.size() >= 2 && ((u[0] == 0xFF && u[1] == 0xFE) || (u[0] == 0xFE && u[1] == 0xFF)))
            throwBadInput(m_path, 1, "the file is UTF-16 encoded",
                          "re-save it as UTF-8, e.g. with 'iconv -f utf-16 -t utf-8'");
        if (line.size() >= 3 && u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF) {
            line.remove_prefix(3);
            m_encoding = TextEncoding::Utf8;  // the file says it is UTF-8
        }
    }
    if (!line.empty() && line.back() == '\r')
        line.remove_suffix(1);
    checkLine(line);
    line = decode(line);
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
