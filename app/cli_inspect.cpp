#include "cli_inspect.h"

#include "cli_commands.h"

#include "common/error.h"
#include "inspect/gate_inspector.h"
#include "store/experiment_store.h"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <unistd.h>
#include <cmath>
#include <cstdio>
#include <iostream>

namespace sllmr::cli {
namespace {

using nlohmann::json;

json num(double v)
{
    return std::isfinite(v) ? json(v) : json(nullptr);
}

std::string fixed(double v, int digits = 4)
{
    return std::isfinite(v) ? fmt::format("{:.{}f}", v, digits) : std::string("-");
}

// Titles are cut to keep tables on one line.
std::string shortTitle(const std::string& title, std::size_t width = 36)
{
    if (title.size() <= width)
        return title;
    auto cut = width - 3;
    while (cut > 0 && (static_cast<unsigned char>(title[cut]) & 0xC0) == 0x80)
        --cut;  // never split a UTF-8 sequence
    return title.substr(0, cut) + "...";
}

json statsJson(const ActivationStats& s)
{
    return {{"count", s.count},
            {"mean_activation", num(s.meanActivation)},
            {"active_share", num(s.activeShare)}};
}

json userJson(const UserRef& u)
{
    return {{"id", u.id}, {"history_length", u.historyLength}, {"cold", u.cold}};
}

json itemJson(const ItemRef& i)
{
    json j{{"id", i.id}, {"popularity", i.popularity}, {"tail", i.tail}};
    if (!i.title.empty())
        j["title"] = i.title;
    return j;
}

json zJson(const std::array<double, 3>& z)
{
    return {{"cold", z[0]}, {"tail", z[1]}, {"q", z[2]}};
}

json entryJson(const ScoredEntry& e, bool withUser)
{
    json j{{"item", itemJson(e.item)},
           {"llm_rank", e.llmRank},
           {"r", e.r},
           {"backbone_score", e.logit},
           {"p", e.p},
           {"z", zJson(e.z)},
           {"a", e.a},
           {"active", e.active},
           {"train_positive", e.trainPositive},
           {"test_positive", e.testPositive}};
    if (withUser)
        j["user"] = userJson(e.user);
    return j;
}

json pairJson(const GatePair& p, bool withUser)
{
    json j{{"higher", itemJson(p.higher)},
           {"lower", itemJson(p.lower)},
           {"r_higher", p.rHigher},
           {"r_lower", p.rLower},
           {"z_higher", zJson(p.zHigher)},
           {"z_lower", zJson(p.zLower)},
           {"a_higher", p.aHigher},
           {"a_lower", p.aLower},
           {"a", p.a},
           {"weight", p.weight},
           {"active", p.active},
           {"hinge", p.hinge},
           {"contribution", p.contribution},
           {"reliability_label",
            p.reliabilityLabel ? json(static_cast<int>(*p.reliabilityLabel)) : json(nullptr)}};
    if (withUser)
        j["user"] = userJson(p.user);
    return j;
}

json summaryJson(const PairSummary& s)
{
    return {{"pairs", s.pairs},       {"active", s.active},
            {"labeled", s.labeled},   {"labeled_true", s.labeledTrue},
            {"mean_a", num(s.meanA)}, {"mean_weight", num(s.meanWeight)}};
}

json runJson(const InspectedRun& r)
{
    return {{"run_id", r.runId},
            {"name", r.name},
            {"model", r.model},
            {"method", r.method},
            {"gate_mode", r.gateMode},
            {"hard", r.hard},
            {"tau_a", r.tauA},
            {"lambda", r.lambda},
            {"margin", r.margin},
            {"random_rate", r.randomRate},
            {"uncertainty", r.uncertainty},
            {"inputs", {{"cold", r.inputs[0]}, {"tail", r.inputs[1]}, {"q", r.inputs[2]}}},
            {"tau_user", r.tauUser},
            {"tau_item", r.tauItem},
            {"epochs_run", r.epochsRun},
            {"model_epoch", r.modelEpoch},
            {"evaluated_epoch", r.evaluatedEpoch},
            {"dataset", r.datasetName},
            {"scores", r.scoresName},
            {"score_kind", r.scoreKind},
            {"users", r.users},
            {"items", r.items},
            {"scored_entries", r.scoredEntries},
            {"users_with_scores", r.usersWithScores},
            {"has_titles", r.hasTitles},
            {"inputs_verified", r.inputsVerified},
            {"open_seconds", r.openSeconds}};
}

json binsJson(const std::vector<GateBin>& bins)
{
    json arr = json::array();
    for (const auto& b : bins)
        arr.push_back({{"epoch", b.epoch},
                       {"dimension", b.dimension},
                       {"bin", b.bin},
                       {"lo", b.lo},
                       {"hi", b.hi < 0 ? json(nullptr) : json(b.hi)},
                       {"count", b.count},
                       {"mean_activation", num(b.meanActivation)},
                       {"active_share", num(b.activeShare)}});
    return arr;
}

json gridJson(const std::array<GateCell, 4>& grid)
{
    json arr = json::array();
    for (const auto& c : grid) {
        json j = statsJson(c.stats);
        j["cold"] = c.cold;
        j["tail"] = c.tail;
        j["users"] = c.users;
        j["items"] = c.items;
        arr.push_back(j);
    }
    return arr;
}

json directionsJson(const std::vector<SegmentDirections>& directions)
{
    json arr = json::array();
    for (const auto& d : directions)
        arr.push_back({{"segment", d.segment},
                       {"mixed_pairs", d.pairs},
                       {"pairs_inside", d.inside},
                       {"up",
                        {{"pairs", d.up},
                         {"active", d.activeUp},
                         {"weight", d.weightUp},
                         {"mean_weight", num(d.meanWeightUp())}}},
                       {"down",
                        {{"pairs", d.down},
                         {"active", d.activeDown},
                         {"weight", d.weightDown},
                         {"mean_weight", num(d.meanWeightDown())}}},
                       {"weight_share_up", num(d.shareUp())}});
    return arr;
}

void printDirections(const std::vector<SegmentDirections>& directions, const InspectedRun& run)
{
    if (directions.empty()) {
        fmt::print("\nNo LLM pairs: method {} has no hinge.\n", run.method);
        return;
    }
    fmt::print(
        "\nWhich way the pair weight pushes each item segment (every candidate pair of the final\n"
        "model and gate with exactly one item in the segment; up: the segment's item is the one\n"
        "the LLM ranks higher)\n\n");
    fmt::print("{:<10} {:>9} {:>9} {:>9} {:>9} {:>12} {:>12} {:>10}\n", "segment", "mixed", "up",
               "down", "inside", "mean w up", "mean w down", "weight up");
    const auto f = [](double v) {
        return std::isfinite(v) ? fmt::format("{:.4f}", v) : std::string("-");
    };
    for (const auto& d : directions)
        fmt::print("{:<10} {:>9} {:>9} {:>9} {:>9} {:>12} {:>12} {:>10}\n", d.segment, d.pairs,
                   d.up, d.down, d.inside, f(d.meanWeightUp()), f(d.meanWeightDown()),
                   std::isfinite(d.shareUp()) ? fmt::format("{:.1f}%", 100 * d.shareUp()) : "-");
    fmt::print(
        "\n(weight up: share of the mixed pairs' weight that raises the segment's items; "
        "the rest lowers them)\n");
}

json histogramJson(const ActivationHistogram& h)
{
    return {{"lo", h.lo}, {"hi", h.hi}, {"counts", h.counts}, {"mean", num(h.mean)}};
}

json epochsJson(const std::vector<EpochGate>& epochs)
{
    json params = json::array();
    for (const auto& p : gateParameterInfo())
        params.push_back({{"name", p.name}, {"meaning", p.meaning}});
    json arr = json::array();
    for (const auto& e : epochs) {
        json seg = json::object();
        for (const auto& [name, s] : e.bySegment)
            seg[name] = {{"mean_activation", num(s.meanActivation)},
                         {"active_share", num(s.activeShare)}};
        arr.push_back({{"epoch", e.epoch},
                       {"w_cold", e.parameters[0]},
                       {"w_tail", e.parameters[1]},
                       {"w_q", e.parameters[2]},
                       {"b", e.parameters[3]},
                       {"validation_auc", num(e.validationAuc)},
                       {"pairs", e.pairs},
                       {"labeled_pairs", e.labeledPairs},
                       {"segments", seg}});
    }
    return {{"parameters", params}, {"epochs", arr}};
}

// ------------------------------------------------------------------------------ tables

void printRun(const InspectedRun& r)
{
    fmt::print("run {}: {}\n", r.runId, r.name);
    fmt::print("  {} / {} / gate {}{}  lambda {}  margin {}  tau_a {}\n", r.model, r.method,
               r.gateMode, r.hard ? " (hard)" : "", r.lambda, r.margin, r.tauA);
    fmt::print("  gate inputs: Cold(u) = |H(u)| < {}{}, Tail(i) = pop(i) < {}{}, q = {}{}\n",
               r.tauUser, r.inputs[0] ? "" : " (off)", r.tauItem, r.inputs[1] ? "" : " (off)",
               r.uncertainty, r.inputs[2] ? "" : " (off)");
    fmt::print(
        "  model of epoch {} of {}; {} users, {} items, {} LLM-scored entries ({} users, "
        "r from {} scores){}\n",
        r.modelEpoch, r.epochsRun, r.users, r.items, r.scoredEntries, r.usersWithScores,
        r.scoreKind.empty() ? "no" : r.scoreKind,
        r.inputsVerified ? "" : "; input files not verified (run predates the check)");
    if (r.evaluatedEpoch != r.modelEpoch)
        fmt::print(
            "  note: the stored evaluation used epoch {} (train.restore_best is off); the "
            "model shown is best.pt, epoch {}\n",
            r.evaluatedEpoch, r.modelEpoch);
    if (!r.hasHinge)
        fmt::print("  method '{}' has no gated LLM hinge: a below is the untrained gate's value\n",
                   r.method);
    else if (r.gateMode == "random")
        fmt::print("  random gate: a is the sampling rate {:.4f}\n", r.randomRate);
}

void printGrid(const std::array<GateCell, 4>& grid)
{
    fmt::print("\nCold x Tail, over all LLM-scored (user, item) entries, final model and gate\n");
    fmt::print("  {:<12} {:>10} {:>10} {:>10} {:>8} {:>8}\n", "cell", "mean a", "active", "entries",
               "users", "items");
    for (const auto& c : grid)
        fmt::print("  {:<12} {:>10} {:>10} {:>10} {:>8} {:>8}\n",
                   fmt::format("{}/{}", c.cold ? "cold" : "warm", c.tail ? "tail" : "head"),
                   fixed(c.stats.meanActivation), fixed(c.stats.activeShare), c.stats.count,
                   c.users, c.items);
}

void printHistogram(const ActivationHistogram& h)
{
    fmt::print("\nDistribution of a over all LLM-scored entries (mean {})\n", fixed(h.mean));
    std::int64_t most = 1;
    for (auto c : h.counts)
        most = std::max(most, c);
    const auto n = h.counts.size();
    for (std::size_t b = 0; b < n; ++b) {
        const double lo = h.lo + (h.hi - h.lo) * static_cast<double>(b) / static_cast<double>(n);
        const double hi = lo + (h.hi - h.lo) / static_cast<double>(n);
        const auto bar = static_cast<std::size_t>(40.0 * static_cast<double>(h.counts[b]) /
                                                  static_cast<double>(most));
        fmt::print("  [{:.2f}, {:.2f}{} {:>8}  {}\n", lo, hi, b + 1 == n ? "]" : ")", h.counts[b],
                   std::string(bar, '#'));
    }
}

void printBins(const std::string& title, const std::vector<GateBin>& bins)
{
    fmt::print("\n{}\n", title);
    fmt::print("  {:>5} {:<11} {:>3} {:>14} {:>9} {:>10} {:>10}\n", "epoch", "dimension", "bin",
               "range", "count", "mean a", "active");
    for (const auto& b : bins)
        fmt::print(
            "  {:>5} {:<11} {:>3} {:>14} {:>9} {:>10} {:>10}\n", b.epoch, b.dimension, b.bin + 1,
            b.hi < 0 ? fmt::format("[{:g}, inf)", b.lo) : fmt::format("[{:g}, {:g})", b.lo, b.hi),
            b.count, fixed(b.meanActivation), fixed(b.activeShare));
}

void printEpochs(const std::vector<EpochGate>& epochs)
{
    fmt::print("\nGate parameters per epoch\n");
    for (const auto& p : gateParameterInfo())
        fmt::print("  {:<7} {}\n", p.name, p.meaning);
    fmt::print("\n  {:>5} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}\n", "epoch",
               "w_cold", "w_tail", "w_q", "b", "overall", "cold", "warm", "tail", "head");
    for (const auto& e : epochs) {
        auto mean = [&](const char* seg) {
            const auto it = e.bySegment.find(seg);
            return it == e.bySegment.end() ? std::string("-") : fixed(it->second.meanActivation);
        };
        fmt::print("  {:>5} {:>9.4f} {:>9.4f} {:>9.4f} {:>9.4f} {:>9} {:>9} {:>9} {:>9} {:>9}\n",
                   e.epoch, e.parameters[0], e.parameters[1], e.parameters[2], e.parameters[3],
                   mean("overall"), mean("cold"), mean("warm"), mean("tail"), mean("head"));
    }
    fmt::print("  (mean a per segment during the epoch's training)\n");
}

std::string itemLabel(const ItemRef& i)
{
    return i.title.empty() ? i.id : fmt::format("{} {}", i.id, shortTitle(i.title, 30));
}

void printPairs(const std::vector<GatePair>& pairs, int limit, bool withUser)
{
    fmt::print("  {}{:<36} {:<36} {:>7} {:>7} {:>7} {:>7} {:>3} {:>7} {:>8} {:>5}\n",
               withUser ? fmt::format("{:<8} ", "user") : "", "higher (LLM)", "lower", "q_hi",
               "q_lo", "a", "weight", "act", "hinge", "contrib", "label");
    int shown = 0;
    for (const auto& p : pairs) {
        if (shown++ == limit) {
            fmt::print("  ... {} more (--limit, or --json for all)\n", pairs.size() - limit);
            break;
        }
        fmt::print(
            "  {}{:<36} {:<36} {:>7.4f} {:>7.4f} {:>7.4f} {:>7.4f} {:>3} {:>7.4f} {:>8.5f} "
            "{:>5}\n",
            withUser ? fmt::format("{:<8} ", p.user.id) : "", itemLabel(p.higher),
            itemLabel(p.lower), p.zHigher[2], p.zLower[2], p.a, p.weight, p.active ? "yes" : "no",
            p.hinge, p.contribution, p.reliabilityLabel ? (*p.reliabilityLabel ? "1" : "0") : "-");
    }
}

void printSummary(const char* label, const PairSummary& s)
{
    fmt::print(
        "  {}: {} pairs, {} active, mean a {}, mean weight {}, {} with a reliability "
        "label ({} say the LLM order is right)\n",
        label, s.pairs, s.active, fixed(s.meanA), fixed(s.meanWeight), s.labeled, s.labeledTrue);
}

void printUser(const InspectedRun& run, const UserDrillDown& d, int limit)
{
    fmt::print("user {}: {} training interactions{}\n", d.user.id, d.user.historyLength,
               d.user.cold ? " (cold)" : "");
    fmt::print("\nTraining history (time order)\n");
    int shown = 0;
    for (const auto& i : d.history) {
        if (shown++ == limit) {
            fmt::print("  ... {} more\n", d.history.size() - limit);
            break;
        }
        fmt::print("  {:<10} {:<48} pop {}{}\n", i.id, shortTitle(i.title, 48), i.popularity,
                   i.tail ? " (tail)" : "");
    }
    fmt::print("\nLLM-scored items (r: normalized {} score)\n", run.scoreKind);
    fmt::print("  {:>4} {:<10} {:<36} {:>6} {:>8} {:>7} {:>7} {:>7} {:>3} {:>5}\n", "rank", "item",
               "title", "r", "score", "p", "q", "a", "act", "pos");
    for (const auto& e : d.scored)
        fmt::print(
            "  {:>4} {:<10} {:<36} {:>6.3f} {:>8.4f} {:>7.4f} {:>7.4f} {:>7.4f} {:>3} {:>5}\n",
            e.llmRank, e.item.id, shortTitle(e.item.title), e.r, e.logit, e.p, e.z[2], e.a,
            e.active ? "yes" : "no", e.testPositive ? "test" : (e.trainPositive ? "train" : ""));
    if (run.hasHinge) {
        fmt::print("\nCandidate LLM pairs (every pair with r_higher > r_lower)\n");
        printSummary("pairs", d.pairSummary);
        printPairs(d.pairs, limit, false);
    } else {
        fmt::print("\nNo LLM pairs: method '{}' has no pairwise hinge\n", run.method);
    }
    fmt::print("\nTest items, full ranking among the user's candidates (mean AUC {})\n",
               fixed(d.meanTestAuc));
    fmt::print("  {:<10} {:<36} {:>8} {:>9} {:>8} {:>10}\n", "item", "title", "rank", "negatives",
               "AUC", "stored");
    for (const auto& t : d.tests)
        fmt::print("  {:<10} {:<36} {:>8g} {:>9} {:>8.4f} {:>10}\n", t.item.id,
                   shortTitle(t.item.title), t.rank, t.negatives, t.auc,
                   t.storedAuc ? fixed(*t.storedAuc) : std::string("-"));
}

void printItem(const InspectedRun& run, const ItemDrillDown& d, int limit)
{
    fmt::print("item {}{}: popularity {}{}, {} test users, in {} users' LLM lists\n", d.item.id,
               d.item.title.empty() ? "" : " " + d.item.title, d.item.popularity,
               d.item.tail ? " (tail)" : "", d.testUsers, d.scoredBy.size());
    fmt::print("\n  {:<8} {:>8} {:>5} {:>6} {:>8} {:>7} {:>7} {:>7} {:>3} {:>5}\n", "user",
               "history", "rank", "r", "score", "p", "q", "a", "act", "pos");
    int shown = 0;
    for (const auto& e : d.scoredBy) {
        if (shown++ == limit) {
            fmt::print("  ... {} more\n", d.scoredBy.size() - limit);
            break;
        }
        fmt::print("  {:<8} {:>8} {:>5} {:>6.3f} {:>8.4f} {:>7.4f} {:>7.4f} {:>7.4f} {:>3} {:>5}\n",
                   e.user.id, fmt::format("{}{}", e.user.historyLength, e.user.cold ? "c" : ""),
                   e.llmRank, e.r, e.logit, e.p, e.z[2], e.a, e.active ? "yes" : "no",
                   e.testPositive ? "test" : (e.trainPositive ? "train" : ""));
    }
    if (!run.hasHinge)
        return;
    fmt::print("\nCandidate LLM pairs with this item\n");
    printSummary("ranked above the other item", d.asHigher);
    printSummary("ranked below the other item", d.asLower);
    printPairs(d.pairs, limit, true);
}

}  // namespace

InspectCommand::InspectCommand(CLI::App& app, const std::string& dbPath) : m_dbPath(dbPath)
{
    m_inspect = app.add_subcommand("inspect", kInspectDescription);
    m_inspect->add_option("run", m_runId, "Run id")->required();
    auto* user = m_inspect->add_option("--user", m_user, "Drill down to one user (original id)");
    auto* item = m_inspect->add_option("--item", m_item, "Drill down to one item (original id)");
    auto* find =
        m_inspect->add_option("--find", m_find, "Search users and items by id and titles by text");
    auto* grid = m_inspect->add_flag("--grid", m_grid, "Cold x Tail grid and distribution of a");
    auto* bins =
        m_inspect->add_flag("--bins", m_bins, "Activation by history length and item popularity");
    auto* epochs =
        m_inspect->add_flag("--epochs", m_epochs, "Gate parameters and activation per epoch");
    auto* directions = m_inspect->add_flag(
        "--directions", m_directions,
        "Per item segment: how much pair weight pushes its items up versus down");
    const std::vector<CLI::Option*> views{user, item, find, grid, bins, epochs, directions};
    for (auto* a : views)
        for (auto* b : views)
            if (a != b)
                a->excludes(b);
    m_inspect->add_flag("--all-epochs", m_allEpochs, "With --bins: the bins of every epoch");
    m_inspect->add_option("--limit", m_limit, "Rows per table in readable output")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    m_inspect->add_flag("--json", m_json, "Machine-readable output");
}

std::optional<int> InspectCommand::execute()
{
    if (!*m_inspect)
        return std::nullopt;
    ExperimentStore store(m_dbPath);
    InspectOptions options;
    if (!m_json && isatty(fileno(stderr)))
        options.onStage = [](const std::string& s) {
            std::fprintf(stderr, "\r%-30s", (s + "...").c_str());
            std::fflush(stderr);
        };
    const RunInspector inspector(store, m_runId, options);
    if (options.onStage)
        std::fprintf(stderr, "\r%30s\r", "");
    if (!m_user.empty())
        return showUser(inspector);
    if (!m_item.empty())
        return showItem(inspector);
    if (!m_find.empty())
        return showFind(inspector);
    if (m_bins)
        return showBins(inspector);
    if (m_epochs)
        return showEpochs(inspector);
    if (m_directions)
        return showDirections(inspector);
    return showOverview(inspector);  // --grid, or no view option
}

int InspectCommand::showUser(const RunInspector& inspector) const
{
    const auto& run = inspector.run();
    const auto d = inspector.user(m_user);
    if (!m_json) {
        printUser(run, d, m_limit);
        return 0;
    }
    json history = json::array();
    for (const auto& i : d.history)
        history.push_back(itemJson(i));
    json scored = json::array();
    for (const auto& e : d.scored)
        scored.push_back(entryJson(e, false));
    json pairs = json::array();
    for (const auto& p : d.pairs)
        pairs.push_back(pairJson(p, false));
    json tests = json::array();
    for (const auto& t : d.tests)
        tests.push_back({{"item", itemJson(t.item)},
                         {"rank", t.rank},
                         {"auc", num(t.auc)},
                         {"negatives", t.negatives},
                         {"stored_auc", t.storedAuc ? num(*t.storedAuc) : json(nullptr)}});
    std::cout << json{{"run", runJson(run)},
                      {"user", userJson(d.user)},
                      {"history", history},
                      {"scored", scored},
                      {"pair_summary", summaryJson(d.pairSummary)},
                      {"pairs", pairs},
                      {"tests", tests},
                      {"mean_test_auc", num(d.meanTestAuc)}}
                     .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
              << '\n';
    return 0;
}

int InspectCommand::showItem(const RunInspector& inspector) const
{
    const auto& run = inspector.run();
    const auto d = inspector.item(m_item);
    if (!m_json) {
        printItem(run, d, m_limit);
        return 0;
    }
    json scored = json::array();
    for (const auto& e : d.scoredBy)
        scored.push_back(entryJson(e, true));
    json pairs = json::array();
    for (const auto& p : d.pairs)
        pairs.push_back(pairJson(p, true));
    std::cout << json{{"run", runJson(run)},
                      {"item", itemJson(d.item)},
                      {"test_users", d.testUsers},
                      {"scored_by", scored},
                      {"as_higher", summaryJson(d.asHigher)},
                      {"as_lower", summaryJson(d.asLower)},
                      {"pairs", pairs}}
                     .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
              << '\n';
    return 0;
}

int InspectCommand::showFind(const RunInspector& inspector) const
{
    const auto hits = inspector.find(m_find, static_cast<std::size_t>(m_limit));
    if (m_json) {
        json arr = json::array();
        for (const auto& h : hits) {
            json j{{"kind", h.kind}, {"id", h.id}, {"detail", h.detail}};
            if (!h.title.empty())
                j["title"] = h.title;
            arr.push_back(j);
        }
        std::cout << arr.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    } else {
        if (hits.empty())
            fmt::print("no user or item matches '{}'\n", m_find);
        for (const auto& h : hits)
            fmt::print("{:<5} {:<10} {:<50} {}\n", h.kind, h.id, shortTitle(h.title, 50), h.detail);
    }
    return 0;
}

int InspectCommand::showBins(const RunInspector& inspector) const
{
    const auto& run = inspector.run();
    const auto training =
        m_allEpochs ? inspector.trainingBinsAllEpochs() : inspector.trainingBins();
    const auto final = inspector.finalBins();
    if (m_json) {
        std::cout << json{{"run", runJson(run)},
                          {"training", binsJson(training)},
                          {"final", binsJson(final)}}
                         .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
                  << '\n';
    } else {
        printRun(run);
        printBins(m_allEpochs ? "Activation during training, every epoch (pair sides)"
                              : fmt::format("Activation during training, epoch {} (pair "
                                            "sides drawn in training)",
                                            run.evaluatedEpoch),
                  training);
        printBins("Activation of the final model and gate over all LLM-scored entries", final);
    }
    return 0;
}

int InspectCommand::showEpochs(const RunInspector& inspector) const
{
    const auto& run = inspector.run();
    const auto e = inspector.epochs();
    if (m_json) {
        json j = epochsJson(e);
        j["run"] = runJson(run);
        std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    } else {
        printRun(run);
        printEpochs(e);
    }
    return 0;
}

int InspectCommand::showDirections(const RunInspector& inspector) const
{
    const auto& run = inspector.run();
    const auto d = inspector.directions();
    if (m_json) {
        std::cout << json{{"run", runJson(run)}, {"directions", directionsJson(d)}}.dump(
                         2, ' ', false, nlohmann::json::error_handler_t::replace)
                  << '\n';
    } else {
        printRun(run);
        printDirections(d, run);
    }
    return 0;
}

// The Cold x Tail grid and the distribution of a (--grid), with the first and last epoch's
// parameters when no view was chosen.
int InspectCommand::showOverview(const RunInspector& inspector) const
{
    const auto& run = inspector.run();
    const auto grid = inspector.coldTailGrid();
    const auto hist = inspector.histogram();
    if (m_json) {
        json j{{"run", runJson(run)}, {"grid", gridJson(grid)}, {"histogram", histogramJson(hist)}};
        if (!m_grid)
            j["epochs"] = epochsJson(inspector.epochs())["epochs"];
        std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
        return 0;
    }
    printRun(run);
    printGrid(grid);
    printHistogram(hist);
    if (!m_grid) {
        const auto e = inspector.epochs();
        if (!e.empty()) {
            fmt::print("\nGate parameters: first and last epoch (--epochs for all)\n");
            printEpochs(e.size() == 1 ? e : std::vector<EpochGate>{e.front(), e.back()});
        }
    }
    return 0;
}

}  // namespace sllmr::cli
