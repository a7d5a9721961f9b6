#include "analysis/executors.h"

#include "common/error.h"

#include <fmt/format.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <deque>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

extern char** environ;

namespace sllmr {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

[[noreturn]] void settingError(const std::string& where, const std::string& key,
                               const std::string& problem, const std::string& hint)
{
    throw Error(ErrorKind::Usage, fmt::format("executor.{}: {}", key, problem), where, 0, hint);
}

std::string stringSetting(const json& j, const char* key, const std::string& where)
{
    if (!j.contains(key))
        return {};
    if (!j[key].is_string())
        settingError(where, key, "must be a string", "e.g. \"" + std::string(key) + "\": \"...\"");
    const auto value = j[key].get<std::string>();
    if (value.find_first_of("\n\r") != std::string::npos)
        settingError(where, key, "must be one line", "remove the line break");
    return value;
}

int intSetting(const json& j, const char* key, int lo, int hi, const std::string& where)
{
    if (!j.contains(key))
        return 0;
    if (!j[key].is_number_integer() || j[key].get<std::int64_t>() < lo ||
        j[key].get<std::int64_t>() > hi)
        settingError(where, key, fmt::format("must be an integer in {} .. {}", lo, hi),
                     fmt::format("e.g. \"{}\": {}", key, std::max(lo, 1)));
    return j[key].get<int>();
}

// Slurm's time formats: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS.
bool isSlurmTime(const std::string& t)
{
    static const std::regex form(R"(^(\d+-)?\d+(:\d{1,2}){0,2}$)");
    return std::regex_match(t, form);
}

// Slurm's memory sizes: a whole number with an optional unit K, M, G or T (default M).
bool isSlurmMemory(const std::string& m)
{
    static const std::regex form(R"(^\d+[KMGTkmgt]?$)");
    return std::regex_match(m, form);
}

ExecutorKind kindFromText(const std::string& text, const std::string& where)
{
    if (text == "local")
        return ExecutorKind::Local;
    if (text == "processes")
        return ExecutorKind::Processes;
    if (text == "slurm")
        return ExecutorKind::Slurm;
    settingError(where, "name", "unknown executor \"" + text + "\"",
                 "use local, processes or slurm");
}

// Single-quoted for a POSIX shell.
std::string shellQuote(const std::string& text)
{
    std::string out = "'";
    for (const char c : text) {
        if (c == '\'')
            out += "'\\''";
        else
            out += c;
    }
    return out + "'";
}

std::string nowIso()
{
    const auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    char text[32];
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return text;
}

std::string joinCells(const std::vector<int>& cells)
{
    std::string out;
    for (const int c : cells)
        out += (out.empty() ? "" : ",") + std::to_string(c);
    return out;
}

}  // namespace

const char* toString(ExecutorKind kind)
{
    switch (kind) {
        case ExecutorKind::Local:
            return "local";
        case ExecutorKind::Processes:
            return "processes";
        case ExecutorKind::Slurm:
            return "slurm";
    }
    return "local";
}

ExecutorSettings executorFromJson(const json& j, const std::string& where)
{
    ExecutorSettings s;
    if (j.is_null())
        return s;
    if (j.is_string()) {
        s.kind = kindFromText(j.get<std::string>(), where);
        return s;
    }
    if (!j.is_object())
        settingError(where, "name", "\"executor\" must be a name or an object",
                     "e.g. \"executor\": \"processes\" or {\"name\": \"slurm\", \"time\": "
                     "\"00:30:00\"}");
    static const std::set<std::string> allowed = {
        "name", "jobs",    "folder",   "partition", "time",   "cpus_per_task",
        "mem",  "account", "throttle", "sbatch",    "program"};
    for (const auto& [key, value] : j.items())
        if (!allowed.count(key))
            settingError(where, key, "unknown key",
                         "allowed: name, jobs, folder, partition, time, cpus_per_task, mem, "
                         "account, throttle, sbatch, program");
    s.kind = kindFromText(j.contains("name") ? stringSetting(j, "name", where) : "local", where);
    s.jobs = intSetting(j, "jobs", 1, 1024, where);
    s.folder = stringSetting(j, "folder", where);
    auto& o = s.slurm;
    o.partition = stringSetting(j, "partition", where);
    o.time = stringSetting(j, "time", where);
    if (!o.time.empty() && !isSlurmTime(o.time))
        settingError(where, "time", "\"" + o.time + "\" is not a Slurm time limit",
                     "minutes, or [D-]HH:MM:SS, e.g. \"00:30:00\" or \"1-00:00:00\"");
    o.cpusPerTask = intSetting(j, "cpus_per_task", 1, 4096, where);
    o.mem = stringSetting(j, "mem", where);
    if (!o.mem.empty() && !isSlurmMemory(o.mem))
        settingError(where, "mem", "\"" + o.mem + "\" is not a Slurm memory size",
                     "a whole number with K, M, G or T, e.g. \"4G\"");
    o.account = stringSetting(j, "account", where);
    o.throttle = intSetting(j, "throttle", 1, 100000, where);
    o.program = stringSetting(j, "program", where);
    if (j.contains("sbatch")) {
        if (!j["sbatch"].is_array())
            settingError(where, "sbatch", "must be a list of strings",
                         "e.g. \"sbatch\": [\"--qos=short\"]");
        for (const auto& line : j["sbatch"]) {
            if (!line.is_string() ||
                line.get<std::string>().find_first_of("\n\r") != std::string::npos)
                settingError(where, "sbatch", "every entry must be a one-line string",
                             "e.g. \"sbatch\": [\"--qos=short\"]");
            o.extra.push_back(line.get<std::string>());
        }
    }
    return s;
}

json toJson(const ExecutorSettings& s)
{
    json j{{"name", toString(s.kind)}};
    if (s.jobs > 0)
        j["jobs"] = s.jobs;
    if (!s.folder.empty())
        j["folder"] = s.folder;
    if (s.kind != ExecutorKind::Slurm)
        return j;
    const auto& o = s.slurm;
    for (const auto& [key, value] : {std::pair{"partition", o.partition},
                                     {"time", o.time},
                                     {"mem", o.mem},
                                     {"account", o.account},
                                     {"program", o.program}})
        if (!value.empty())
            j[key] = value;
    if (o.cpusPerTask > 0)
        j["cpus_per_task"] = o.cpusPerTask;
    if (o.throttle > 0)
        j["throttle"] = o.throttle;
    if (!o.extra.empty())
        j["sbatch"] = o.extra;
    return j;
}

std::optional<ExecutorSettings> recordedExecutor(const ExperimentStore& store, std::int64_t sweepId)
{
    const auto sweep = store.sweep(sweepId);
    if (!sweep)
        throw Error(ErrorKind::NotFound, fmt::format("sweep {} does not exist", sweepId),
                    store.path(), 0, "'sllmr sweeps list' shows the sweeps");
    return recordedExecutor(*sweep);
}

std::optional<ExecutorSettings> recordedExecutor(const SweepRecord& sweep)
{
    const json grid = json::parse(sweep.gridJson, nullptr, false);
    if (grid.is_discarded() || !grid.contains("folder") || !grid["folder"].is_string())
        return std::nullopt;
    ExecutorSettings settings = executorFromJson(grid.value("executor", json()),
                                                 fmt::format("the grid of sweep {}", sweep.id));
    settings.folder = grid["folder"].get<std::string>();
    return settings;
}

// --- running programs ----------------------------------------------------------------------------

namespace {

struct Spawned
{
    pid_t pid = -1;
    int readEnd = -1;  // the child's output when captured
};

// Starts argv[0] (searched in PATH) with stdout and stderr going to `logPath` (appended) or, when
// it is empty, to a pipe.
Spawned spawn(const std::vector<std::string>& argv, const std::string& logPath)
{
    std::vector<char*> args;
    for (const auto& a : argv)
        args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    Spawned s;
    int fds[2] = {-1, -1};
    if (logPath.empty()) {
        if (pipe2(fds, O_CLOEXEC) != 0)
            throw Error(ErrorKind::Internal, "cannot create a pipe");
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
        posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
    } else {
        posix_spawn_file_actions_addopen(&actions, 1, logPath.c_str(),
                                         O_WRONLY | O_CREAT | O_APPEND, 0644);
        posix_spawn_file_actions_adddup2(&actions, 1, 2);
    }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    const int rc = posix_spawnp(&s.pid, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (fds[1] >= 0)
        close(fds[1]);
    if (rc != 0) {
        if (fds[0] >= 0)
            close(fds[0]);
        throw Error(ErrorKind::NotFound,
                    fmt::format("cannot run {} ({})", argv.front(), std::strerror(rc)), {}, 0,
                    "check that it is installed and in PATH");
    }
    s.readEnd = fds[0];
    return s;
}

int exitCodeOf(int status)
{
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return 1;
}

}  // namespace

int runProgram(const std::vector<std::string>& argv, std::string* output)
{
    const Spawned s = spawn(argv, {});
    std::string text;
    char buffer[4096];
    for (;;) {
        const ssize_t n = read(s.readEnd, buffer, sizeof buffer);
        if (n > 0)
            text.append(buffer, static_cast<std::size_t>(n));
        else if (n == 0 || errno != EINTR)
            break;
    }
    close(s.readEnd);
    int status = 0;
    while (waitpid(s.pid, &status, 0) < 0 && errno == EINTR) {}
    if (output)
        *output = std::move(text);
    return exitCodeOf(status);
}

// --- processes -----------------------------------------------------------------------------------

std::map<int, int> runProcesses(const SweepManifest& m, const std::vector<int>& cells, int jobs,
                                const std::string& program, const ProcessCallbacks& cb)
{
    jobs = std::max(1, jobs);
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    const int threads = std::max(1, static_cast<int>(cores) / jobs);
    std::deque<int> waiting(cells.begin(), cells.end());
    const std::set<int> chosen(cells.begin(), cells.end());
    std::map<int, int> exitCodes;
    std::map<pid_t, int> running;  // pid -> position
    bool cancelled = false;

    // A cell is ready when the cell it refers to (if in this batch) has ended.
    auto ready = [&](int p) {
        const auto& ref = m.items.at(static_cast<std::size_t>(p)).referencePosition;
        return !ref || !chosen.count(*ref) || exitCodes.count(*ref);
    };
    while (!waiting.empty() || !running.empty()) {
        if (!cancelled && cb.cancel && cb.cancel->load()) {
            cancelled = true;
            for (const auto& [pid, position] : running)
                kill(pid, SIGTERM);  // the run is kept as cancelled, resumable
        }
        while (!cancelled && static_cast<int>(running.size()) < jobs) {
            const auto next = std::find_if(waiting.begin(), waiting.end(), ready);
            if (next == waiting.end())
                break;
            const int p = *next;
            waiting.erase(next);
            const std::string log = (fs::path(cellDir(m.folder, p)) / "worker.log").string();
            const Spawned s = spawn({program, "run", "--sweep-dir", m.folder, "--cell",
                                     std::to_string(p), "--threads", std::to_string(threads)},
                                    log);
            running[s.pid] = p;
            if (cb.onCellStarted)
                cb.onCellStarted(p, s.pid);
        }
        if (cancelled && running.empty())
            break;
        int status = 0;
        const pid_t pid = waitpid(-1, &status, WNOHANG);
        if (pid <= 0 || !running.count(pid)) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            continue;
        }
        const int p = running.at(pid);
        running.erase(pid);
        exitCodes[p] = exitCodeOf(status);
        if (cb.onCellFinished)
            cb.onCellFinished(p, exitCodes[p]);
    }
    return exitCodes;
}

// --- slurm ---------------------------------------------------------------------------------------

std::string slurmScript(const SweepManifest& m, const SlurmOptions& o,
                        const std::vector<int>& cells, const std::string& program)
{
    std::string s = "#!/bin/bash\n";
    s += fmt::format("# sllmr sweep {} \"{}\": cells {} ({} array tasks)\n", m.sweepId, m.name,
                     joinCells(cells), cells.size());
    s += fmt::format("#SBATCH --job-name=sllmr-sweep-{}\n", m.sweepId);
    s += fmt::format("#SBATCH --array={}{}\n", joinCells(cells),
                     o.throttle > 0 ? "%" + std::to_string(o.throttle) : "");
    s += fmt::format("#SBATCH --output={}/cells/%a/slurm-%A_%a.log\n", m.folder);
    s += "#SBATCH --ntasks=1\n";
    if (!o.partition.empty())
        s += "#SBATCH --partition=" + o.partition + "\n";
    if (!o.time.empty())
        s += "#SBATCH --time=" + o.time + "\n";
    if (o.cpusPerTask > 0)
        s += fmt::format("#SBATCH --cpus-per-task={}\n", o.cpusPerTask);
    if (!o.mem.empty())
        s += "#SBATCH --mem=" + o.mem + "\n";
    if (!o.account.empty())
        s += "#SBATCH --account=" + o.account + "\n";
    for (const auto& line : o.extra)
        s += (line.rfind("#SBATCH", 0) == 0 ? line : "#SBATCH " + line) + "\n";
    s +=
        "\n# One cell per task; it writes only its own shard (cells/N/shard.db) and checkpoints.\n";
    s += fmt::format(
        "exec {} run --sweep-dir {} --cell \"$SLURM_ARRAY_TASK_ID\" --threads "
        "\"${{SLURM_CPUS_PER_TASK:-{}}}\"\n",
        shellQuote(program), shellQuote(m.folder), std::max(1, o.cpusPerTask));
    return s;
}

namespace {

std::string jobsPath(const std::string& folder)
{
    return (fs::path(folder) / "jobs.json").string();
}

json submissionJson(const SlurmSubmission& s)
{
    return {{"job_id", s.jobId},
            {"cells", s.cells},
            {"depends_on", s.dependsOn},
            {"script", s.script},
            {"submitted_at", s.submittedAt}};
}

}  // namespace

std::vector<SlurmSubmission> readSubmissions(const std::string& folder)
{
    std::vector<SlurmSubmission> out;
    std::ifstream in(jobsPath(folder));
    if (!in)
        return out;
    const json j = json::parse(in, nullptr, false);
    if (j.is_discarded() || !j.is_array())
        throw Error(ErrorKind::BadInput, "the list of Slurm submissions is damaged",
                    jobsPath(folder), 0,
                    "'squeue --me' lists the jobs; remove the file to forget them");
    for (const auto& s : j)
        out.push_back({s.value("job_id", ""), s.value("cells", std::vector<int>{}),
                       s.value("depends_on", ""), s.value("script", ""),
                       s.value("submitted_at", "")});
    return out;
}

std::vector<SlurmSubmission> submitSlurm(const SweepManifest& m, const SlurmOptions& o,
                                         const std::vector<int>& cells, const std::string& program)
{
    auto all = readSubmissions(m.folder);
    std::vector<SlurmSubmission> added;
    std::string previous;
    for (const auto& wave : cellWaves(m, cells)) {
        SlurmSubmission sub;
        sub.cells = wave;
        sub.dependsOn = previous;
        sub.submittedAt = nowIso();
        sub.script =
            (fs::path(m.folder) / fmt::format("submit-{}.sbatch", all.size() + 1)).string();
        {
            std::ofstream out(sub.script);
            out << slurmScript(m, o, wave, program);
            if (!out)
                throw Error(ErrorKind::Store, "cannot write the batch script", sub.script, 0,
                            "check that the sweep folder is writable");
        }
        std::vector<std::string> argv{"sbatch", "--parsable"};
        if (!previous.empty())
            argv.push_back("--dependency=afterany:" + previous);
        argv.push_back(sub.script);
        std::string output;
        const int rc = runProgram(argv, &output);
        while (!output.empty() && std::isspace(static_cast<unsigned char>(output.back())))
            output.pop_back();
        if (rc != 0)
            throw Error(ErrorKind::BadInput,
                        fmt::format("sbatch refused the job (exit {}): {}", rc, output), sub.script,
                        0, "check the partition, time, account and the cluster with 'sinfo'");
        sub.jobId = output.substr(0, output.find(';'));  // "id;cluster" on federations
        if (sub.jobId.empty() || !std::all_of(sub.jobId.begin(), sub.jobId.end(),
                                              [](char c) { return std::isdigit(c); }))
            throw Error(ErrorKind::BadInput, "sbatch printed no job id: " + output, sub.script, 0,
                        "check the Slurm client with 'sbatch --version'");
        previous = sub.jobId;
        all.push_back(sub);
        added.push_back(sub);
        json list = json::array();
        for (const auto& s : all)
            list.push_back(submissionJson(s));
        std::ofstream out(jobsPath(m.folder));
        out << list.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    }
    return added;
}

// --- status --------------------------------------------------------------------------------------

const char* toString(CellState state)
{
    switch (state) {
        case CellState::Pending:
            return "pending";
        case CellState::Running:
            return "running";
        case CellState::Completed:
            return "completed";
        case CellState::Failed:
            return "failed";
    }
    return "pending";
}

namespace {

// "JOB_TASK" -> Slurm state, from squeue (jobs Slurm still holds) and sacct (where accounting is
// enabled; it keeps finished jobs). Lines of other shapes (e.g. a pending "JOB_[1-3]") are skipped.
std::map<std::string, std::string> slurmStates(const std::vector<std::string>& jobIds)
{
    std::map<std::string, std::string> states;
    if (jobIds.empty())
        return states;
    std::string list;
    for (const auto& id : jobIds)
        list += (list.empty() ? "" : ",") + id;
    auto parse = [&](const std::string& text) {
        std::istringstream in(text);
        std::string line;
        while (std::getline(in, line)) {
            const auto bar = line.find('|');
            if (bar == std::string::npos)
                continue;
            const auto id = line.substr(0, bar);
            auto state = line.substr(bar + 1);
            state = state.substr(0, state.find_first_of("| "));  // "CANCELLED by 0" -> CANCELLED
            if (id.find('_') != std::string::npos && id.find('[') == std::string::npos &&
                !state.empty())
                states[id] = state;
        }
    };
    std::string output;
    try {
        if (runProgram({"sacct", "-n", "-P", "-X", "-j", list, "-o", "JobID,State"}, &output) == 0)
            parse(output);
    } catch (const Error&) {
        // no sacct: squeue alone
    }
    if (runProgram({"squeue", "-h", "-r", "--states=all", "-j", list, "-o", "%i|%T"}, &output) == 0)
        parse(output);  // newer than sacct's view
    return states;
}

std::string logTail(const std::string& dir, int lines)
{
    fs::path newest;
    fs::file_time_type newestTime{};
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
        if (e.path().extension() != ".log")
            continue;
        const auto t = e.last_write_time(ec);
        if (newest.empty() || t > newestTime) {
            newest = e.path();
            newestTime = t;
        }
    }
    if (newest.empty())
        return {};
    std::ifstream in(newest);
    std::deque<std::string> tail;
    std::string line;
    while (std::getline(in, line)) {
        // Progress lines rewrite themselves with \r; keep what was last shown.
        if (const auto cr = line.rfind('\r'); cr != std::string::npos)
            line = line.substr(cr + 1);
        tail.push_back(line);
        if (static_cast<int>(tail.size()) > lines)
            tail.pop_front();
    }
    std::string out;
    for (const auto& l : tail)
        out += l + "\n";
    return out;
}

CellState fromSlurm(const std::string& state)
{
    static const std::set<std::string> pending = {"PENDING",      "CONFIGURING", "REQUEUED",
                                                  "REQUEUE_HOLD", "RESIZING",    "SUSPENDED"};
    if (pending.count(state))
        return CellState::Pending;
    if (state == "RUNNING" || state == "COMPLETING")
        return CellState::Running;
    return CellState::Failed;  // COMPLETED without a completed shard, CANCELLED, TIMEOUT, ...
}

}  // namespace

std::vector<CellStatus> sweepCellStatus(const SweepManifest& m)
{
    const auto submissions = readSubmissions(m.folder);
    std::map<int, std::string> taskOf;  // position -> JOB_TASK of its latest submission
    std::vector<std::string> jobIds;
    for (const auto& s : submissions) {
        jobIds.push_back(s.jobId);
        for (const int c : s.cells)
            taskOf[c] = s.jobId + "_" + std::to_string(c);
    }
    const auto states = slurmStates(jobIds);
    std::vector<CellStatus> out;
    for (const int p : m.cells()) {
        const auto& item = m.items[static_cast<std::size_t>(p)];
        CellStatus c;
        c.position = p;
        c.rowLabel = item.rowLabel;
        c.seed = item.seed;
        const ShardInfo shard = inspectShard(m, p);
        c.shard = toString(shard.state);
        c.detail = shard.state == ShardState::Incomplete
                       ? std::string("run ") + toString(shard.runStatus)
                       : std::string();
        if (!shard.problem.empty())
            c.detail += (c.detail.empty() ? "" : ": ") + shard.problem;
        if (const auto t = taskOf.find(p); t != taskOf.end()) {
            c.jobId = t->second;
            if (const auto s = states.find(t->second); s != states.end())
                c.slurmState = s->second;
        }
        if (shard.state == ShardState::Completed)
            c.state = CellState::Completed;
        else if (!c.slurmState.empty())
            c.state = fromSlurm(c.slurmState);
        else if (shard.state == ShardState::InUse)
            c.state = CellState::Running;  // processes executor, or Slurm forgot the task
        else if (shard.state == ShardState::Missing && c.jobId.empty())
            c.state = CellState::Pending;  // never submitted or started
        else
            c.state = CellState::Failed;
        if (c.state == CellState::Failed)
            c.logTail = logTail(cellDir(m.folder, p), 8);
        out.push_back(std::move(c));
    }
    return out;
}

std::vector<int> cellsToResume(const std::vector<CellStatus>& status)
{
    std::vector<int> out;
    for (const auto& c : status)
        if (c.state == CellState::Failed ||
            (c.state == CellState::Pending && c.jobId.empty() && c.slurmState.empty()))
            out.push_back(c.position);
    return out;
}

SweepLaunch prepareSweepLaunch(ExperimentStore& store, std::int64_t sweepId,
                               const ExecutorSettings& settings, bool resuming)
{
    SweepLaunch launch;
    if (!resuming) {
        ExecutorSettings recorded = settings;
        if (recorded.folder.empty())
            recorded.folder = defaultSweepFolder(store.path(), sweepId);
        launch.manifest = createSweepFolder(store, sweepId, recorded.folder, toJson(recorded));
        store.setSweepStatus(sweepId, RunStatus::Running);
        launch.cells = launch.manifest.cells();
        return launch;
    }
    launch.manifest = readSweepManifest(sweepFolderOf(store, sweepId));
    if (settings.kind == ExecutorKind::Slurm) {
        launch.cells = cellsToResume(sweepCellStatus(launch.manifest));
    } else {
        for (const int p : launch.manifest.cells())
            if (inspectShard(launch.manifest, p).state != ShardState::Completed)
                launch.cells.push_back(p);
    }
    store.setSweepStatus(sweepId, RunStatus::Running);
    return launch;
}

}  // namespace sllmr
