#include "analysis/shards.h"

#include "common/error.h"
#include "run/runner.h"
#include "train/run_config.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

namespace sllmr {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr int kManifestFormat = 1;

std::string manifestPath(const std::string& folder)
{
    return (fs::path(folder) / "sweep.json").string();
}

void writeJsonAtomically(const std::string& path, const json& j)
{
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp);
        out << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
        if (!out)
            throw Error(ErrorKind::Store, "cannot write the sweep manifest", tmp, 0,
                        "check that the sweep folder is writable and the disk has space");
    }
    fs::rename(tmp, path);
}

json itemJson(const ManifestItem& i)
{
    json j{{"position", i.position},
           {"row", i.rowLabel},
           {"seed", i.seed},
           {"config", json::parse(i.configJson)},
           {"config_hash", i.configHash}};
    if (i.duplicateOf)
        j["duplicate_of"] = *i.duplicateOf;
    if (i.referencePosition)
        j["reference_position"] = *i.referencePosition;
    return j;
}

ManifestItem itemFromJson(const json& j)
{
    ManifestItem i;
    i.position = j.at("position").get<int>();
    i.rowLabel = j.at("row").get<std::string>();
    i.seed = j.at("seed").get<std::int64_t>();
    i.configJson = j.at("config").dump();
    i.configHash = j.at("config_hash").get<std::string>();
    if (j.contains("duplicate_of"))
        i.duplicateOf = j["duplicate_of"].get<int>();
    if (j.contains("reference_position"))
        i.referencePosition = j["reference_position"].get<int>();
    return i;
}

// The position of the item whose run "@LABEL" in item `item` refers to (as runSweep resolves it:
// the last earlier item of that row with the same seed).
std::optional<int> referencePosition(const std::vector<SweepItemRecord>& items,
                                     const SweepItemRecord& item)
{
    const json config = json::parse(item.configJson);
    const auto& ref = config["gate"]["reference_run"];
    if (!ref.is_string())
        return std::nullopt;
    const auto label = ref.get<std::string>().substr(1);
    std::optional<int> found;
    for (const auto& other : items)
        if (other.rowLabel == label && other.seed == item.seed && other.position < item.position)
            found = other.duplicateOf ? *other.duplicateOf : other.position;
    if (!found)
        throw Error(ErrorKind::Usage,
                    fmt::format("item {} (\"{}\"): no earlier row \"{}\" with seed {}",
                                item.position, item.rowLabel, label, item.seed));
    return found;
}

void copyCheckpoint(const std::string& shard, std::int64_t shardRun, const ExperimentStore& store,
                    std::int64_t runId)
{
    // The shard's checkpoint folder, named as the runner names it for the shard's store.
    const fs::path from = fs::path(shard + ".checkpoints") / ("run-" + std::to_string(shardRun));
    const fs::path to = checkpointDir(store, runId);
    std::error_code ec;
    if (!fs::is_directory(from, ec))
        return;  // nothing kept (the inspector then says the model is gone)
    fs::remove_all(to, ec);
    fs::create_directories(to);
    for (const auto& entry : fs::directory_iterator(from)) {
        if (!entry.is_regular_file())
            continue;
        const fs::path target = to / entry.path().filename();
        fs::create_hard_link(entry.path(), target, ec);  // same filesystem: no copy
        if (ec)
            fs::copy_file(entry.path(), target, fs::copy_options::overwrite_existing);
    }
}

}  // namespace

std::vector<int> SweepManifest::cells() const
{
    std::vector<int> out;
    for (const auto& i : items)
        if (!i.duplicateOf)
            out.push_back(i.position);
    return out;
}

std::string cellDir(const std::string& folder, int position)
{
    return (fs::path(folder) / "cells" / std::to_string(position)).string();
}

std::string shardPath(const std::string& folder, int position)
{
    return (fs::path(cellDir(folder, position)) / "shard.db").string();
}

std::string defaultSweepFolder(const std::string& dbPath, std::int64_t sweepId)
{
    return fs::absolute(dbPath + ".sweeps").string() + "/sweep-" + std::to_string(sweepId);
}

SweepManifest createSweepFolder(ExperimentStore& store, std::int64_t sweepId,
                                const std::string& folder, const json& executor)
{
    const auto sweep = store.sweep(sweepId);
    if (!sweep)
        throw Error(ErrorKind::NotFound, fmt::format("sweep {} does not exist", sweepId),
                    store.path(), 0, "'sllmr sweeps list' shows the sweeps");
    SweepManifest m;
    m.folder = fs::absolute(folder).lexically_normal().string();
    m.sweepId = sweepId;
    m.database = fs::absolute(store.path()).lexically_normal().string();
    m.name = sweep->name;
    m.executor = executor;
    const auto items = store.sweepItems(sweepId);
    json jsonItems = json::array();
    for (const auto& r : items) {
        ManifestItem i{r.position,
                       r.rowLabel,
                       r.seed,
                       r.configJson,
                       r.configHash,
                       r.duplicateOf,
                       referencePosition(items, r)};
        jsonItems.push_back(itemJson(i));
        m.items.push_back(std::move(i));
    }
    std::error_code ec;
    if (fs::exists(manifestPath(m.folder), ec))
        throw Error(ErrorKind::Usage, "the folder already holds a sweep", m.folder, 0,
                    "choose another folder, or resume that sweep with 'sllmr sweep --resume ID'");
    for (const int p : m.cells())
        fs::create_directories(cellDir(m.folder, p), ec);
    if (ec)
        throw Error(ErrorKind::Store, "cannot create the sweep folder (" + ec.message() + ")",
                    m.folder, 0, "choose a writable folder on a filesystem every node can read");
    writeJsonAtomically(manifestPath(m.folder), {{"format", kManifestFormat},
                                                 {"sweep_id", sweepId},
                                                 {"database", m.database},
                                                 {"name", m.name},
                                                 {"executor", executor},
                                                 {"items", jsonItems}});
    json grid = json::parse(sweep->gridJson);
    grid["executor"] = executor;
    grid["folder"] = m.folder;
    store.setSweepGrid(sweepId, grid.dump());
    return m;
}

SweepManifest previewManifest(const std::string& name, const GridExpansion& expansion,
                              std::int64_t sweepId, const std::string& folder)
{
    SweepManifest m;
    m.folder = folder;
    m.sweepId = sweepId;
    m.name = name;
    for (const auto& g : expansion.items) {
        ManifestItem i{g.position,      g.rowLabel,   static_cast<std::int64_t>(g.seed),
                       g.config.dump(), g.configHash, g.duplicateOf,
                       std::nullopt};
        if (g.referenceRow)
            for (const auto& other : expansion.items)
                if (other.rowLabel == *g.referenceRow && other.seed == g.seed &&
                    other.position < g.position)
                    i.referencePosition = other.duplicateOf ? *other.duplicateOf : other.position;
        m.items.push_back(std::move(i));
    }
    return m;
}

SweepManifest readSweepManifest(const std::string& folder)
{
    const std::string path = manifestPath(folder);
    std::ifstream in(path);
    if (!in)
        throw Error(ErrorKind::NotFound, "no sweep manifest (sweep.json) in the folder", folder, 0,
                    "give the folder that 'sllmr sweep --executor processes|slurm' printed");
    const json j = json::parse(in, nullptr, false);
    if (j.is_discarded() || !j.is_object() || j.value("format", 0) != kManifestFormat)
        throw Error(ErrorKind::BadInput, "the sweep manifest is damaged or of another version",
                    path, 0, "start the sweep again from its grid file");
    SweepManifest m;
    try {
        m.folder = fs::absolute(folder).lexically_normal().string();
        m.sweepId = j.at("sweep_id").get<std::int64_t>();
        m.database = j.at("database").get<std::string>();
        m.name = j.at("name").get<std::string>();
        m.executor = j.at("executor");
        for (const auto& item : j.at("items"))
            m.items.push_back(itemFromJson(item));
    } catch (const json::exception& e) {
        throw Error(ErrorKind::BadInput,
                    std::string("the sweep manifest is damaged (") + e.what() + ")", path, 0,
                    "start the sweep again from its grid file");
    }
    for (std::size_t k = 0; k < m.items.size(); ++k)
        if (m.items[k].position != static_cast<int>(k))
            throw Error(ErrorKind::BadInput, "the sweep manifest's items are out of order", path, 0,
                        "start the sweep again from its grid file");
    return m;
}

std::string sweepFolderOf(const ExperimentStore& store, std::int64_t sweepId)
{
    const auto sweep = store.sweep(sweepId);
    if (!sweep)
        throw Error(ErrorKind::NotFound, fmt::format("sweep {} does not exist", sweepId),
                    store.path(), 0, "'sllmr sweeps list' shows the sweeps");
    const json grid = json::parse(sweep->gridJson, nullptr, false);
    if (grid.is_discarded() || !grid.contains("folder") || !grid["folder"].is_string())
        throw Error(ErrorKind::Usage,
                    fmt::format("sweep {} runs in this process (executor local)", sweepId), {}, 0,
                    "'sllmr sweep --resume ID' continues it; it has no shards to collect");
    return grid["folder"].get<std::string>();
}

std::vector<std::vector<int>> cellWaves(const SweepManifest& manifest,
                                        const std::vector<int>& cells)
{
    const std::set<int> chosen(cells.begin(), cells.end());
    std::map<int, int> wave;  // position -> wave
    std::vector<std::vector<int>> waves;
    for (const int p : cells) {
        const auto& item = manifest.items.at(static_cast<std::size_t>(p));
        int w = 0;
        if (item.referencePosition && chosen.count(*item.referencePosition))
            w = wave.at(*item.referencePosition) + 1;  // references come earlier in the queue
        wave[p] = w;
        if (waves.size() <= static_cast<std::size_t>(w))
            waves.resize(static_cast<std::size_t>(w) + 1);
        waves[static_cast<std::size_t>(w)].push_back(p);
    }
    return waves;
}

const char* toString(ShardState state)
{
    switch (state) {
        case ShardState::Missing:
            return "missing";
        case ShardState::InUse:
            return "in use";
        case ShardState::Broken:
            return "broken";
        case ShardState::NoRun:
            return "no run";
        case ShardState::Incomplete:
            return "incomplete";
        case ShardState::Completed:
            return "completed";
    }
    return "unknown";
}

ShardInfo inspectShard(const SweepManifest& manifest, int position)
{
    ShardInfo info;
    const std::string path = shardPath(manifest.folder, position);
    std::error_code ec;
    if (!fs::exists(path, ec))
        return info;
    if (fs::exists(path + "-wal", ec)) {
        info.state = ShardState::InUse;
        return info;
    }
    info.problem = storeFileProblem(path);
    if (!info.problem.empty()) {
        info.state = ShardState::Broken;
        return info;
    }
    const ExperimentStore shard(path, StoreAccess::ReadOnlySnapshot);
    const auto& want = manifest.items.at(static_cast<std::size_t>(position));
    info.state = ShardState::NoRun;
    for (const auto& sweep : shard.sweeps())
        for (const auto& item : shard.sweepItems(sweep.id)) {
            if (item.position != position)
                continue;
            if (item.configHash != want.configHash || item.seed != want.seed) {
                info.state = ShardState::Broken;
                info.problem = "the shard belongs to another cell (config hash or seed differ)";
                return info;
            }
            info.runId = item.runId;
        }
    if (!info.runId)
        return info;
    const auto run = shard.run(*info.runId);
    if (!run)
        return info;
    info.runStatus = run->status;
    info.state =
        run->status == RunStatus::Completed ? ShardState::Completed : ShardState::Incomplete;
    info.problem = run->error;
    return info;
}

namespace {

// Imports one completed cell; returns the new run id or sets `note` and returns nullopt.
std::optional<std::int64_t> importCell(ExperimentStore& store, const SweepManifest& m,
                                       const ManifestItem& item,
                                       const std::map<int, std::int64_t>& collected,
                                       std::string& note)
{
    const ShardInfo info = inspectShard(m, item.position);
    if (info.state != ShardState::Completed) {
        note = fmt::format("shard {}{}{}", toString(info.state),
                           info.state == ShardState::Incomplete
                               ? std::string(" (run ") + toString(info.runStatus) + ")"
                               : std::string(),
                           info.problem.empty() ? "" : ": " + info.problem);
        return std::nullopt;
    }
    const std::string path = shardPath(m.folder, item.position);
    const ExperimentStore shard(path, StoreAccess::ReadOnlySnapshot);
    RunImport options;
    options.sweepItems.emplace_back(m.sweepId, item.position);
    for (const auto& other : m.items)
        if (other.duplicateOf == item.position)
            options.sweepItems.emplace_back(m.sweepId, other.position);
    if (item.referencePosition) {
        const auto ref = collected.find(*item.referencePosition);
        if (ref == collected.end()) {
            note = fmt::format("its reference (item {}) is not collected yet",
                               *item.referencePosition);
            return std::nullopt;
        }
        json config = json::parse(shard.run(*info.runId)->configJson);
        config["gate"]["reference_run"] = ref->second;
        const RunConfig rc = runConfigFromJson(config);
        options.configJson = toJson(rc).dump();
        options.configHash = configHash(rc);
    }
    const auto runId = store.importRun(shard, *info.runId, options);
    copyCheckpoint(path, *info.runId, store, runId);
    return runId;
}

}  // namespace

CollectReport collectSweep(ExperimentStore& store, std::int64_t sweepId)
{
    const SweepManifest m = readSweepManifest(sweepFolderOf(store, sweepId));
    if (m.sweepId != sweepId ||
        fs::absolute(store.path()).lexically_normal().string() != m.database)
        throw Error(
            ErrorKind::Usage,
            fmt::format("the sweep folder belongs to sweep {} of {}", m.sweepId, m.database),
            m.folder, 0, "collect into the database the sweep was started from");
    CollectReport report;
    report.sweepId = sweepId;
    std::map<int, std::int64_t> collected;  // position -> run id in `store`
    for (const auto& row : store.sweepItems(sweepId)) {
        if (row.duplicateOf || !row.runId || row.status != RunStatus::Completed)
            continue;
        if (const auto run = store.run(*row.runId); run && run->status == RunStatus::Completed)
            collected[row.position] = *row.runId;
    }
    for (const auto& item : m.items) {
        if (item.duplicateOf)
            continue;
        CollectedItem c;
        c.position = item.position;
        c.rowLabel = item.rowLabel;
        c.seed = item.seed;
        if (const auto it = collected.find(item.position); it != collected.end()) {
            c.outcome = CollectedItem::Outcome::AlreadyCollected;
            c.runId = it->second;
            ++report.alreadyCollected;
        } else if (const auto runId = importCell(store, m, item, collected, c.note)) {
            c.outcome = CollectedItem::Outcome::Imported;
            c.runId = *runId;
            collected[item.position] = *runId;
            ++report.imported;
        } else {
            ++report.skipped;
        }
        report.items.push_back(std::move(c));
    }
    report.sweepStatus = report.skipped == 0 ? RunStatus::Completed : RunStatus::Running;
    store.setSweepStatus(sweepId, report.sweepStatus);
    return report;
}

namespace {

// The shard's own sweep (created on first use): the cell's item and, for a cell with a
// reference, the reference cell's item, whose run is imported before the cell runs.
std::int64_t shardSweep(ExperimentStore& shard, const SweepManifest& m, const ManifestItem& item)
{
    const auto sweeps = shard.sweeps();
    if (!sweeps.empty())
        return sweeps.back().id;  // the oldest (newest first)
    auto record = [](const ManifestItem& i) {
        SweepItemRecord r;
        r.position = i.position;
        r.rowLabel = i.rowLabel;
        r.seed = i.seed;
        r.configJson = i.configJson;
        r.configHash = i.configHash;
        return r;
    };
    std::vector<SweepItemRecord> items;
    if (item.referencePosition)
        items.push_back(record(m.items.at(static_cast<std::size_t>(*item.referencePosition))));
    items.push_back(record(item));
    SweepRecord sweep;
    sweep.name = m.name;
    sweep.gridJson =
        json{{"folder", m.folder}, {"sweep_id", m.sweepId}, {"cell", item.position}}.dump();
    sweep.status = RunStatus::Running;
    return shard.createSweep(sweep, items);
}

// The shard-local run id of the cell's reference, importing it from the reference's shard once.
std::int64_t importReference(ExperimentStore& shard, std::int64_t sweepId, const SweepManifest& m,
                             const ManifestItem& item)
{
    const int refPos = *item.referencePosition;
    for (const auto& r : shard.sweepItems(sweepId))
        if (r.position == refPos && r.runId)
            return *r.runId;
    const auto& ref = m.items.at(static_cast<std::size_t>(refPos));
    const ShardInfo info = inspectShard(m, refPos);
    if (info.state != ShardState::Completed)
        throw Error(ErrorKind::Usage,
                    fmt::format("cell {} (\"{}\", seed {}) needs the run of cell {} (\"{}\") "
                                "for 'gate.reference_run', whose shard is {}",
                                item.position, item.rowLabel, item.seed, refPos, ref.rowLabel,
                                toString(info.state)),
                    shardPath(m.folder, refPos), 0,
                    "resume the sweep once that cell has completed");
    const ExperimentStore source(shardPath(m.folder, refPos), StoreAccess::ReadOnlySnapshot);
    RunImport options;
    options.sweepItems.emplace_back(sweepId, refPos);
    return shard.importRun(source, *info.runId, options);
}

}  // namespace

RunOutcome runCell(const std::string& folder, int position, int threads,
                   const RunCallbacks& callbacks)
{
    const SweepManifest m = readSweepManifest(folder);
    if (position < 0 || position >= static_cast<int>(m.items.size()) ||
        m.items[static_cast<std::size_t>(position)].duplicateOf)
        throw Error(ErrorKind::Usage, fmt::format("the sweep has no cell {}", position), folder, 0,
                    "cells are the positions of sweep.json's items without duplicate_of");
    const ManifestItem& item = m.items[static_cast<std::size_t>(position)];
    ExperimentStore shard(shardPath(folder, position));
    const std::int64_t sweepId = shardSweep(shard, m, item);
    std::optional<std::int64_t> runId;
    for (const auto& r : shard.sweepItems(sweepId))
        if (r.position == position)
            runId = r.runId;

    RunCallbacks cb = callbacks;
    cb.onStarted = [&](std::int64_t id) {
        runId = id;
        shard.setSweepItem(sweepId, position, id, RunStatus::Running);
        if (callbacks.onStarted)
            callbacks.onStarted(id);
    };
    RunOutcome outcome;
    try {
        if (runId && shard.run(*runId)) {
            outcome.runId = *runId;
            outcome.status = shard.run(*runId)->status;
            if (outcome.status != RunStatus::Completed)
                outcome = resumeRun(*runId, shard, cb);
        } else {
            json config = json::parse(item.configJson);
            if (item.referencePosition)
                config["gate"]["reference_run"] = importReference(shard, sweepId, m, item);
            if (threads > 0 && config["train"].value("threads", 0) == 0)
                config["train"]["threads"] = threads;
            outcome = executeRun(runConfigFromJson(config), shard, cb);
        }
    } catch (const Error&) {
        if (runId)
            shard.setSweepItem(sweepId, position, runId, RunStatus::Failed);
        throw;
    }
    shard.setSweepItem(sweepId, position, outcome.runId, outcome.status);
    shard.setSweepStatus(sweepId, outcome.status);
    return outcome;
}

}  // namespace sllmr
