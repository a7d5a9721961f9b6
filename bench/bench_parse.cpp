// bench_parse: throughput and memory of the dataset loader (readInteractions, loadDataset) on the
// real MovieLens ratings.csv and on synthetic MovieLens-format files of 1M..10M rows. Every
// measurement runs in a fresh child process (fork + exec of this binary with --one FILE) so that
// its peak RSS belongs to that measurement alone. A benchmark, not a test: targets are reported
// as PASS/FAIL but never change the exit status. See bench/README.md.
#include "common/error.h"
#include "common/hash.h"
#include "data/dataset.h"
#include "data/id_map.h"
#include "data/loaders.h"
#include "io/fields.h"
#include "io/line_reader.h"

#include <fmt/core.h>
#include <fmt/format.h>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <numbers>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#ifndef SLLMR_SHARED_DATA
#define SLLMR_SHARED_DATA "../shared/data"
#endif
#ifndef SLLMR_BENCH_SCRATCH
#define SLLMR_BENCH_SCRATCH "bench_scratch"
#endif

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::uint64_t kSeed = 20240611;
constexpr int kGeneratorVersion = 1;
constexpr std::uint32_t kUsers = 200000;
constexpr std::uint32_t kItems = 60000;
constexpr double kZipfExponent = 1.0;

// ---------------------------------------------------------------------------------------------
// Small helpers

double secondsSince(Clock::time_point t0)
{
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

// kB value of a "Key:   123 kB" line of /proc/self/status, or -1.
long procStatusKb(const char* key)
{
    std::ifstream in("/proc/self/status");
    std::string line;
    const std::size_t n = std::strlen(key);
    while (std::getline(in, line))
        if (line.compare(0, n, key) == 0 && line.size() > n && line[n] == ':')
            return std::strtol(line.c_str() + n + 1, nullptr, 10);
    return -1;
}

std::string selfExe()
{
    std::error_code ec;
    auto p = fs::read_symlink("/proc/self/exe", ec);
    return ec ? std::string() : p.string();
}

std::uint64_t fileSize(const std::string& path)
{
    std::error_code ec;
    const auto s = fs::file_size(path, ec);
    return ec ? 0 : static_cast<std::uint64_t>(s);
}

std::string humanRows(std::int64_t n)
{
    if (n >= 1000000 && n % 100000 == 0)
        return fmt::format("{:g}M", static_cast<double>(n) / 1e6);
    if (n >= 1000 && n % 1000 == 0)
        return fmt::format("{}k", n / 1000);
    return std::to_string(n);
}

// IdMap keeps its storage private; this is the footprint of an integer-id map with n ids in
// libstdc++: the id vector (8 B/id, amortised doubling ignored), the hash nodes (next pointer +
// pair<uint64,uint32> = 24 B, 32 B after malloc rounding) and the bucket array (>= 1 bucket/id).
std::uint64_t idMapBytesApprox(std::uint64_t n)
{
    return n * (8 + 32 + 8);
}

// ---------------------------------------------------------------------------------------------
// Synthetic MovieLens ratings.csv

struct SplitMix64
{
    std::uint64_t s;
    std::uint64_t next()
    {
        std::uint64_t z = (s += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
    }
};

struct Xoshiro256
{
    std::uint64_t s[4];
    explicit Xoshiro256(std::uint64_t seed)
    {
        SplitMix64 sm{seed};
        for (auto& v : s)
            v = sm.next();
    }
    static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    std::uint64_t next()
    {
        const std::uint64_t result = rotl(s[1] * 5, 7) * 9;
        const std::uint64_t t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = rotl(s[3], 45);
        return result;
    }
    double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
    std::uint64_t below(std::uint64_t n) { return static_cast<std::uint64_t>(uniform() * n); }
    double normal()
    {
        // Box-Muller; one value per call is plenty here.
        double u1 = uniform();
        if (u1 < 1e-300)
            u1 = 1e-300;
        return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * uniform());
    }
};

class BufferedWriter
{
public:
    explicit BufferedWriter(const std::string& path) : m_buf(16u << 20)
    {
        m_fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (m_fd < 0)
            throw std::runtime_error("cannot create " + path + ": " + std::strerror(errno));
    }
    ~BufferedWriter()
    {
        if (m_fd >= 0)
            ::close(m_fd);
    }
    char* reserve(std::size_t n)
    {
        if (m_used + n > m_buf.size())
            flush();
        return m_buf.data() + m_used;
    }
    void commit(std::size_t n)
    {
        m_used += n;
        m_total += n;
    }
    void write(std::string_view s)
    {
        std::memcpy(reserve(s.size()), s.data(), s.size());
        commit(s.size());
    }
    void flush()
    {
        std::size_t off = 0;
        while (off < m_used) {
            const auto w = ::write(m_fd, m_buf.data() + off, m_used - off);
            if (w < 0) {
                if (errno == EINTR)
                    continue;
                throw std::runtime_error(std::string("write failed: ") + std::strerror(errno));
            }
            off += static_cast<std::size_t>(w);
        }
        m_used = 0;
    }
    void close()
    {
        flush();
        if (::close(m_fd) != 0)
            throw std::runtime_error(std::string("close failed: ") + std::strerror(errno));
        m_fd = -1;
    }
    std::uint64_t total() const { return m_total; }

private:
    int m_fd = -1;
    std::vector<char> m_buf;
    std::size_t m_used = 0;
    std::uint64_t m_total = 0;
};

// Writes `rows` ratings in MovieLens ratings.csv layout: rows grouped by user in increasing
// userId, each user's movies in increasing movieId (as MovieLens ships them), no repeated
// (user, movie) pair. Users: ~200k ids in 1..200000, activity log-normal (heavy users). Items:
// 60k movie ids drawn from a Zipf(1.0) popularity over a shuffled id space 1..~190000 (MovieLens
// ids are sparse). Ratings 0.5..5.0 in steps of .5 with MovieLens-like frequencies. Timestamps:
// 10 digits, each user active over a random window of up to 3 years within 2001..2023.
std::uint64_t generateRatings(const std::string& path, std::int64_t rows)
{
    Xoshiro256 rng(kSeed ^ static_cast<std::uint64_t>(rows));

    // Item popularity: Zipf CDF over popularity ranks; rank -> sparse movie id.
    std::vector<double> cdf(kItems);
    double acc = 0;
    for (std::uint32_t r = 0; r < kItems; ++r) {
        acc += 1.0 / std::pow(static_cast<double>(r + 1), kZipfExponent);
        cdf[r] = acc;
    }
    for (auto& c : cdf)
        c /= acc;
    std::vector<std::uint32_t> idSpace(kItems * 3);
    for (std::uint32_t i = 0; i < idSpace.size(); ++i)
        idSpace[i] = i + 1;
    for (std::uint32_t i = 0; i < kItems; ++i)  // partial Fisher-Yates: first kItems distinct ids
        std::swap(idSpace[i], idSpace[i + rng.below(idSpace.size() - i)]);
    std::vector<std::uint32_t> movieId(idSpace.begin(), idSpace.begin() + kItems);
    // Popular movies tend to have small ids in MovieLens (older catalogue): sort the ids of the
    // top 1000 ranks so the head of the distribution gets the smallest of them.
    std::sort(movieId.begin(), movieId.begin() + 1000);

    // Ratings with MovieLens-like frequencies (0.5, 1.0, ..., 5.0).
    static const double ratingWeights[10] = {1.4, 2.9, 1.8, 7.5, 5.2, 19.8, 13.1, 26.2, 7.6, 14.5};
    static const char* ratingText[10] = {"0.5", "1.0", "1.5", "2.0", "2.5",
                                         "3.0", "3.5", "4.0", "4.5", "5.0"};
    std::array<double, 10> ratingCdf{};
    double racc = 0;
    for (int k = 0; k < 10; ++k)
        ratingCdf[k] = (racc += ratingWeights[k]);
    for (auto& c : ratingCdf)
        c /= racc;

    // Per-user counts: log-normal weights scaled to `rows`, at least 1, at most kItems/4.
    std::vector<double> w(kUsers);
    double wsum = 0;
    for (auto& x : w)
        wsum += (x = std::exp(1.1 * rng.normal()));
    std::vector<std::uint32_t> count(kUsers);
    std::int64_t assigned = 0;
    for (std::uint32_t u = 0; u < kUsers; ++u) {
        const double want = static_cast<double>(rows) * w[u] / wsum;
        count[u] = static_cast<std::uint32_t>(
            std::clamp<double>(std::floor(want), 1.0, static_cast<double>(kItems / 4)));
        assigned += count[u];
    }
    // Hand out (or take back) the remainder one row at a time, cycling over random users.
    while (assigned != rows) {
        const auto u = static_cast<std::uint32_t>(rng.below(kUsers));
        if (assigned < rows && count[u] < kItems / 4) {
            ++count[u];
            ++assigned;
        } else if (assigned > rows && count[u] > 1) {
            --count[u];
            --assigned;
        }
    }

    BufferedWriter out(path);
    out.write("userId,movieId,rating,timestamp\n");
    std::vector<std::uint32_t> stamp(kItems, 0);  // user+1 that last took the rank
    std::vector<std::uint32_t> mine;
    const std::int64_t tMin = 1000000000;  // 2001-09-09, first 10-digit second
    const std::int64_t tMax = 1700000000;  // 2023-11-14
    const std::int64_t window = 3LL * 365 * 86400;
    for (std::uint32_t u = 0; u < kUsers; ++u) {
        const std::uint32_t c = count[u];
        mine.clear();
        while (mine.size() < c) {
            const double x = rng.uniform();
            const auto r = static_cast<std::uint32_t>(std::min<std::size_t>(
                std::lower_bound(cdf.begin(), cdf.end(), x) - cdf.begin(), kItems - 1));
            if (stamp[r] == u + 1)
                continue;
            stamp[r] = u + 1;
            mine.push_back(movieId[r]);
        }
        std::sort(mine.begin(), mine.end());
        const std::int64_t start =
            tMin + static_cast<std::int64_t>(rng.below(tMax - tMin - window));
        const std::int64_t span = 1 + static_cast<std::int64_t>(rng.below(window));
        for (const std::uint32_t m : mine) {
            char* p = out.reserve(64);
            char* const begin = p;
            p = std::to_chars(p, p + 12, u + 1).ptr;
            *p++ = ',';
            p = std::to_chars(p, p + 12, m).ptr;
            *p++ = ',';
            const double x = rng.uniform();
            int k = 0;
            while (k < 9 && x > ratingCdf[k])
                ++k;
            std::memcpy(p, ratingText[k], 3);
            p += 3;
            *p++ = ',';
            p = std::to_chars(p, p + 12, start + static_cast<std::int64_t>(rng.below(span))).ptr;
            *p++ = '\n';
            out.commit(static_cast<std::size_t>(p - begin));
        }
    }
    out.close();
    return out.total();
}

// The synthetic file for `rows`, generated unless a complete one (size recorded in its .done
// marker) is already there.
std::string ensureSynthetic(const std::string& dir, std::int64_t rows, bool& generated,
                            double& genSeconds)
{
    fs::create_directories(dir);
    const std::string base =
        fmt::format("{}/ratings_synth_{}_v{}_s{}", dir, rows, kGeneratorVersion, kSeed);
    const std::string path = base + ".csv";
    const std::string marker = base + ".done";
    generated = false;
    genSeconds = 0;
    {
        std::ifstream m(marker);
        std::uint64_t expect = 0;
        if (m >> expect && expect > 0 && fileSize(path) == expect)
            return path;
    }
    const auto t0 = Clock::now();
    const std::string tmp = path + ".tmp";
    const auto bytes = generateRatings(tmp, rows);
    fs::rename(tmp, path);
    std::ofstream(marker) << bytes << "\n";
    generated = true;
    genSeconds = secondsSince(t0);
    return path;
}

// ---------------------------------------------------------------------------------------------
// Child side: one measurement, printed as "BENCH key=value ..." on stdout.

sllmr::DatasetSpec specFor(const std::string& path)
{
    sllmr::DatasetSpec spec;
    spec.path = path;
    spec.format = "auto";
    spec.split.method = "random";
    return spec;
}

double processCpuSeconds()
{
    struct rusage ru
    {};
    ::getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

int runOne(const std::string& path, const std::string& what)
{
    // Everything not being measured happens before the baseline is taken.
    const auto spec = specFor(path);
    const auto kind = sllmr::detectIdKind(path, spec);
    const long baseKb = procStatusKb("VmRSS");
    const long hwmBeforeKb = procStatusKb("VmHWM");
    std::map<std::string, std::string> kv;
    kv["what"] = what;
    kv["base_kb"] = std::to_string(baseKb);
    kv["hwm_before_kb"] = std::to_string(hwmBeforeKb);
    kv["file_bytes"] = std::to_string(fileSize(path));

    if (what == "read") {
        sllmr::IdMap users(kind);
        sllmr::IdMap items(kind);
        const double c0 = processCpuSeconds();
        const auto t0 = Clock::now();
        const auto raw = sllmr::readInteractions(path, spec, users, items, "interactions");
        const double sec = secondsSince(t0);
        kv["seconds"] = fmt::format("{:.6f}", sec);
        kv["cpu_seconds"] = fmt::format("{:.6f}", processCpuSeconds() - c0);
        kv["rows"] = std::to_string(raw.rows.size());
        kv["rows_capacity"] = std::to_string(raw.rows.capacity());
        kv["text_bytes"] = std::to_string(raw.report.bytes);
        kv["users"] = std::to_string(users.size());
        kv["items"] = std::to_string(items.size());
        kv["rss_after_kb"] = std::to_string(procStatusKb("VmRSS"));  // result still alive
    } else if (what == "load") {
        const double c0 = processCpuSeconds();
        const auto t0 = Clock::now();
        const auto ds = sllmr::loadDataset(spec);
        const double sec = secondsSince(t0);
        kv["seconds"] = fmt::format("{:.6f}", sec);
        kv["cpu_seconds"] = fmt::format("{:.6f}", processCpuSeconds() - c0);
        kv["rows"] = std::to_string(ds.report.rowsRead);
        kv["train"] = std::to_string(ds.train.size());
        kv["validation"] = std::to_string(ds.validation.size());
        kv["test"] = std::to_string(ds.test.size());
        kv["final_capacity"] =
            std::to_string(ds.train.capacity() + ds.validation.capacity() + ds.test.capacity());
        kv["text_bytes"] = std::to_string(ds.files.empty() ? 0 : ds.files[0].bytes);
        kv["users"] = std::to_string(ds.numUsers());
        kv["items"] = std::to_string(ds.numItems());
        kv["rss_after_kb"] = std::to_string(procStatusKb("VmRSS"));  // dataset still alive
    } else {
        fmt::print(stderr, "bench_parse: unknown --what '{}'\n", what);
        return 2;
    }
    kv["hwm_kb"] = std::to_string(procStatusKb("VmHWM"));
    std::string line = "BENCH";
    for (const auto& [k, v] : kv)
        line += " " + k + "=" + v;
    fmt::print("{}\n", line);
    std::fflush(stdout);
    return 0;
}

// ---------------------------------------------------------------------------------------------
// Parent side: spawn children and collect their results.

struct Sample
{
    std::map<std::string, std::string> kv;
    long ruMaxRssKb = 0;  // from wait4(): the child's peak RSS as the kernel saw it
    double num(const std::string& k) const
    {
        auto it = kv.find(k);
        return it == kv.end() ? 0.0 : std::strtod(it->second.c_str(), nullptr);
    }
};

std::optional<Sample> spawnOne(const std::string& exe, const std::string& path,
                               const std::string& what)
{
    int fds[2];
    if (::pipe(fds) != 0)
        return std::nullopt;
    const pid_t pid = ::fork();
    if (pid < 0) {
        ::close(fds[0]);
        ::close(fds[1]);
        return std::nullopt;
    }
    if (pid == 0) {
        ::dup2(fds[1], STDOUT_FILENO);
        ::close(fds[0]);
        ::close(fds[1]);
        const char* argv[] = {exe.c_str(), "--one", path.c_str(), "--what", what.c_str(), nullptr};
        ::execv(exe.c_str(), const_cast<char* const*>(argv));
        std::_Exit(127);
    }
    ::close(fds[1]);
    std::string out;
    char buf[4096];
    for (;;) {
        const auto n = ::read(fds[0], buf, sizeof buf);
        if (n > 0)
            out.append(buf, static_cast<std::size_t>(n));
        else if (n == 0 || errno != EINTR)
            break;
    }
    ::close(fds[0]);
    int status = 0;
    struct rusage ru
    {};
    while (::wait4(pid, &status, 0, &ru) < 0 && errno == EINTR) {}
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fmt::print(stderr, "bench_parse: child for {} ({}) failed (status {})\n", path, what,
                   status);
        return std::nullopt;
    }
    const auto at = out.find("BENCH ");
    if (at == std::string::npos)
        return std::nullopt;
    Sample s;
    std::istringstream in(out.substr(at + 6));
    std::string tok;
    while (in >> tok) {
        const auto eq = tok.find('=');
        if (eq != std::string::npos)
            s.kv[tok.substr(0, eq)] = tok.substr(eq + 1);
    }
    s.ruMaxRssKb = ru.ru_maxrss;
    return s;
}

// Best-of-`reps` time; peak memory is the largest seen over the repetitions.
struct Result
{
    std::string label;
    std::string path;
    bool attempted = false;  // false: not requested (--no-load)
    bool ok = false;
    int reps = 0;
    double seconds = 0;  // best
    double secondsMedian = 0;
    double cpuSeconds = 0;  // best user+sys CPU time of the measured call
    double rows = 0;
    double fileBytes = 0;
    double baseKb = 0;      // RSS before the measured call
    double hwmKb = 0;       // peak RSS (VmHWM) of the child
    double ruMaxRssKb = 0;  // same, from wait4()
    double rowsCapacity = 0;
    double rssAfterKb = 0;
    double users = 0;
    double items = 0;
    double train = 0, validation = 0, test = 0, finalCapacity = 0;

    double peakDeltaBytes() const { return (hwmKb - baseKb) * 1024.0; }
    double arrayBytes() const  // loaded arrays: rows capacity + both id maps (approx)
    {
        return rowsCapacity * sizeof(sllmr::Interaction) +
               static_cast<double>(idMapBytesApprox(static_cast<std::uint64_t>(users)) +
                                   idMapBytesApprox(static_cast<std::uint64_t>(items)));
    }
    double usedBytes() const  // the same with rows.size() instead of the capacity
    {
        return rows * sizeof(sllmr::Interaction) +
               static_cast<double>(idMapBytesApprox(static_cast<std::uint64_t>(users)) +
                                   idMapBytesApprox(static_cast<std::uint64_t>(items)));
    }
    double mbps() const { return fileBytes / 1e6 / seconds; }
    double rowsPerSec() const { return rows / seconds; }
    double nsPerRow() const { return seconds * 1e9 / rows; }
};

Result measure(const std::string& exe, const std::string& label, const std::string& path,
               const std::string& what, int reps)
{
    Result r;
    r.label = label;
    r.path = path;
    r.attempted = true;
    std::vector<double> times;
    std::vector<double> cpus;
    for (int i = 0; i < reps; ++i) {
        auto s = spawnOne(exe, path, what);
        if (!s)
            return r;
        times.push_back(s->num("seconds"));
        cpus.push_back(s->num("cpu_seconds"));
        r.rows = s->num("rows");
        r.fileBytes = s->num("file_bytes");
        r.baseKb = std::max(r.baseKb, s->num("base_kb"));
        r.hwmKb = std::max(r.hwmKb, s->num("hwm_kb"));
        r.ruMaxRssKb = std::max(r.ruMaxRssKb, static_cast<double>(s->ruMaxRssKb));
        r.rowsCapacity = s->num("rows_capacity");
        r.rssAfterKb = std::max(r.rssAfterKb, s->num("rss_after_kb"));
        r.users = s->num("users");
        r.items = s->num("items");
        r.train = s->num("train");
        r.validation = s->num("validation");
        r.test = s->num("test");
        r.finalCapacity = s->num("final_capacity");
        fmt::print(stderr,
                   "  {:<10} {:<5} rep {}/{}: {:.3f} s (cpu {:.3f} s), peak RSS {:.1f} MiB\n",
                   label, what, i + 1, reps, times.back(), cpus.back(), s->num("hwm_kb") / 1024.0);
    }
    if (times.empty())
        return r;
    std::sort(times.begin(), times.end());
    r.reps = reps;
    r.seconds = times.front();
    r.secondsMedian = times[times.size() / 2];
    r.cpuSeconds = *std::min_element(cpus.begin(), cpus.end());
    r.ok = r.seconds > 0 && r.rows > 0;
    return r;
}

// ---------------------------------------------------------------------------------------------
// Breakdown: where readInteractions spends its time, as cumulative passes over one file built
// from the same public core pieces it uses (LineReader, Hasher, splitFields, parse*, IdMap).

int runBreakdown(const std::string& path, int reps)
{
    using namespace sllmr;
    const double bytes = static_cast<double>(fileSize(path));
    const std::string fileStr = path;
    struct Stage
    {
        const char* name;
        int level;
    };
    const Stage stages[] = {
        {"read(2) 1 MiB chunks (no parsing)", 0},
        {"LineReader::next, checkUtf8=false", 1},
        {"LineReader::next, checkUtf8=true", 2},
        {"+ Hasher (content hash, 2 add() per line)", 3},
        {"+ trimmed + splitFields", 4},
        {"+ parseId x2, parseNumber, parseInteger", 5},
        {"+ IdMap::intern x2", 6},
        {"+ push_back Interaction (= readInteractions core loop)", 7},
        {"readInteractions (full call)", 8},
    };
    std::vector<double> best(std::size(stages), 1e300);
    volatile std::uint64_t sink = 0;
    for (int rep = 0; rep < reps; ++rep) {
        for (std::size_t si = 0; si < std::size(stages); ++si) {
            const int level = stages[si].level;
            const auto t0 = Clock::now();
            std::uint64_t acc = 0;
            if (level == 8) {
                IdMap users(IdMap::Kind::Integer);
                IdMap items(IdMap::Kind::Integer);
                const auto raw =
                    readInteractions(path, specFor(path), users, items, "interactions");
                acc += raw.rows.size();
            } else if (level == 0) {
                const int fd = ::open(path.c_str(), O_RDONLY);
                std::vector<char> buf(1u << 20);
                for (;;) {
                    const auto n = ::read(fd, buf.data(), buf.size());
                    if (n <= 0)
                        break;
                    acc += static_cast<std::uint64_t>(n) + static_cast<unsigned char>(buf[0]);
                }
                ::close(fd);
            } else {
                LineReader::Options opt;
                opt.checkUtf8 = level >= 2;
                LineReader reader(path, opt);
                Hasher hasher;
                IdMap users(IdMap::Kind::Integer);
                IdMap items(IdMap::Kind::Integer);
                std::vector<Interaction> rows;
                if (level >= 7)
                    rows.reserve(static_cast<std::size_t>(bytes / 20));
                std::vector<std::string_view> f;
                FieldContext ctx{&fileStr, 0};
                std::string_view line;
                bool header = true;
                while (reader.next(line)) {
                    acc += line.size();
                    if (level >= 3) {
                        hasher.add(line);
                        hasher.add(std::string_view("\n"));
                    }
                    if (header) {
                        header = false;
                        continue;
                    }
                    if (level < 4)
                        continue;
                    if (trimmed(line).empty())
                        continue;
                    splitFields(line, ",", f);
                    acc += f.size();
                    if (level < 5)
                        continue;
                    ctx.line = reader.lineNumber();
                    const auto u = parseId(f[0], ctx, "user id");
                    const auto rating = static_cast<float>(parseNumber(f[2], ctx, "rating"));
                    const auto time = parseInteger(f[3], ctx, "timestamp");
                    const auto i = parseId(trimmed(f[1]), ctx, "item id");
                    if (level < 6) {
                        acc += u + i + static_cast<std::uint64_t>(time) +
                               static_cast<std::uint64_t>(rating);
                        continue;
                    }
                    Interaction it;
                    it.user = users.intern(u);
                    it.item = items.intern(i);
                    it.rating = rating;
                    it.time = time;
                    if (level < 7) {
                        acc += it.user + it.item;
                        continue;
                    }
                    it.order = static_cast<std::uint32_t>(rows.size());
                    rows.push_back(it);
                }
                acc += hasher.value() + rows.size();
            }
            best[si] = std::min(best[si], secondsSince(t0));
            sink = sink + acc;
        }
    }
    const double full = best.back();
    fmt::print(
        "Breakdown of readInteractions on {} ({:.1f} MB), best of {} interleaved passes "
        "in one process:\n\n",
        path, bytes / 1e6, reps);
    fmt::print("| stage (cumulative) | s | MB/s | added s | share of full |\n");
    fmt::print("|---|---:|---:|---:|---:|\n");
    double prev = 0;
    for (std::size_t si = 0; si + 1 < std::size(stages); ++si) {
        const double added = si == 0 ? best[si] : best[si] - prev;
        fmt::print("| {} | {:.3f} | {:.0f} | {:+.3f} | {:.0f}% |\n", stages[si].name, best[si],
                   bytes / 1e6 / best[si], added, 100.0 * added / full);
        prev = best[si];
    }
    fmt::print(
        "| readInteractions (full call; the rest is the reserve-from-header-line regrowth "
        "and per-row bookkeeping) | {:.3f} | {:.0f} | {:+.3f} | 100% |\n",
        full, bytes / 1e6 / full, full - prev);
    return 0;
}

// ---------------------------------------------------------------------------------------------
// Report

std::string mb(double bytes)
{
    return fmt::format("{:.1f}", bytes / 1e6);
}
std::string mib(double bytes)
{
    return fmt::format("{:.1f}", bytes / 1048576.0);
}

struct FileRun
{
    std::string label;
    std::string path;
    bool synthetic = false;
    std::int64_t requestedRows = 0;
    Result read;
    Result load;
};

std::string buildReport(const std::vector<FileRun>& runs, const std::string& machine)
{
    std::string md;
    auto add = [&](const std::string& s) { md += s; };
    add("## bench_parse results\n\n");
    add(machine);
    add("\n### readInteractions\n\n");
    add("Time: best wall-clock time over N fresh child processes (cpu s: best user+sys CPU time of "
        "the same call, less sensitive to other load on the machine). MB = 10^6 bytes of file; "
        "peak = VmHWM of the "
        "child minus its RSS before the call (baseline: the process with its shared libraries "
        "loaded); arrays = rows.capacity() x 24 B + both IdMaps (~48 B/id); used = the same with "
        "rows.size(). Untouched capacity is not "
        "resident, so peak/used is the stricter ratio.\n\n");
    add("| file | rows | file MB | B/row | best s (N) | cpu s | M rows/s | MB/s | ns/row | peak "
        "RSS MiB "
        "(abs) | peak delta MiB | rows capacity | arrays MiB | used MiB | peak B/row | peak/arrays "
        "| "
        "peak/used |\n");
    add("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (const auto& fr : runs) {
        const auto& r = fr.read;
        if (!r.ok) {
            add(fmt::format("| {} | failed | | | | | | | | | | | | | | | |\n", fr.label));
            continue;
        }
        add(fmt::format(
            "| {} | {} | {} | {:.1f} | {:.3f} ({}) | {:.3f} | {:.2f} | {:.0f} | {:.0f} | {} | {} | "
            "{} | {} | {} | {:.1f} | {:.2f} | {:.2f} |\n",
            fr.label, static_cast<std::int64_t>(r.rows), mb(r.fileBytes), r.fileBytes / r.rows,
            r.seconds, r.reps, r.cpuSeconds, r.rowsPerSec() / 1e6, r.mbps(), r.nsPerRow(),
            mib(r.hwmKb * 1024.0), mib(r.peakDeltaBytes()),
            static_cast<std::int64_t>(r.rowsCapacity), mib(r.arrayBytes()), mib(r.usedBytes()),
            r.peakDeltaBytes() / r.rows, r.peakDeltaBytes() / r.arrayBytes(),
            r.peakDeltaBytes() / r.usedBytes()));
    }
    const bool anyLoad =
        std::any_of(runs.begin(), runs.end(), [](const FileRun& fr) { return fr.load.attempted; });
    if (anyLoad)
        add("\n### loadDataset (split \"random\", default options: test 0.2, validation ratio 0.1, "
            "duplicates first, no k-core)\n\n");
    if (anyLoad)
        add("| file | rows | users | items | train/val/test | best s (N) | cpu s | M rows/s | MB/s "
            "| ns/row "
            "| peak RSS MiB (abs) | peak delta MiB | dataset RSS delta MiB | peak B/row | peak / "
            "readInteractions arrays |\n");
    if (anyLoad)
        add("|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (const auto& fr : runs) {
        const auto& r = fr.load;
        if (!r.attempted)
            continue;
        if (!r.ok) {
            add(fmt::format("| {} | failed | | | | | | | | | | | | | |\n", fr.label));
            continue;
        }
        add(fmt::format(
            "| {} | {} | {} | {} | {}/{}/{} | {:.3f} ({}) | {:.3f} | {:.2f} | {:.0f} | {:.0f} | {} "
            "| {} | "
            "{} | {:.1f} | {:.2f} |\n",
            fr.label, static_cast<std::int64_t>(r.rows), static_cast<std::int64_t>(r.users),
            static_cast<std::int64_t>(r.items), static_cast<std::int64_t>(r.train),
            static_cast<std::int64_t>(r.validation), static_cast<std::int64_t>(r.test), r.seconds,
            r.reps, r.cpuSeconds, r.rowsPerSec() / 1e6, r.mbps(), r.nsPerRow(),
            mib(r.hwmKb * 1024.0), mib(r.peakDeltaBytes()), mib((r.rssAfterKb - r.baseKb) * 1024.0),
            r.peakDeltaBytes() / r.rows,
            fr.read.ok ? r.peakDeltaBytes() / fr.read.arrayBytes() : 0.0));
    }

    // Targets.
    add("\n### Targets\n\n");
    std::vector<const FileRun*> synth;
    for (const auto& fr : runs)
        if (fr.synthetic && fr.read.ok)
            synth.push_back(&fr);
    std::sort(synth.begin(), synth.end(),
              [](const FileRun* a, const FileRun* b) { return a->read.rows < b->read.rows; });
    if (!synth.empty()) {
        const FileRun& big = *synth.back();
        const bool is10M = big.read.rows >= 1e7;
        const double v = big.read.mbps();
        add(fmt::format("- readInteractions >= 100 MB/s on the {} file{}: {:.0f} MB/s -> **{}**\n",
                        big.label, is10M ? "" : " (largest run; the target is for 10M)", v,
                        v >= 100 ? "PASS" : "FAIL"));

        // Linearity: per-row time and memory should not grow with the row count.
        if (synth.size() >= 2) {
            double tMin = 1e300, tMax = 0, mMin = 1e300, mMax = 0, lMin = 1e300, lMax = 0;
            std::string perRow;
            for (const auto* fr : synth) {
                tMin = std::min(tMin, fr->read.nsPerRow());
                tMax = std::max(tMax, fr->read.nsPerRow());
                const double m = fr->read.peakDeltaBytes() / fr->read.rows;
                mMin = std::min(mMin, m);
                mMax = std::max(mMax, m);
                if (fr->load.ok) {
                    lMin = std::min(lMin, fr->load.nsPerRow());
                    lMax = std::max(lMax, fr->load.nsPerRow());
                }
                perRow += fmt::format("  - {}: readInteractions {:.0f} ns/row, {:.1f} B/row peak",
                                      fr->label, fr->read.nsPerRow(), m);
                if (fr->load.ok)
                    perRow +=
                        fmt::format("; loadDataset {:.0f} ns/row, {:.1f} B/row peak",
                                    fr->load.nsPerRow(), fr->load.peakDeltaBytes() / fr->load.rows);
                perRow += "\n";
            }
            // Memory is a fixed part (id maps, line buffer) plus a per-row part: linear growth
            // means the marginal bytes per added row are the same between every pair of sizes.
            double sMin = 1e300, sMax = 0;
            for (std::size_t k = 1; k < synth.size(); ++k) {
                const double dRows = synth[k]->read.rows - synth[k - 1]->read.rows;
                const double slope =
                    (synth[k]->read.peakDeltaBytes() - synth[k - 1]->read.peakDeltaBytes()) / dRows;
                sMin = std::min(sMin, slope);
                sMax = std::max(sMax, slope);
                perRow += fmt::format("  - {} -> {}: {:.1f} B per added row\n", synth[k - 1]->label,
                                      synth[k]->label, slope);
            }
            const bool timeLinear = tMax / tMin <= 1.5;
            const bool memLinear = sMin > 0 && sMax / sMin <= 1.5;
            add(
                fmt::format("- time roughly linear in rows (readInteractions ns/row max/min <= 1.5 "
                            "over the synthetic sizes): {:.2f} -> **{}**\n",
                            tMax / tMin, timeLinear ? "PASS" : "FAIL"));
            add(fmt::format(
                "- memory linear in rows (readInteractions marginal peak bytes per added "
                "row, max/min <= 1.5; average B/row {:.1f}..{:.1f} includes the fixed "
                "part): {:.2f} -> **{}**\n",
                mMin, mMax, sMin > 0 ? sMax / sMin : 0.0, memLinear ? "PASS" : "FAIL"));
            if (lMax > 0)
                add(
                    fmt::format("- (info) loadDataset ns/row max/min: {:.2f} (includes an "
                                "O(n log n) sort)\n",
                                lMax / lMin));
            add("- per-row cost by size:\n");
            add(perRow);
        } else {
            add("- linearity: needs at least two synthetic sizes\n");
        }
    }
    bool allUnder = true;
    std::string detail;
    for (const auto& fr : runs) {
        if (!fr.read.ok)
            continue;
        const double ratio = fr.read.peakDeltaBytes() / fr.read.arrayBytes();
        allUnder = allUnder && ratio < 2.0;
        detail += fmt::format("{}{} {:.2f}", detail.empty() ? "" : ", ", fr.label, ratio);
    }
    add(fmt::format("- readInteractions peak memory (delta) < 2x the loaded arrays: {} -> **{}**\n",
                    detail, allUnder ? "PASS" : "FAIL"));
    bool usedUnder = true;
    std::string udetail;
    for (const auto& fr : runs) {
        if (!fr.read.ok || !fr.synthetic)
            continue;
        const double ratio = fr.read.peakDeltaBytes() / fr.read.usedBytes();
        usedUnder = usedUnder && ratio < 2.0;
        udetail += fmt::format("{}{} {:.2f}", udetail.empty() ? "" : ", ", fr.label, ratio);
    }
    add(fmt::format(
        "- (stricter, info) readInteractions peak memory (delta) < 2x the used arrays "
        "(rows.size()), synthetic files: {} -> **{}** (not applied to the small real file, "
        "where fixed costs such as the 2 MiB line buffer dominate)\n",
        udetail, usedUnder ? "PASS" : "FAIL"));
    bool loadUnder = true;
    std::string ldetail;
    for (const auto& fr : runs) {
        if (!fr.read.ok || !fr.load.ok)
            continue;
        const double ratio = fr.load.peakDeltaBytes() / fr.read.arrayBytes();
        loadUnder = loadUnder && ratio < 2.0;
        ldetail += fmt::format("{}{} {:.2f}", ldetail.empty() ? "" : ", ", fr.label, ratio);
    }
    if (!ldetail.empty())
        add(
            fmt::format("- loadDataset peak memory (delta) < 2x the arrays readInteractions "
                        "loads: {} -> **{}**\n",
                        ldetail, loadUnder ? "PASS" : "FAIL"));
    double worst = 0;
    for (const auto& fr : runs)
        for (const Result* r : {&fr.read, &fr.load})
            if (r->ok)
                worst = std::max(worst, std::abs(r->hwmKb - r->ruMaxRssKb));
    add(
        fmt::format("\nCross-check: VmHWM read in the child and ru_maxrss from wait4() differ by "
                    "at most {:.1f} MiB.\n",
                    worst / 1024.0));
    return md;
}

std::string machineLine()
{
    std::string cpu = "unknown";
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("model name", 0) == 0) {
            cpu = line.substr(line.find(':') + 2);
            break;
        }
    long memKb = 0;
    {
        std::ifstream mi("/proc/meminfo");
        std::string k;
        while (mi >> k) {
            if (k == "MemTotal:") {
                mi >> memKb;
                break;
            }
            mi.ignore(1 << 20, '\n');
        }
    }
    return fmt::format("Machine: {} CPU(s) online (sysconf), CPU '{}', {:.1f} GiB RAM.\n",
                       ::sysconf(_SC_NPROCESSORS_ONLN), cpu, memKb / 1048576.0);
}

void usage()
{
    fmt::print(
        "usage: bench_parse [options]\n"
        "  --movielens PATH   real ratings.csv (default {})\n"
        "  --scratch DIR      where synthetic files are generated/reused (default {})\n"
        "  --sizes N,N,...    synthetic row counts (default 1000000,2500000,5000000,10000000)\n"
        "  --quick            only 1M rows and the real file\n"
        "  --reps N           child processes per synthetic measurement (default 3; real file: 5)\n"
        "  --markdown FILE    also write the markdown report to FILE\n"
        "  --no-load          skip the loadDataset measurements\n"
        "  --breakdown FILE   time cumulative stages of readInteractions on FILE and exit\n"
        "  --generate-only    create the synthetic files and exit\n"
        "internal: --one FILE --what read|load   one measurement in this process\n",
        SLLMR_SHARED_DATA "/ml-latest-small/ratings.csv", SLLMR_BENCH_SCRATCH);
}

}  // namespace

int main(int argc, char** argv)
{
    std::string movielens = SLLMR_SHARED_DATA "/ml-latest-small/ratings.csv";
    std::string scratch = SLLMR_BENCH_SCRATCH;
    std::vector<std::int64_t> sizes = {1000000, 2500000, 5000000, 10000000};
    std::string markdown;
    std::string one;
    std::string what = "read";
    std::string breakdown;
    bool quick = false;
    bool noLoad = false;
    bool generateOnly = false;
    int reps = 3;

    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                fmt::print(stderr, "bench_parse: {} needs a value\n", a);
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--movielens")
            movielens = value();
        else if (a == "--scratch")
            scratch = value();
        else if (a == "--markdown")
            markdown = value();
        else if (a == "--one")
            one = value();
        else if (a == "--what")
            what = value();
        else if (a == "--breakdown")
            breakdown = value();
        else if (a == "--reps")
            reps = std::max(1, std::atoi(value().c_str()));
        else if (a == "--quick")
            quick = true;
        else if (a == "--no-load")
            noLoad = true;
        else if (a == "--generate-only")
            generateOnly = true;
        else if (a == "--sizes") {
            sizes.clear();
            std::stringstream ss(value());
            std::string tok;
            while (std::getline(ss, tok, ','))
                if (!tok.empty())
                    sizes.push_back(std::atoll(tok.c_str()));
        } else if (a == "-h" || a == "--help") {
            usage();
            return 0;
        } else {
            fmt::print(stderr, "bench_parse: unknown option '{}'\n", a);
            usage();
            return 2;
        }
    }

    try {
        if (!one.empty())
            return runOne(one, what);
        if (!breakdown.empty())
            return runBreakdown(breakdown, reps);

        if (quick)
            sizes = {1000000};
        const std::string exe = selfExe();
        if (exe.empty()) {
            fmt::print(stderr, "bench_parse: cannot resolve /proc/self/exe\n");
            return 1;
        }

        std::vector<FileRun> runs;
        if (!generateOnly) {
            if (fs::exists(movielens)) {
                FileRun fr;
                fr.label = "MovieLens";
                fr.path = movielens;
                fmt::print(stderr, "real file {}\n", movielens);
                fr.read = measure(exe, fr.label, movielens, "read", 5);
                if (!noLoad)
                    fr.load = measure(exe, fr.label, movielens, "load", 5);
                runs.push_back(fr);
            } else {
                fmt::print(stderr, "bench_parse: {} not found; skipping the real file\n",
                           movielens);
            }
        }
        for (const auto n : sizes) {
            if (n <= 0)
                continue;
            bool generated = false;
            double genSeconds = 0;
            const auto path = ensureSynthetic(scratch, n, generated, genSeconds);
            if (generated)
                fmt::print(stderr, "generated {} ({:.1f} MB) in {:.1f} s\n", path,
                           static_cast<double>(fileSize(path)) / 1e6, genSeconds);
            else
                fmt::print(stderr, "reusing {}\n", path);
            if (generateOnly)
                continue;
            FileRun fr;
            fr.label = "synth " + humanRows(n);
            fr.path = path;
            fr.synthetic = true;
            fr.requestedRows = n;
            fr.read = measure(exe, fr.label, path, "read", reps);
            if (!noLoad)
                fr.load = measure(exe, fr.label, path, "load", reps);
            runs.push_back(fr);
        }
        if (generateOnly)
            return 0;

        const std::string md = buildReport(runs, machineLine());
        fmt::print("{}", md);
        if (!markdown.empty()) {
            std::ofstream out(markdown);
            out << md;
            if (!out)
                fmt::print(stderr, "bench_parse: cannot write {}\n", markdown);
        }
    } catch (const sllmr::Error& e) {
        fmt::print(stderr, "bench_parse: {} ({}:{}) {}\n", e.problem(), e.file(), e.line(),
                   e.hint());
        return 1;
    } catch (const std::exception& e) {
        fmt::print(stderr, "bench_parse: {}\n", e.what());
        return 1;
    }
    return 0;
}
