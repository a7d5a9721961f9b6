#include "llm/prompts.h"

#include "common/error.h"
#include "common/hash.h"
#include "data/segments.h"

#include <nlohmann/json.hpp>

#include <unistd.h>
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>
#include <sstream>
#include <unordered_set>

namespace sllmr {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::uint64_t mix(std::uint64_t a, std::uint64_t b)
{
    std::uint64_t x = a ^ (b + 0x9e3779b97f4a7c15ULL + (a << 6) + (a >> 2));
    x ^= x >> 31;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    return x;
}

// Draws up to `count` items from `pool` (in random order) that are not in `exclude`, adding them
// to `exclude` and `out`.
void drawFrom(const std::vector<std::uint32_t>& pool, int count, std::mt19937_64& rng,
              std::unordered_set<std::uint32_t>& exclude, std::vector<std::uint32_t>& out)
{
    if (count <= 0 || pool.empty())
        return;
    std::vector<std::uint32_t> open;
    open.reserve(pool.size());
    for (auto i : pool)
        if (!exclude.count(i))
            open.push_back(i);
    // Partial Fisher-Yates: the first `count` positions.
    const std::size_t take = std::min<std::size_t>(static_cast<std::size_t>(count), open.size());
    for (std::size_t k = 0; k < take; ++k) {
        std::uniform_int_distribution<std::size_t> pick(k, open.size() - 1);
        std::swap(open[k], open[pick(rng)]);
        exclude.insert(open[k]);
        out.push_back(open[k]);
    }
}

std::string title(const Dataset& ds, std::uint32_t item)
{
    if (ds.itemInfo.hasTitles() && item < ds.itemInfo.titles.size() &&
        !ds.itemInfo.titles[item].empty())
        return ds.itemInfo.titles[item];
    return "item " + ds.items.label(item);
}

void replaceAll(std::string& s, std::string_view from, const std::string& to)
{
    std::size_t pos = 0;
    while ((pos = s.find(from, pos)) != std::string::npos) {
        s.replace(pos, from.size(), to);
        pos += to.size();
    }
}

const char* const kPlaceholders[] = {"{{history}}",         "{{history_count}}", "{{candidates}}",
                                     "{{candidate_count}}", "{{output_format}}", "{{user_id}}"};

}  // namespace

std::vector<UserPlan> planCandidates(const Dataset& ds, const CandidateSpec& spec)
{
    if (spec.history < 0 || spec.candidates < 1 || spec.popularPool < 1 || spec.coldExtra < 0 ||
        spec.tailExtra < 0 || spec.maxUsers < 0)
        throw Error(ErrorKind::Usage,
                    "candidate settings must be positive (history >= 0, candidates >= 1, "
                    "pool >= 1, extras >= 0)");
    if (spec.users != "all" && spec.users != "cold" && spec.users != "warm")
        throw Error(ErrorKind::Usage, "users '" + spec.users + "' is not all, cold or warm");
    // Items by training popularity, most popular first (ties by index: deterministic).
    std::vector<std::uint32_t> byPop(ds.numItems());
    std::iota(byPop.begin(), byPop.end(), 0u);
    std::stable_sort(byPop.begin(), byPop.end(), [&](std::uint32_t a, std::uint32_t b) {
        return ds.popularity[a] > ds.popularity[b];
    });
    std::vector<std::uint32_t> popular(
        byPop.begin(), byPop.begin() + std::min<std::size_t>(byPop.size(), spec.popularPool));
    std::vector<std::uint32_t> tail;
    for (std::uint32_t i = 0; i < ds.numItems(); ++i)
        if (ds.popularity[i] > 0 && isTailItem(ds.popularity[i], spec.tauItem))
            tail.push_back(i);

    const auto offsets = ds.trainOffsets();
    // Known positives are never offered: training history and validation.
    std::vector<std::vector<std::uint32_t>> validation(ds.numUsers());
    for (const auto& r : ds.validation)
        validation[r.user].push_back(r.item);

    std::vector<UserPlan> plans;
    for (std::uint32_t u = 0; u < ds.numUsers(); ++u) {
        const auto begin = offsets[u];
        const auto end = offsets[u + 1];
        if (begin == end)
            continue;  // no history to show
        const bool cold = isColdUser(ds.historyLength[u], spec.tauUser);
        if ((spec.users == "cold" && !cold) || (spec.users == "warm" && cold))
            continue;
        if (spec.maxUsers > 0 && plans.size() >= static_cast<std::size_t>(spec.maxUsers))
            break;
        UserPlan p;
        p.user = u;
        p.cold = cold;
        const auto shown = std::min<std::uint32_t>(end - begin, spec.history);
        for (auto k = end - shown; k < end; ++k)
            p.history.push_back(ds.train[k].item);
        std::unordered_set<std::uint32_t> exclude;
        for (auto k = begin; k < end; ++k)
            exclude.insert(ds.train[k].item);
        for (auto i : validation[u])
            exclude.insert(i);
        Hasher userHash;
        userHash.add(ds.users.label(u));
        std::mt19937_64 rng(mix(spec.seed, userHash.value()));
        drawFrom(popular, spec.candidates + (cold ? spec.coldExtra : 0), rng, exclude,
                 p.candidates);
        drawFrom(tail, spec.tailExtra, rng, exclude, p.candidates);
        plans.push_back(std::move(p));
    }
    return plans;
}

PromptTemplate PromptTemplate::fromText(std::string text, std::string name)
{
    for (const char* need : {"{{candidates}}", "{{output_format}}"})
        if (text.find(need) == std::string::npos)
            throwBadInput(name, 0, std::string("the prompt template has no ") + need,
                          "add it where the candidate list (or the answer format) belongs");
    // Anything else in double braces is a misspelt placeholder.
    for (std::size_t pos = text.find("{{"); pos != std::string::npos;
         pos = text.find("{{", pos + 2)) {
        const auto close = text.find("}}", pos);
        const std::string ph = text.substr(pos, close == std::string::npos ? 20 : close + 2 - pos);
        if (std::find(std::begin(kPlaceholders), std::end(kPlaceholders), ph) ==
            std::end(kPlaceholders)) {
            const auto line = 1 + std::count(text.begin(), text.begin() + pos, '\n');
            throwBadInput(name, line, "unknown placeholder " + ph,
                          "use {{history}}, {{history_count}}, {{candidates}}, "
                          "{{candidate_count}}, {{output_format}} or {{user_id}}");
        }
    }
    PromptTemplate t;
    t.path = std::move(name);
    t.hash = hashHex(text);
    t.text = std::move(text);
    return t;
}

PromptTemplate PromptTemplate::load(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw Error(ErrorKind::NotFound, "cannot open the prompt template", path, 0,
                    "check the path (the default is resources/prompts/score-candidates.txt)");
    std::stringstream ss;
    ss << in.rdbuf();
    return fromText(ss.str(), path);
}

std::string PromptTemplate::defaultPath()
{
    const char* rel = "score-candidates.txt";
    std::error_code ec;
    if (const char* env = std::getenv("SLLMR_PROMPTS_DIR"); env && fs::is_directory(env, ec))
        return (fs::path(env) / rel).string();
    char exe[4096];
    const auto n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        const auto installed = fs::path(exe).parent_path() / ".." / "share" / "sllmr" / "prompts";
        if (fs::is_directory(installed, ec))
            return (installed / rel).lexically_normal().string();
    }
#ifdef SLLMR_DEMO_DIR_DEV
    return (fs::path(SLLMR_DEMO_DIR_DEV) / ".." / "prompts" / rel).lexically_normal().string();
#else
    return rel;
#endif
}

std::string outputFormatText()
{
    return "Answer with JSON only, exactly in this form, one entry per candidate:\n"
           "{\"scores\": [{\"item_id\": <item_id>, \"score\": <number between 0 and 1>}, ...]}";
}

std::string renderPrompt(const PromptTemplate& tmpl, const Dataset& ds, const UserPlan& plan)
{
    std::string history;
    for (auto i : plan.history) {
        history += "- " + title(ds, i);
        history += '\n';
    }
    if (!history.empty())
        history.pop_back();
    std::string candidates;
    for (auto i : plan.candidates)
        candidates += "- [" + ds.items.label(i) + "] " + title(ds, i) + '\n';
    if (!candidates.empty())
        candidates.pop_back();
    std::string out = tmpl.text;
    replaceAll(out, "{{history}}", history);
    replaceAll(out, "{{history_count}}", std::to_string(plan.history.size()));
    replaceAll(out, "{{candidates}}", candidates);
    replaceAll(out, "{{candidate_count}}", std::to_string(plan.candidates.size()));
    replaceAll(out, "{{output_format}}", outputFormatText());
    replaceAll(out, "{{user_id}}", ds.users.label(plan.user));
    while (!out.empty() && (out.back() == '\n' || out.back() == ' '))
        out.pop_back();
    return out;
}

namespace {

// Candidate JSON texts inside `text`: fenced blocks first, then every balanced {...} or [...]
// span starting at an opening bracket (strings respected), longest first.
std::vector<std::string> jsonCandidates(std::string_view text)
{
    std::vector<std::string> out;
    for (std::size_t pos = text.find("```"); pos != std::string_view::npos;) {
        auto start = text.find('\n', pos);
        if (start == std::string_view::npos)
            break;
        const auto end = text.find("```", start);
        out.emplace_back(text.substr(
            start + 1, end == std::string_view::npos ? std::string_view::npos : end - start - 1));
        if (end == std::string_view::npos)
            break;
        pos = text.find("```", end + 3);
    }
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '{' && text[i] != '[')
            continue;
        int depth = 0;
        bool inString = false;
        for (std::size_t k = i; k < text.size(); ++k) {
            const char c = text[k];
            if (inString) {
                if (c == '\\')
                    ++k;
                else if (c == '"')
                    inString = false;
                continue;
            }
            if (c == '"')
                inString = true;
            else if (c == '{' || c == '[')
                ++depth;
            else if (c == '}' || c == ']') {
                if (--depth == 0) {
                    out.emplace_back(text.substr(i, k - i + 1));
                    i = k;
                    break;
                }
            }
        }
    }
    return out;
}

std::optional<std::string> idText(const json& v)
{
    if (v.is_string())
        return v.get<std::string>();
    if (v.is_number_unsigned())
        return std::to_string(v.get<std::uint64_t>());
    if (v.is_number_integer() && v.get<std::int64_t>() >= 0)
        return std::to_string(v.get<std::int64_t>());
    return std::nullopt;
}

std::optional<double> scoreValue(const json& v)
{
    if (v.is_number())
        return v.get<double>();
    if (v.is_string()) {
        try {
            std::size_t used = 0;
            const double d = std::stod(v.get<std::string>(), &used);
            return d;
        } catch (const std::logic_error&) {}
    }
    return std::nullopt;
}

using Names = std::initializer_list<const char*>;
constexpr Names kIdFields = {"item_id", "itemId", "id", "item", "movie_id", "movieId"};
constexpr Names kScoreFields = {"score", "relevance", "probability", "rating", "value"};

bool isFieldName(const std::string& key)
{
    for (Names names : {kIdFields, kScoreFields})
        for (const char* n : names)
            if (key == n)
                return true;
    return false;
}

const json* field(const json& obj, Names names)
{
    for (const char* n : names)
        if (auto it = obj.find(n); it != obj.end())
            return &*it;
    return nullptr;
}

// (id text, score) pairs from one JSON value; false when its shape is not a score list.
bool extract(const json& j, std::vector<std::pair<std::string, double>>& out)
{
    const json* list = nullptr;
    if (j.is_array())
        list = &j;
    else if (j.is_object()) {
        list = field(j, {"scores", "items", "candidates", "results", "recommendations"});
        if (!list) {
            // {"<id>": score, ...}; a lone {"item_id": .., "score": ..} entry is not one.
            bool all = !j.empty();
            for (auto it = j.begin(); it != j.end() && all; ++it)
                all = scoreValue(it.value()).has_value() && !it.value().is_string() &&
                      !isFieldName(it.key());
            if (!all)
                return false;
            for (auto it = j.begin(); it != j.end(); ++it)
                out.emplace_back(it.key(), *scoreValue(it.value()));
            return true;
        }
        if (list->is_object())
            return extract(*list, out);
    }
    if (!list || !list->is_array())
        return false;
    for (const auto& e : *list) {
        if (!e.is_object())
            return false;
        const json* id = field(e, kIdFields);
        const json* sc = field(e, kScoreFields);
        if (!id || !sc)
            continue;
        const auto idt = idText(*id);
        const auto s = scoreValue(*sc);
        if (idt && s && std::isfinite(*s))
            out.emplace_back(*idt, *s);
    }
    return true;
}

}  // namespace

ParsedAnswer parseAnswer(std::string_view text, const Dataset& ds, const UserPlan& plan)
{
    ParsedAnswer a;
    std::vector<std::pair<std::string, double>> raw;
    bool found = false;
    for (const auto& cand : jsonCandidates(text)) {
        json j = json::parse(cand, nullptr, false);
        if (j.is_discarded())
            continue;
        raw.clear();
        if (extract(j, raw) && !raw.empty()) {
            found = true;
            break;
        }
    }
    if (!found) {
        a.error = text.empty() ? "the answer is empty" : "no JSON score list in the answer";
        return a;
    }
    a.ok = true;
    std::unordered_set<std::uint32_t> offered(plan.candidates.begin(), plan.candidates.end());
    std::unordered_set<std::uint32_t> seen;
    for (const auto& [idt, s] : raw) {
        std::string id = idt;
        if (!id.empty() && id.front() == '[' && id.back() == ']')
            id = id.substr(1, id.size() - 2);
        std::optional<std::uint32_t> item;
        try {
            item = ds.items.findText(id);
        } catch (const std::exception&) {
            item.reset();
        }
        if (!item || !offered.count(*item)) {
            ++a.unknownIds;
            continue;
        }
        if (!seen.insert(*item).second) {
            ++a.duplicates;
            continue;
        }
        double v = s;
        if (v < 0 || v > 1) {
            ++a.clipped;
            v = std::clamp(v, 0.0, 1.0);
        }
        a.scores.emplace_back(*item, v);
    }
    return a;
}

std::int64_t estimateTokens(std::string_view text)
{
    return static_cast<std::int64_t>((text.size() + 3) / 4);
}

}  // namespace sllmr
