#include "data/preprocess.h"

#include "common/error.h"
#include "common/hash.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <limits>
#include <random>

namespace sllmr {
namespace {

bool byUserItemOrder(const Interaction& a, const Interaction& b)
{
    if (a.user != b.user)
        return a.user < b.user;
    if (a.item != b.item)
        return a.item < b.item;
    return a.order < b.order;
}

bool byUserTime(const Interaction& a, const Interaction& b)
{
    if (a.user != b.user)
        return a.user < b.user;
    if (a.time != b.time)
        return a.time < b.time;
    return a.order < b.order;
}

// Drops repeated (user, item) pairs keeping the first or last by file order; returns the count.
std::int64_t dropDuplicates(std::vector<Interaction>& rows, bool keepFirst)
{
    std::sort(rows.begin(), rows.end(), byUserItemOrder);
    std::size_t out = 0;
    std::int64_t dropped = 0;
    for (std::size_t i = 0; i < rows.size();) {
        std::size_t j = i + 1;
        while (j < rows.size() && rows[j].user == rows[i].user && rows[j].item == rows[i].item)
            ++j;
        rows[out++] = keepFirst ? rows[i] : rows[j - 1];
        dropped += static_cast<std::int64_t>(j - i - 1);
        i = j;
    }
    rows.resize(out);
    return dropped;
}

// Removes rows of `rows` whose (user, item) is in `reference` (sorted by user, item).
std::int64_t dropPairsIn(std::vector<Interaction>& rows, const std::vector<Interaction>& reference)
{
    const auto before = rows.size();
    std::erase_if(rows, [&](const Interaction& r) {
        Interaction key;
        key.user = r.user;
        key.item = r.item;
        key.order = 0;
        auto it = std::lower_bound(reference.begin(), reference.end(), key,
                                   [](const Interaction& a, const Interaction& b) {
                                       if (a.user != b.user)
                                           return a.user < b.user;
                                       return a.item < b.item;
                                   });
        return it != reference.end() && it->user == r.user && it->item == r.item;
    });
    return static_cast<std::int64_t>(before - rows.size());
}

template <class F>
void forEachUserGroup(const std::vector<Interaction>& rows, F&& f)
{
    for (std::size_t b = 0; b < rows.size();) {
        std::size_t e = b + 1;
        while (e < rows.size() && rows[e].user == rows[b].user)
            ++e;
        f(b, e);
        b = e;
    }
}

// Moves rows flagged in `take` from `from` into `to` (appending), preserving order.
void moveFlagged(std::vector<Interaction>& from, const std::vector<bool>& take,
                 std::vector<Interaction>& to)
{
    std::size_t n = 0;
    for (bool t : take)
        n += t;
    to.reserve(to.size() + n);
    std::size_t out = 0;
    for (std::size_t i = 0; i < from.size(); ++i) {
        if (take[i])
            to.push_back(from[i]);
        else
            from[out++] = from[i];
    }
    from.resize(out);
}

// Per user (rows sorted by user, time): flags the last `count(n)` rows, or a seeded random choice.
template <class Count>
std::vector<bool> pickPerUser(const std::vector<Interaction>& rows, Count&& count, bool random,
                              std::mt19937_64& rng)
{
    std::vector<bool> take(rows.size(), false);
    std::vector<std::size_t> idx;
    forEachUserGroup(rows, [&](std::size_t b, std::size_t e) {
        const std::size_t n = e - b;
        const std::size_t k = std::min<std::size_t>(count(n), n);
        if (k == 0)
            return;
        if (!random) {
            for (std::size_t i = e - k; i < e; ++i)
                take[i] = true;
            return;
        }
        idx.resize(n);
        for (std::size_t i = 0; i < n; ++i)
            idx[i] = b + i;
        // Partial Fisher-Yates with an explicit draw so results do not depend on the library's
        // shuffle implementation.
        for (std::size_t i = 0; i < k; ++i) {
            const std::size_t j = i + static_cast<std::size_t>(rng() % (n - i));
            std::swap(idx[i], idx[j]);
            take[idx[i]] = true;
        }
    });
    return take;
}

std::size_t ratioCount(std::size_t n, double ratio)
{
    if (n < 2 || ratio <= 0)
        return 0;
    auto k = static_cast<std::size_t>(static_cast<double>(n) * ratio + 0.5);
    return std::clamp<std::size_t>(k, 1, n - 1);
}

void report(const LoadControl& control, double f, const char* stage)
{
    if (control.cancel && control.cancel->load(std::memory_order_relaxed))
        throw Error(ErrorKind::Cancelled, "loading cancelled");
    if (control.progress)
        control.progress(f, stage);
}

// Repeats until every user and item has at least k interactions over all parts; returns the
// number of rows removed.
std::int64_t applyKcore(std::vector<RawFile>& parts, std::size_t numUsers, std::size_t numItems,
                        std::uint32_t k)
{
    std::int64_t total = 0;
    for (;;) {
        std::vector<std::uint32_t> uc(numUsers, 0);
        std::vector<std::uint32_t> ic(numItems, 0);
        for (auto& p : parts)
            for (auto& r : p.rows) {
                ++uc[r.user];
                ++ic[r.item];
            }
        std::int64_t removed = 0;
        for (auto& p : parts)
            removed += static_cast<std::int64_t>(std::erase_if(
                p.rows, [&](const Interaction& r) { return uc[r.user] < k || ic[r.item] < k; }));
        total += removed;
        if (removed == 0)
            return total;
    }
}

// Keeps the users and items still present, renumbered densely, in `ds`; rewrites the rows.
void compactIds(Dataset& ds, const IdMap& users, const IdMap& items, std::vector<RawFile>& parts)
{
    std::vector<bool> keepU(users.size(), false);
    std::vector<bool> keepI(items.size(), false);
    for (auto& p : parts)
        for (auto& r : p.rows) {
            keepU[r.user] = true;
            keepI[r.item] = true;
        }
    std::vector<std::uint32_t> mapU;
    std::vector<std::uint32_t> mapI;
    ds.users = users.compacted(keepU, mapU);
    ds.items = items.compacted(keepI, mapI);
    for (auto& p : parts)
        for (auto& r : p.rows) {
            r.user = mapU[r.user];
            r.item = mapI[r.item];
        }
}

// Train, validation and test: the given files, or carved per user (leave-one-out, ratio by
// time, random), then the validation rows carved from what is left for training.
void split(Dataset& ds, const DatasetSpec& spec, std::vector<RawFile>& parts)
{
    auto& rep = ds.report;
    std::mt19937_64 rng(spec.seed);
    const auto& method = spec.split.method;
    std::string validation = spec.split.validation;
    if (method == "given") {
        ds.train = std::move(parts[0].rows);
        ds.test = std::move(parts[1].rows);
        if (parts.size() == 3)
            ds.validation = std::move(parts[2].rows);
        std::sort(ds.train.begin(), ds.train.end(), byUserTime);
        std::sort(ds.test.begin(), ds.test.end(), byUserTime);
        std::sort(ds.validation.begin(), ds.validation.end(), byUserTime);
        if (validation == "auto")
            validation = parts.size() == 3 ? "none" : "last";
    } else {
        ds.train = std::move(parts[0].rows);
        std::sort(ds.train.begin(), ds.train.end(), byUserTime);
        std::vector<bool> take;
        if (method == "leave-one-out")
            take = pickPerUser(
                ds.train, [](std::size_t n) { return n >= 2 ? 1u : 0u; }, false, rng);
        else
            take = pickPerUser(
                ds.train, [&](std::size_t n) { return ratioCount(n, spec.split.testRatio); },
                method == "random", rng);
        moveFlagged(ds.train, take, ds.test);
        if (validation == "auto")
            validation = method == "random" ? "ratio" : "last";
    }
    if (!ds.validation.empty() && validation != "none" && method == "given")
        validation = "none";  // a validation file was given
    if (validation == "last" || validation == "ratio") {
        // Carve only from users who keep at least one training interaction.
        std::vector<bool> take;
        if (validation == "last")
            take = pickPerUser(
                ds.train, [](std::size_t n) { return n >= 2 ? 1u : 0u; }, false, rng);
        else
            take = pickPerUser(
                ds.train, [&](std::size_t n) { return ratioCount(n, spec.split.validationRatio); },
                true, rng);
        const auto before = ds.validation.size();
        moveFlagged(ds.train, take, ds.validation);
        rep.validationCarved = static_cast<std::int64_t>(ds.validation.size() - before);
        std::sort(ds.validation.begin(), ds.validation.end(), byUserTime);
    }
}

// Every input's bytes plus the spec, without what does not change the data (paths, the name,
// the encoding: the files' hashes are over the decoded text). The hash is the dataset's identity
// in the store and what a resume checks: a setting added later must be left out while it has
// its default, or every run stored before it would refuse to resume (tst_llm pins the demo's).
std::string contentHash(const DatasetSpec& spec, const std::vector<FileReport>& files)
{
    Hasher h;
    for (const auto& f : files)
        h.add(f.contentHash);
    nlohmann::json sj = spec;
    sj.erase("name");
    for (const char* k : {"path", "test_path", "validation_path", "items_path",
                          "item_features_path", "item_feature_names_path"})
        sj.erase(k);
    sj.erase("encoding");
    h.add(sj.dump());
    return h.hex();
}

}  // namespace

Dataset buildDataset(const DatasetSpec& spec, IdMap users, IdMap items, std::vector<RawFile> parts,
                     const LoadControl& control)
{
    Dataset ds;
    ds.spec = spec;
    auto& rep = ds.report;
    ds.hasRatings = !parts.empty();
    ds.hasTimestamps = !parts.empty();
    for (auto& p : parts) {
        rep.rowsRead += p.report.rows;
        ds.hasRatings = ds.hasRatings && p.hasRatings;
        ds.hasTimestamps = ds.hasTimestamps && p.hasTimestamps;
        ds.files.push_back(p.report);
    }
    report(control, 0.0, "preprocessing");

    // 1. Rating-to-implicit threshold.
    if (spec.implicitThreshold) {
        if (!ds.hasRatings)
            throw Error(ErrorKind::Usage,
                        "an implicit threshold is set but the data has no rating column", spec.path,
                        0, "remove 'implicit_threshold' or map the rating column");
        const float t = static_cast<float>(*spec.implicitThreshold);
        for (auto& p : parts)
            rep.belowThreshold += static_cast<std::int64_t>(
                std::erase_if(p.rows, [t](const Interaction& r) { return r.rating < t; }));
    }

    // 2. Duplicates within each file, then pairs repeated across parts (kept in train).
    const bool keepFirst = spec.duplicates == "first";
    for (auto& p : parts)
        rep.duplicates += dropDuplicates(p.rows, keepFirst);  // leaves rows sorted by (user, item)
    if (parts.size() > 1) {
        for (std::size_t k = 1; k < parts.size(); ++k)
            rep.crossSplitDuplicates += dropPairsIn(parts[k].rows, parts[0].rows);
        if (parts.size() == 3)  // validation pairs also in test
            rep.crossSplitDuplicates += dropPairsIn(parts[2].rows, parts[1].rows);
    }
    report(control, 0.3, "preprocessing");

    // 3. k-core over all parts together.
    if (spec.kcore > 1)
        rep.kcoreRemoved +=
            applyKcore(parts, users.size(), items.size(), static_cast<std::uint32_t>(spec.kcore));

    // 4. Compact ids to those still present.
    compactIds(ds, users, items, parts);
    if (ds.users.size() == 0 || ds.items.size() == 0)
        throw Error(ErrorKind::BadInput, "no interactions are left after preprocessing", spec.path,
                    0, "lower the implicit threshold or the k-core");
    report(control, 0.5, "splitting");

    // 5. Split.
    split(ds, spec, parts);
    report(control, 0.8, "indexing");

    // 6. Training counts and unseen test entities.
    ds.historyLength.assign(ds.users.size(), 0);
    ds.popularity.assign(ds.items.size(), 0);
    for (const auto& r : ds.train) {
        ++ds.historyLength[r.user];
        ++ds.popularity[r.item];
    }
    for (const auto& r : ds.test) {
        rep.testItemsUnseenInTrain += ds.popularity[r.item] == 0;
        rep.testUsersUnseenInTrain += ds.historyLength[r.user] == 0;
    }

    // 7. Item side information.
    readItemInfo(spec, ds.items, ds.itemInfo, ds.files);

    // 8. Content hash: every input's bytes plus the spec.
    ds.contentHash = contentHash(spec, ds.files);
    if (ds.spec.name.empty())
        ds.spec.name = std::filesystem::path(spec.path).filename().string();
    report(control, 1.0, "done");
    return ds;
}

std::vector<std::uint32_t> Dataset::trainOffsets() const
{
    std::vector<std::uint32_t> off(numUsers() + 1, 0);
    for (const auto& r : train)
        ++off[r.user + 1];
    for (std::size_t u = 0; u < numUsers(); ++u)
        off[u + 1] += off[u];
    return off;
}

}  // namespace sllmr
