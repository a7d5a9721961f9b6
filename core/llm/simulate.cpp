#include "llm/simulate.h"

#include "common/error.h"
#include "common/hash.h"
#include "common/json_util.h"
#include "data/segments.h"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <unordered_set>

namespace sllmr {
namespace fs = std::filesystem;
using json_util::Json;

namespace {

SimulatedBehaviour behaviourFromJson(const Json& j, const std::string& prefix)
{
    using namespace json_util;
    requireKeys(j, {"behaviour", "noise"}, prefix);
    SimulatedBehaviour b;
    readChoice(j, "behaviour", b.behaviour, {"accurate", "noisy", "adversarial"}, prefix);
    readRange(j, "noise", b.noise, 0.0, 1.0, prefix);
    return b;
}

Json behaviourJson(const SimulatedBehaviour& b)
{
    return Json{{"behaviour", b.behaviour}, {"noise", b.noise}};
}

double scoreFor(const SimulatedBehaviour& b, bool positive, std::mt19937_64& rng)
{
    if (b.behaviour == "noisy")
        return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
    const bool high = (b.behaviour == "accurate") == positive;
    const double target = high ? 0.9 : 0.1;
    return std::clamp(target + std::normal_distribution<double>(0.0, b.noise)(rng), 0.0, 1.0);
}

}  // namespace

SimulationProfile simulationProfileFromJson(const Json& j, const std::string& prefix)
{
    using namespace json_util;
    requireKeys(j,
                {"default", "cold", "tail", "train_positives", "held_out", "negatives_per_positive",
                 "seed"},
                prefix);
    SimulationProfile p;
    if (j.contains("default"))
        p.fallback = behaviourFromJson(j["default"], keyPath(prefix, "default"));
    if (j.contains("cold") && !j["cold"].is_null())
        p.cold = behaviourFromJson(j["cold"], keyPath(prefix, "cold"));
    if (j.contains("tail") && !j["tail"].is_null())
        p.tail = behaviourFromJson(j["tail"], keyPath(prefix, "tail"));
    readRange(j, "train_positives", p.trainPositives, 0, 1000000, prefix);
    read(j, "held_out", p.heldOut, prefix);
    readRange(j, "negatives_per_positive", p.negativesPerPositive, 0, 1000, prefix);
    read(j, "seed", p.seed, prefix);
    if (p.trainPositives == 0 && !p.heldOut)
        throw Error(ErrorKind::Usage,
                    "setting '" + keyPath(prefix, "train_positives") +
                        "' is 0 and held_out is false: nothing would be scored",
                    {}, 0, "score some training positives or the held-out ones");
    return p;
}

Json toJson(const SimulationProfile& p)
{
    return Json{{"default", behaviourJson(p.fallback)},
                {"cold", p.cold ? behaviourJson(*p.cold) : Json()},
                {"tail", p.tail ? behaviourJson(*p.tail) : Json()},
                {"train_positives", p.trainPositives},
                {"held_out", p.heldOut},
                {"negatives_per_positive", p.negativesPerPositive},
                {"seed", p.seed}};
}

SimulationReport simulateScores(const Dataset& ds, double tauUser, double tauItem,
                                const SimulationProfile& p, const std::string& path)
{
    SimulationReport rep;
    rep.tauUser = tauUser;
    rep.tauItem = tauItem;
    const auto nu = ds.numUsers();
    const auto ni = ds.numItems();
    if (ni < 2)
        throw Error(ErrorKind::BadInput, "the dataset has fewer than two items", ds.spec.path);
    std::vector<std::vector<std::uint32_t>> train(nu), heldOut(nu);
    for (const auto& r : ds.train)
        train[r.user].push_back(r.item);
    for (const auto* part : {&ds.validation, &ds.test})
        for (const auto& r : *part)
            heldOut[r.user].push_back(r.item);

    const std::string tmp = path + ".part";
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out)
        throw Error(ErrorKind::NotFound, "cannot write the score file", tmp, 0,
                    "check that the folder exists and is writable");
    out << "# sllmr-scores: pointwise\n"
        << "# source: simulated\n"
        << "# simulated: true\n"
        << "# profile: " << toJson(p).dump() << '\n'
        << "# dataset: " << ds.contentHash << '\n'
        << fmt::format("# thresholds: tau_user {} tau_item {}\n", tauUser, tauItem)
        << "user_id\titem_id\tscore\n";

    for (std::uint32_t u = 0; u < nu; ++u) {
        Hasher h;
        h.add(p.seed);
        h.add(ds.users.label(u));
        std::mt19937_64 rng(h.value());
        std::unordered_set<std::uint32_t> known(train[u].begin(), train[u].end());
        known.insert(heldOut[u].begin(), heldOut[u].end());
        std::vector<std::uint32_t> positives;
        std::vector<std::uint32_t> t = train[u];
        const std::size_t take = std::min<std::size_t>(t.size(), p.trainPositives);
        for (std::size_t k = 0; k < take; ++k) {
            std::uniform_int_distribution<std::size_t> pick(k, t.size() - 1);
            std::swap(t[k], t[pick(rng)]);
            positives.push_back(t[k]);
        }
        if (p.heldOut)
            positives.insert(positives.end(), heldOut[u].begin(), heldOut[u].end());
        if (positives.empty())
            continue;
        std::unordered_set<std::uint32_t> written;
        const bool cold = isColdUser(ds.historyLength[u], tauUser);
        auto emit = [&](std::uint32_t item, bool positive) {
            if (!written.insert(item).second)
                return;
            const SimulatedBehaviour* b = &p.fallback;
            if (cold && p.cold) {
                b = &*p.cold;
                ++rep.cold;
            } else if (p.tail && isTailItem(ds.popularity[item], tauItem)) {
                b = &*p.tail;
                ++rep.tail;
            } else {
                ++rep.fallback;
            }
            out << ds.users.label(u) << '\t' << ds.items.label(item) << '\t'
                << fmt::format("{:.4f}", scoreFor(*b, positive, rng)) << '\n';
            ++rep.rows;
        };
        const std::size_t wantNeg =
            positives.size() * static_cast<std::size_t>(p.negativesPerPositive);
        for (auto i : positives)
            emit(i, true);
        std::uniform_int_distribution<std::uint32_t> anyItem(0, ni - 1);
        std::size_t negatives = 0;
        for (std::size_t tries = 0; negatives < wantNeg && tries < wantNeg * 20 + 100; ++tries) {
            const auto i = anyItem(rng);
            if (known.count(i) || written.count(i))
                continue;
            emit(i, false);
            ++negatives;
        }
        ++rep.users;
    }
    out.close();
    if (!out)
        throw Error(ErrorKind::NotFound, "cannot write the score file", tmp, 0,
                    "check free disk space");
    fs::rename(tmp, path);
    return rep;
}

}  // namespace sllmr
