// The offline LLM scoring pipeline and the simulated LLM: candidate sampling and prompts from a
// template, answer parsing, the chat-completions protocol against a local server that misbehaves
// on purpose (429 with Retry-After, 500, answers beyond the timeout, truncated bodies, prose and
// code fences, malformed JSON, unknown ids, out-of-range scores), the answer cache (rerun costs
// nothing; a killed `sllmr score` resumes), batch files, score-file comments and provenance, and a
// reliability gate trained with a simulated LLM that is right only on cold users.
#include "common/error.h"
#include "data/loaders.h"
#include "data/segments.h"
#include "llm/llm_cache.h"
#include "llm/prompts.h"
#include "llm/scores.h"
#include "llm/scoring_job.h"
#include "llm/simulate.h"
#include "run/runner.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

using namespace sllmr;
using nlohmann::json;

namespace {

const std::string kDemo = SLLMR_DEMO_DIR;
const char* const kSecret = "sk-test-7f3a9c1d-never-stored";

DatasetSpec demoSpec()
{
    DatasetSpec s;
    s.path = kDemo + "/llm-rankings-ml-latest-small/split/train.tsv";
    s.testPath = kDemo + "/llm-rankings-ml-latest-small/split/test.tsv";
    s.itemsPath = kDemo + "/ml-latest-small/movies.csv";
    s.split.method = "given";
    return s;
}

const Dataset& demo()
{
    static const Dataset ds = loadDataset(demoSpec());
    return ds;
}

const Segmentation& demoSegments()
{
    static const Segmentation seg = computeSegments(demo(), demoSpec().segments);
    return seg;
}

std::string readAll(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Original ids of the candidates in a prompt: lines "- [id] title".
std::vector<std::string> candidateIds(const std::string& prompt)
{
    static const std::regex re(R"(\n- \[([^\]]+)\])");
    std::vector<std::string> ids;
    for (auto it = std::sregex_iterator(prompt.begin(), prompt.end(), re);
         it != std::sregex_iterator(); ++it)
        ids.push_back((*it)[1]);
    return ids;
}

// The score the fake LLM gives item `id`: a function of the id alone.
double fakeScore(const std::string& id)
{
    return static_cast<double>(std::stoull(id) % 7) / 6.0;
}

std::string scoresJson(const std::vector<std::string>& ids)
{
    json arr = json::array();
    for (const auto& id : ids)
        arr.push_back({{"item_id", std::stoull(id)}, {"score", fakeScore(id)}});
    return json{{"scores", arr}}.dump();
}

std::string chatCompletion(const std::string& content, bool usage = true)
{
    json j = {{"id", "chatcmpl-1"},
              {"object", "chat.completion"},
              {"choices", json::array({{{"index", 0},
                                        {"message", {{"role", "assistant"}, {"content", content}}},
                                        {"finish_reason", "stop"}}})}};
    if (usage)
        j["usage"] = {{"prompt_tokens", 100}, {"completion_tokens", 40}, {"total_tokens", 140}};
    return j.dump();
}

std::string promptOf(const std::string& requestBody)
{
    const json j = json::parse(requestBody);
    return j["messages"][0]["content"].get<std::string>();
}

// A chat-completions server on 127.0.0.1 (ephemeral port), one thread per connection. The handler
// sees the request body and how often that body was seen before, and decides the reply.
class FakeLlm
{
public:
    struct Reply
    {
        int status = 200;
        std::string body;
        std::string headers;  // extra header lines, each ending in \r\n
        int delayMs = 0;
        bool truncate = false;  // announce more bytes than are sent, then close
    };
    using Handler = std::function<Reply(const std::string& body, int attempt)>;

    explicit FakeLlm(Handler handler) : m_handler(std::move(handler))
    {
        m_listen = ::socket(AF_INET, SOCK_STREAM, 0);
        int one = 1;
        ::setsockopt(m_listen, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = 0;
        if (::bind(m_listen, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
            ::listen(m_listen, 64) != 0)
            qFatal("cannot listen on 127.0.0.1");
        socklen_t len = sizeof addr;
        ::getsockname(m_listen, reinterpret_cast<sockaddr*>(&addr), &len);
        m_port = ntohs(addr.sin_port);
        m_acceptor = std::thread([this] { acceptLoop(); });
    }
    ~FakeLlm()
    {
        m_stop = true;
        m_acceptor.join();
        ::close(m_listen);
        std::lock_guard lock(m_mutex);
        for (auto& t : m_workers)
            t.join();
    }
    std::string baseUrl() const { return "http://127.0.0.1:" + std::to_string(m_port) + "/v1"; }
    int requests() const { return m_requests.load(); }
    std::vector<std::string> authorizations()
    {
        std::lock_guard lock(m_mutex);
        return m_auth;
    }
    std::vector<std::string> paths()
    {
        std::lock_guard lock(m_mutex);
        return m_paths;
    }
    // Time of each attempt of a body (ms since the server started).
    std::vector<qint64> attemptTimes(const std::string& body)
    {
        std::lock_guard lock(m_mutex);
        return m_times[body];
    }

private:
    void acceptLoop()
    {
        while (!m_stop) {
            pollfd p{m_listen, POLLIN, 0};
            if (::poll(&p, 1, 50) <= 0)
                continue;
            const int fd = ::accept(m_listen, nullptr, nullptr);
            if (fd < 0)
                continue;
            std::lock_guard lock(m_mutex);
            m_workers.emplace_back([this, fd] { serve(fd); });
        }
    }

    void serve(int fd)
    {
        std::string in;
        char buf[8192];
        std::size_t headerEnd = std::string::npos;
        std::size_t length = 0;
        while (!m_stop) {
            pollfd p{fd, POLLIN, 0};
            if (::poll(&p, 1, 50) <= 0)
                continue;
            const auto n = ::recv(fd, buf, sizeof buf, 0);
            if (n <= 0)
                break;
            in.append(buf, static_cast<std::size_t>(n));
            if (headerEnd == std::string::npos) {
                headerEnd = in.find("\r\n\r\n");
                if (headerEnd != std::string::npos) {
                    std::smatch m;
                    const std::string head = in.substr(0, headerEnd);
                    static const std::regex cl(R"((?:^|\r\n)content-length:\s*(\d+))",
                                               std::regex::icase);
                    if (std::regex_search(head, m, cl))
                        length = std::stoul(m[1]);
                }
            }
            if (headerEnd != std::string::npos && in.size() >= headerEnd + 4 + length)
                break;
        }
        if (headerEnd == std::string::npos) {
            ::close(fd);
            return;
        }
        const std::string head = in.substr(0, headerEnd);
        const std::string body = in.substr(headerEnd + 4, length);
        int attempt = 0;
        {
            std::lock_guard lock(m_mutex);
            m_paths.push_back(head.substr(0, head.find("\r\n")));
            static const std::regex auth(R"(\r\nauthorization:\s*([^\r\n]*))", std::regex::icase);
            std::smatch m;
            m_auth.push_back(std::regex_search(head, m, auth) ? m[1].str() : std::string());
            attempt = m_seen[body]++;
            m_times[body].push_back(m_clock.elapsed());
        }
        ++m_requests;
        const Reply r = m_handler(body, attempt);
        for (int waited = 0; waited < r.delayMs && !m_stop; waited += 20)
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        std::string out =
            "HTTP/1.1 " + std::to_string(r.status) + " X\r\n" +
            "Content-Type: application/json\r\nConnection: close\r\n" + r.headers +
            "Content-Length: " + std::to_string(r.body.size() + (r.truncate ? 100 : 0)) +
            "\r\n\r\n" + (r.truncate ? r.body.substr(0, r.body.size() / 2) : r.body);
        ::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
        ::shutdown(fd, SHUT_WR);
        ::close(fd);
    }

    Handler m_handler;
    int m_listen = -1;
    int m_port = 0;
    std::atomic<bool> m_stop{false};
    std::atomic<int> m_requests{0};
    std::thread m_acceptor;
    std::mutex m_mutex;
    std::vector<std::thread> m_workers;
    std::map<std::string, int> m_seen;
    std::map<std::string, std::vector<qint64>> m_times;
    std::vector<std::string> m_auth;
    std::vector<std::string> m_paths;
    QElapsedTimer m_clock = [] {
        QElapsedTimer t;
        t.start();
        return t;
    }();
};

// A well-behaved reply: scores every candidate of the prompt.
FakeLlm::Reply goodReply(const std::string& body)
{
    FakeLlm::Reply r;
    r.body = chatCompletion(scoresJson(candidateIds(promptOf(body))));
    return r;
}

std::string userOf(const std::string& body)
{
    static const std::regex re(R"(User (\S+)\.)");
    std::smatch m;
    const std::string prompt = promptOf(body);
    return std::regex_search(prompt, m, re) ? m[1].str() : std::string();
}

std::string writeTemplate(const QTemporaryDir& dir)
{
    const std::string path = dir.filePath(QStringLiteral("template.txt")).toStdString();
    std::ofstream(path) << "User {{user_id}}.\nLast {{history_count}} watched:\n{{history}}\n"
                           "Rate these {{candidate_count}}:\n{{candidates}}\n{{output_format}}\n";
    return path;
}

ScoringParams testParams(const QTemporaryDir& dir, const FakeLlm& server)
{
    ScoringParams p;
    p.endpoint.baseUrl = server.baseUrl();
    p.endpoint.model = "fake-model";
    p.endpoint.timeoutSeconds = 1.0;
    p.templatePath = writeTemplate(dir);
    p.outputPath = dir.filePath(QStringLiteral("scores.tsv")).toStdString();
    p.candidates.candidates = 5;
    p.candidates.popularPool = 50;
    p.candidates.coldExtra = 2;
    p.candidates.tailExtra = 1;
    p.candidates.tauUser = demoSegments().tauUser;
    p.candidates.tauItem = demoSegments().tauItem;
    p.candidates.maxUsers = 8;
    p.concurrency = 3;
    p.maxRetries = 2;
    p.backoffSeconds = 0.05;
    return p;
}

// Rows of a written score file: (user, item) -> score.
std::map<std::pair<std::string, std::string>, double> readScoreRows(const std::string& path)
{
    std::map<std::pair<std::string, std::string>, double> rows;
    std::ifstream in(path);
    std::string line;
    bool header = false;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#')
            continue;
        if (!header) {
            header = true;
            continue;
        }
        std::istringstream ls(line);
        std::string u, i;
        double v = 0;
        ls >> u >> i >> v;
        rows[{u, i}] = v;
    }
    return rows;
}

// A small MF run with the reliability gate on the demo, trained with `scores`, evaluated on
// sampled negatives.
RunConfig mfReliabilityRun(const ScoreFileSpec& scores, int epochs, int batchSize)
{
    RunConfig c;
    c.dataset = demoSpec();
    c.scores = scores;
    c.model.type = "mf";
    c.model.dim = 16;
    c.train.epochs = epochs;
    c.train.batchSize = batchSize;
    c.method.name = MethodName::Selective;
    c.gate.mode = GateMode::Reliability;
    c.eval.mode = "sampled";
    return c;
}

}  // namespace

class TestLlm : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void candidatesAreSampledAsSpecified();
    void promptFollowsTheTemplate();
    void badTemplatesAreRejected();
    void answersAreRead_data();
    void answersAreRead();
    void misbehavingServerIsSurvived();
    void cancelKeepsTheCache();
    void cancelAbortsARequestInFlight();
    void killedScoringResumesFromTheCache();
    void dryRunAndBatchImport();
    void scoreFileCommentsAndProvenance();
    void simulatedLlmReliableOnColdTeachesTheGate();
    void simulatedLlmNamedInTheRunConfig();
    void resumeNeedsTheInputsTheRunStartedOn();
    void contentHashesStayTheSameAcrossVersions();
};

void TestLlm::initTestCase()
{
    qputenv("SLLMR_API_KEY", kSecret);
    QVERIFY(demo().itemInfo.hasTitles());
    QVERIFY(demoSegments().tauUser > 0);
}

void TestLlm::candidatesAreSampledAsSpecified()
{
    const Dataset& ds = demo();
    CandidateSpec spec;
    spec.tauUser = demoSegments().tauUser;
    spec.tauItem = demoSegments().tauItem;
    const auto plans = planCandidates(ds, spec);
    QCOMPARE(plans.size(), std::size_t(ds.numUsers()));
    // The top-M popular items.
    std::vector<std::uint32_t> order(ds.numItems());
    std::iota(order.begin(), order.end(), 0u);
    std::stable_sort(order.begin(), order.end(),
                     [&](auto a, auto b) { return ds.popularity[a] > ds.popularity[b]; });
    const std::set<std::uint32_t> top(order.begin(), order.begin() + spec.popularPool);
    const auto offsets = ds.trainOffsets();
    int cold = 0;
    for (const auto& p : plans) {
        std::set<std::uint32_t> history;
        for (auto k = offsets[p.user]; k < offsets[p.user + 1]; ++k)
            history.insert(ds.train[k].item);
        // The last L training interactions, oldest first.
        QCOMPARE(p.history.size(),
                 std::min<std::size_t>(10, offsets[p.user + 1] - offsets[p.user]));
        QCOMPARE(p.history.back(), ds.train[offsets[p.user + 1] - 1].item);
        QCOMPARE(p.cold, ds.historyLength[p.user] < spec.tauUser);
        cold += p.cold;
        const std::size_t popular = spec.candidates + (p.cold ? spec.coldExtra : 0);
        QCOMPARE(p.candidates.size(), popular + spec.tailExtra);
        std::set<std::uint32_t> distinct(p.candidates.begin(), p.candidates.end());
        QCOMPARE(distinct.size(), p.candidates.size());
        for (std::size_t k = 0; k < p.candidates.size(); ++k) {
            const auto i = p.candidates[k];
            QVERIFY(!history.count(i));  // never a training positive
            if (k < popular)
                QVERIFY(top.count(i));
            else
                QVERIFY(ds.popularity[i] < spec.tauItem);  // the tail extras
        }
    }
    QVERIFY(cold > 50);
    // Seeded per user: a subset plans the same; another seed plans differently.
    CandidateSpec few = spec;
    few.maxUsers = 5;
    const auto again = planCandidates(ds, few);
    QCOMPARE(again.size(), std::size_t(5));
    for (std::size_t k = 0; k < again.size(); ++k)
        QCOMPARE(again[k].candidates, plans[k].candidates);
    few.seed = 7;
    QVERIFY(planCandidates(ds, few)[0].candidates != plans[0].candidates);
    CandidateSpec onlyCold = spec;
    onlyCold.users = "cold";
    const auto coldPlans = planCandidates(ds, onlyCold);
    QCOMPARE(int(coldPlans.size()), cold);
    for (const auto& p : coldPlans)
        QVERIFY(p.cold);
}

void TestLlm::promptFollowsTheTemplate()
{
    QTemporaryDir dir;
    const Dataset& ds = demo();
    const auto tmpl = PromptTemplate::load(writeTemplate(dir));
    CandidateSpec spec;
    spec.maxUsers = 1;
    spec.candidates = 4;
    spec.tailExtra = 0;
    spec.coldExtra = 0;
    const auto plan = planCandidates(ds, spec).at(0);
    const std::string prompt = renderPrompt(tmpl, ds, plan);
    std::string expected = "User " + ds.users.label(plan.user) + ".\nLast 10 watched:\n";
    for (auto i : plan.history)
        expected += "- " + ds.itemInfo.titles[i] + "\n";
    expected += "Rate these 4:\n";
    for (auto i : plan.candidates)
        expected += "- [" + ds.items.label(i) + "] " + ds.itemInfo.titles[i] + "\n";
    expected += outputFormatText();
    QCOMPARE(QString::fromStdString(prompt), QString::fromStdString(expected));
    // The shipped template renders every placeholder.
    const auto shipped = PromptTemplate::load(PromptTemplate::defaultPath());
    const std::string p2 = renderPrompt(shipped, ds, plan);
    QVERIFY(p2.find("{{") == std::string::npos);
    QVERIFY(p2.find(ds.itemInfo.titles[plan.history.back()]) != std::string::npos);
    QCOMPARE(candidateIds(p2).size(), plan.candidates.size());
    // The request body carries model, prompt and parameters, and nothing else.
    EndpointSpec e;
    e.model = "m";
    const json body = json::parse(chatRequestBody(e, prompt));
    QCOMPARE(body["messages"][0]["content"].get<std::string>(), prompt);
    QCOMPARE(body["model"].get<std::string>(), std::string("m"));
    QCOMPARE(body.size(), std::size_t(4));
}

void TestLlm::badTemplatesAreRejected()
{
    try {
        PromptTemplate::fromText("{{history}}\n{{candidates}}\n{{output_format}}\n{{histroy}}",
                                 "t.txt");
        QFAIL("a misspelt placeholder was accepted");
    } catch (const Error& e) {
        QCOMPARE(e.kind(), ErrorKind::BadInput);
        QCOMPARE(e.line(), std::int64_t(4));
        QVERIFY(e.problem().find("{{histroy}}") != std::string::npos);
    }
    try {
        PromptTemplate::fromText("{{history}} {{output_format}}", "t.txt");
        QFAIL("a template without candidates was accepted");
    } catch (const Error& e) {
        QVERIFY(e.problem().find("{{candidates}}") != std::string::npos);
    }
    QVERIFY_THROWS_EXCEPTION(Error, PromptTemplate::load("/nonexistent/template.txt"));
}

void TestLlm::answersAreRead_data()
{
    QTest::addColumn<QString>("answer");
    QTest::addColumn<bool>("ok");
    QTest::addColumn<int>("scored");
    QTest::addColumn<int>("unknown");
    QTest::addColumn<int>("clipped");
    // Candidates below are the plan's first three items A, B, C.
    QTest::newRow("plain") << R"({"scores":[{"item_id":A,"score":0.9},{"item_id":B,"score":0.1}]})"
                           << true << 2 << 0 << 0;
    QTest::newRow("fenced in prose")
        << "Sure! Here are the scores:\n```json\n{\"scores\": [{\"item_id\": \"A\", \"score\": "
           "0.7}, {\"item_id\": C, \"score\": 0.2}]}\n```\nHope this helps."
        << true << 2 << 0 << 0;
    QTest::newRow("prose, no fence")
        << R"(I think {"scores":[{"item_id":A,"score":0.5}]} is right.)" << true << 1 << 0 << 0;
    QTest::newRow("bare array, other keys")
        << R"([{"id":A,"relevance":0.3},{"itemId":"B","probability":"0.6"}])" << true << 2 << 0
        << 0;
    QTest::newRow("id map") << R"({"A": 0.8, "B": 0.4, "C": 1})" << true << 3 << 0 << 0;
    QTest::newRow("unknown and out of range")
        << R"({"scores":[{"item_id":A,"score":1.7},{"item_id":999999999,"score":0.5},)"
           R"({"item_id":B,"score":-3},{"item_id":"x","score":0.5}]})"
        << true << 2 << 2 << 2;
    QTest::newRow("duplicate id keeps the first")
        << R"({"scores":[{"item_id":A,"score":0.9},{"item_id":A,"score":0.1}]})" << true << 1 << 0
        << 0;
    QTest::newRow("malformed") << R"({"scores":[{"item_id":A,"score":0.9},)" << false << 0 << 0
                               << 0;
    QTest::newRow("prose only") << "I cannot rate these movies." << false << 0 << 0 << 0;
    QTest::newRow("empty") << "" << false << 0 << 0 << 0;
}

void TestLlm::answersAreRead()
{
    QFETCH(QString, answer);
    QFETCH(bool, ok);
    QFETCH(int, scored);
    QFETCH(int, unknown);
    QFETCH(int, clipped);
    const Dataset& ds = demo();
    CandidateSpec spec;
    spec.maxUsers = 1;
    const auto plan = planCandidates(ds, spec).at(0);
    std::string text = answer.toStdString();
    for (const auto& [ph, k] : {std::pair{"A", 0}, std::pair{"B", 1}, std::pair{"C", 2}}) {
        const std::string id = ds.items.label(plan.candidates[k]);
        for (std::size_t pos; (pos = text.find(std::string(":") + ph)) != std::string::npos;)
            text.replace(pos + 1, 1, id);
        for (std::size_t pos; (pos = text.find(std::string(": ") + ph)) != std::string::npos;)
            text.replace(pos + 2, 1, id);
        for (std::size_t pos;
             (pos = text.find(std::string("\"") + ph + "\"")) != std::string::npos;)
            text.replace(pos + 1, 1, id);
    }
    const ParsedAnswer a = parseAnswer(text, ds, plan);
    QCOMPARE(a.ok, ok);
    QCOMPARE(int(a.scores.size()), scored);
    QCOMPARE(a.unknownIds, unknown);
    QCOMPARE(a.clipped, clipped);
    for (const auto& [item, s] : a.scores)
        QVERIFY(s >= 0.0 && s <= 1.0);
    if (!ok)
        QVERIFY(!a.error.empty());
}

void TestLlm::misbehavingServerIsSurvived()
{
    QTemporaryDir dir;
    // The first eight demo users, each misbehaving in its own way.
    const Dataset& ds = demo();
    std::vector<std::string> users;
    for (std::uint32_t u = 0; users.size() < 8; ++u)
        users.push_back(ds.users.label(u));
    std::map<std::string, std::string> role;
    const char* roles[] = {"retry-after", "500",       "slow",        "truncated",
                           "fenced",      "malformed", "unknown-ids", "broken-envelope"};
    for (int k = 0; k < 8; ++k)
        role[users[k]] = roles[k];
    FakeLlm server([&](const std::string& body, int attempt) {
        const std::string r = role[userOf(body)];
        FakeLlm::Reply rep = goodReply(body);
        const auto ids = candidateIds(promptOf(body));
        if (r == "retry-after" && attempt == 0) {
            rep.status = 429;
            rep.body = R"({"error":{"message":"rate limited"}})";
            rep.headers = "Retry-After: 1\r\n";
        } else if (r == "500" && attempt == 0) {
            rep.status = 500;
            rep.body = R"({"error":"boom"})";
        } else if (r == "slow" && attempt == 0) {
            rep.delayMs = 2500;  // beyond the 1 s timeout
        } else if (r == "truncated" && attempt == 0) {
            rep.truncate = true;
        } else if (r == "fenced") {
            rep.body =
                chatCompletion("Here you go:\n```json\n" + scoresJson(ids) + "\n```\n", false);
        } else if (r == "malformed") {
            rep.body = chatCompletion(R"({"scores": [{"item_id": )" + ids[0] + ", \"score\": 0.9");
        } else if (r == "unknown-ids") {
            json arr = json::array();
            arr.push_back({{"item_id", 999999999}, {"score", 0.4}});
            arr.push_back({{"item_id", std::stoull(ids[0])}, {"score", 1.5}});
            arr.push_back({{"item_id", std::stoull(ids[1])}, {"score", -0.5}});
            rep.body = chatCompletion(json{{"scores", arr}}.dump());
        } else if (r == "broken-envelope") {
            rep.body = R"({"choices": [{"message": )";
        }
        return rep;
    });
    ScoringParams params = testParams(dir, server);
    ScoringJob job(params, ds);
    QCOMPARE(job.requests().size(), std::size_t(8));
    const ScoringResult res = job.run();
    const auto& p = res.progress;
    QCOMPARE(p.total, std::int64_t(8));
    QCOMPARE(p.done, std::int64_t(8));
    QCOMPARE(p.cached, std::int64_t(0));
    QCOMPARE(p.failed, std::int64_t(1));  // the broken envelope, after 2 retries
    QCOMPARE(p.malformed, std::int64_t(1));
    QCOMPARE(p.retries, std::int64_t(4 + 2));  // 429, 500, slow, truncated; broken twice
    QCOMPARE(p.sent, std::int64_t(8 + 6));
    QCOMPARE(server.requests(), 14);
    QCOMPARE(res.usersWritten, std::int64_t(7));
    QCOMPARE(res.unknownIds, std::int64_t(1));
    QCOMPARE(res.clipped, std::int64_t(2));
    QVERIFY(res.failures.at(0).find("user " + users[7]) == 0);
    QVERIFY(p.tokensEstimated);  // the fenced answer came without usage
    // Retry-After: 1 was honoured (not the 0.05 s backoff).
    const auto& retried = job.requests()[0];
    QCOMPARE(userOf(retried.body), users[0]);
    const auto times = server.attemptTimes(retried.body);
    QCOMPARE(times.size(), std::size_t(2));
    QVERIFY2(times[1] - times[0] >= 950, qPrintable(QString::number(times[1] - times[0])));
    // Every request went to /v1/chat/completions with the key from the environment.
    for (const auto& path : server.paths())
        QCOMPARE(QString::fromStdString(path),
                 QStringLiteral("POST /v1/chat/completions HTTP/1.1"));
    for (const auto& auth : server.authorizations())
        QCOMPARE(QString::fromStdString(auth), QStringLiteral("Bearer ") + QLatin1String(kSecret));

    // The file: every candidate of every answered user; scores as answered, clipped, or 0.5.
    const auto rows = readScoreRows(res.outputPath);
    std::size_t expectedRows = 0;
    for (const auto& req : job.requests()) {
        const std::string u = ds.users.label(req.plan.user);
        const auto ids = candidateIds(req.prompt);
        if (role[u] == "broken-envelope") {
            QVERIFY(!rows.count({u, ids[0]}));
            continue;
        }
        expectedRows += ids.size();
        for (std::size_t k = 0; k < ids.size(); ++k) {
            double want = fakeScore(ids[k]);
            if (role[u] == "malformed")
                want = 0.5;
            else if (role[u] == "unknown-ids")
                want = k == 0 ? 1.0 : (k == 1 ? 0.0 : 0.5);
            QVERIFY2(std::abs(rows.at({u, ids[k]}) - want) < 1e-4,
                     qPrintable(QString::fromStdString(role[u] + " " + ids[k])));
        }
    }
    QCOMPARE(rows.size(), expectedRows);
    QCOMPARE(res.rows, std::int64_t(expectedRows));
    // The malformed answer is recorded with its raw text.
    const std::string malformed = readAll(res.malformedPath);
    QVERIFY(malformed.find("\"user\":\"" + users[5] + "\"") != std::string::npos);
    QVERIFY(malformed.find("\\\"score\\\": 0.9") != std::string::npos);
    // It loads as is: pointwise, provenance from the header.
    ScoreFileSpec spec;
    spec.path = res.outputPath;
    const ScoreSet set = loadScores(spec, ds);
    QCOMPARE(set.report.kind, std::string("pointwise"));
    QCOMPARE(set.report.matched, std::int64_t(expectedRows));
    QCOMPARE(set.report.provenance.at("model"), std::string("fake-model"));
    QCOMPARE(set.report.provenance.at("source"), std::string("llm"));
    QCOMPARE(set.report.provenance.at("template_hash"), res.templateHash);
    QVERIFY(set.report.provenance.at("endpoint").rfind("127.0.0.1:", 0) == 0);
    QVERIFY(!set.report.simulated);
    QCOMPARE(set.report.usersCovered, std::int64_t(7));

    // A rerun sends only the request that failed; everything else comes from the cache.
    const ScoringResult again = ScoringJob(params, ds).run();
    QCOMPARE(again.progress.cached, std::int64_t(7));
    QCOMPARE(again.progress.sent, std::int64_t(3));
    QCOMPARE(server.requests(), 17);
    QCOMPARE(again.progress.promptTokens, std::int64_t(0));
    QVERIFY(again.progress.cachedPromptTokens > 0);
    QCOMPARE(readScoreRows(again.outputPath), rows);
    // The key is nowhere on disk.
    for (const auto& f : QDir(dir.path()).entryList(QDir::Files)) {
        QFile file(dir.filePath(f));
        QVERIFY(file.open(QIODevice::ReadOnly));
        QVERIFY2(!file.readAll().contains(kSecret), qPrintable(f));
    }
    QCOMPARE(LlmCache(res.cachePath).size(), std::int64_t(7));
}

void TestLlm::cancelKeepsTheCache()
{
    QTemporaryDir dir;
    FakeLlm server([](const std::string& body, int) {
        auto r = goodReply(body);
        r.delayMs = 100;
        return r;
    });
    ScoringParams params = testParams(dir, server);
    params.concurrency = 1;
    params.candidates.maxUsers = 40;
    std::atomic<bool> cancel{false};
    ScoringCallbacks cb;
    cb.cancel = &cancel;
    cb.onProgress = [&](const ScoringProgress& p) {
        if (p.done >= 3)
            cancel = true;
    };
    QElapsedTimer t;
    t.start();
    try {
        ScoringJob(params, demo()).run(cb);
        QFAIL("a cancelled job finished");
    } catch (const Error& e) {
        QCOMPARE(e.kind(), ErrorKind::Cancelled);
    }
    QVERIFY(t.elapsed() < 5000);
    QVERIFY(!QFile::exists(QString::fromStdString(params.outputPath)));
    const auto cached = LlmCache(dir.filePath(QStringLiteral("llm-cache.db")).toStdString()).size();
    QVERIFY(cached >= 3 && cached < 40);
    const ScoringResult rest = ScoringJob(params, demo()).run();
    QCOMPARE(rest.progress.cached, cached);
    QCOMPARE(rest.progress.sent, 40 - cached);
    QCOMPARE(rest.usersWritten, std::int64_t(40));
}

void TestLlm::cancelAbortsARequestInFlight()
{
    QTemporaryDir dir;
    FakeLlm server([](const std::string& body, int) {
        auto r = goodReply(body);
        r.delayMs = 20000;
        return r;
    });
    ScoringParams params = testParams(dir, server);
    params.endpoint.timeoutSeconds = 60;
    params.candidates.maxUsers = 2;
    std::atomic<bool> cancel{false};
    ScoringCallbacks cb;
    cb.cancel = &cancel;
    std::thread canceller([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        cancel = true;
    });
    QElapsedTimer t;
    t.start();
    QVERIFY_THROWS_EXCEPTION(Error, ScoringJob(params, demo()).run(cb));
    canceller.join();
    QVERIFY2(t.elapsed() < 5000, qPrintable(QString::number(t.elapsed())));
    QCOMPARE(server.requests(), 2);
}

void TestLlm::killedScoringResumesFromTheCache()
{
    QTemporaryDir dir;
    FakeLlm server([](const std::string& body, int) {
        auto r = goodReply(body);
        r.delayMs = 150;
        return r;
    });
    const QString out = dir.filePath(QStringLiteral("demo-scores.tsv"));
    const QStringList args{QStringLiteral("score"),
                           QStringLiteral("--demo"),
                           QStringLiteral("-o"),
                           out,
                           QStringLiteral("--base-url"),
                           QString::fromStdString(server.baseUrl()),
                           QStringLiteral("--model"),
                           QStringLiteral("fake-model"),
                           QStringLiteral("--max-users"),
                           QStringLiteral("30"),
                           QStringLiteral("--candidates"),
                           QStringLiteral("5"),
                           QStringLiteral("--concurrency"),
                           QStringLiteral("1"),
                           QStringLiteral("--json")};
    QProcess first;
    first.start(QStringLiteral(SLLMR_CLI), args);
    QVERIFY(first.waitForStarted());
    QTRY_VERIFY_WITH_TIMEOUT(server.requests() >= 8, 20000);
    first.kill();
    QVERIFY(first.waitForFinished());
    const int before = server.requests();
    const std::string cachePath = dir.filePath(QStringLiteral("llm-cache.db")).toStdString();
    const std::int64_t cached = LlmCache(cachePath).size();
    QVERIFY(cached >= 7 && cached < 30);
    QVERIFY(!QFile::exists(out));

    QProcess second;
    second.start(QStringLiteral(SLLMR_CLI), args);
    QVERIFY(second.waitForFinished(60000));
    QCOMPARE(second.exitCode(), 0);
    const json summary = json::parse(second.readAllStandardOutput().toStdString());
    QCOMPARE(summary["cached"].get<std::int64_t>(), cached);
    QCOMPARE(summary["sent"].get<std::int64_t>(), 30 - cached);
    QCOMPARE(server.requests() - before, int(30 - cached));
    QCOMPARE(summary["users_written"].get<int>(), 30);
    QCOMPARE(LlmCache(cachePath).size(), std::int64_t(30));
    // The file loads with `sllmr scores inspect` as is, labelled with its provenance.
    QProcess inspect;
    inspect.start(
        QStringLiteral(SLLMR_CLI),
        {QStringLiteral("scores"), QStringLiteral("inspect"), out, QStringLiteral("--data"),
         QString::fromStdString(demoSpec().path), QStringLiteral("--test"),
         QString::fromStdString(demoSpec().testPath), QStringLiteral("--json")});
    QVERIFY(inspect.waitForFinished(60000));
    QCOMPARE(inspect.exitCode(), 0);
    const json rep = json::parse(inspect.readAllStandardOutput().toStdString());
    QCOMPARE(rep["kind"].get<std::string>(), std::string("pointwise"));
    QCOMPARE(rep["users_covered"].get<int>(), 30);
    QCOMPARE(rep["unknown_items"].get<int>(), 0);
    QCOMPARE(rep["provenance"]["model"].get<std::string>(), std::string("fake-model"));
    QCOMPARE(rep["simulated"].get<bool>(), false);
    for (const auto& f : QDir(dir.path()).entryList(QDir::Files)) {
        QFile file(dir.filePath(f));
        QVERIFY(file.open(QIODevice::ReadOnly));
        QVERIFY2(!file.readAll().contains(kSecret), qPrintable(f));
    }
}

void TestLlm::dryRunAndBatchImport()
{
    QTemporaryDir dir;
    FakeLlm server([](const std::string& body, int) { return goodReply(body); });
    ScoringParams params = testParams(dir, server);
    params.batchOutputPath = dir.filePath(QStringLiteral("batch.jsonl")).toStdString();
    const ScoringResult dry = ScoringJob(params, demo()).run();
    QCOMPARE(dry.batchRequests, std::int64_t(8));
    QVERIFY(dry.progress.promptTokens > 8 * 50);
    QCOMPARE(server.requests(), 0);
    // The batch API's request format; the batch "API" answers each line as the server would.
    std::ifstream in(params.batchOutputPath);
    std::ofstream results(dir.filePath(QStringLiteral("results.jsonl")).toStdString());
    std::string line;
    int lines = 0;
    while (std::getline(in, line)) {
        const json j = json::parse(line);
        QCOMPARE(j["method"].get<std::string>(), std::string("POST"));
        QCOMPARE(j["url"].get<std::string>(), std::string("/v1/chat/completions"));
        QCOMPARE(j["body"]["model"].get<std::string>(), std::string("fake-model"));
        const std::string body = j["body"].dump();
        if (++lines == 8)
            continue;  // one request never answered
        results << json{{"id", "batch_req_" + std::to_string(lines)},
                        {"custom_id", j["custom_id"]},
                        {"response",
                         {{"status_code", 200}, {"body", json::parse(goodReply(body).body)}}},
                        {"error", nullptr}}
                       .dump()
                << '\n';
    }
    results << R"({"custom_id":"sllmr-unrelated","response":{"status_code":200,"body":{}}})"
            << '\n';
    results.close();
    QCOMPARE(lines, 8);
    params.batchOutputPath.clear();
    params.offline = true;
    ScoringJob job(params, demo());
    std::int64_t skipped = 0;
    QCOMPARE(job.importBatchResults(dir.filePath(QStringLiteral("results.jsonl")).toStdString(),
                                    skipped),
             std::int64_t(7));
    QCOMPARE(skipped, std::int64_t(1));
    const ScoringResult res = job.run();
    QCOMPARE(res.progress.cached, std::int64_t(7));
    QCOMPARE(res.progress.failed, std::int64_t(1));
    QCOMPARE(res.progress.sent, std::int64_t(0));
    QCOMPARE(res.usersWritten, std::int64_t(7));
    QCOMPARE(server.requests(), 0);
    // A line that is not a batch result names the file and line.
    std::ofstream(dir.filePath(QStringLiteral("bad.jsonl")).toStdString()) << "{}\nnot json\n";
    try {
        job.importBatchResults(dir.filePath(QStringLiteral("bad.jsonl")).toStdString(), skipped);
        QFAIL("a bad batch file was accepted");
    } catch (const Error& e) {
        QCOMPARE(e.line(), std::int64_t(1));
    }
}

void TestLlm::scoreFileCommentsAndProvenance()
{
    QTemporaryDir dir;
    const Dataset& ds = demo();
    const std::string u = ds.users.label(0);
    const std::string i = ds.items.label(0);
    const std::string j = ds.items.label(1);
    const std::string path = dir.filePath(QStringLiteral("s.tsv")).toStdString();
    std::ofstream(path) << "# source: simulated\n# model: none here\n#   no key-value line\n\n"
                        << "user_id\titem_id\tscore\n"
                        << u << '\t' << i << "\t0.25\n# a comment between rows\n"
                        << u << '\t' << j << "\t0.75\n";
    ScoreFileSpec spec;
    spec.path = path;
    const ScoreSet set = loadScores(spec, ds);
    QCOMPARE(set.report.rows, std::int64_t(2));
    QCOMPARE(set.report.matched, std::int64_t(2));
    QCOMPARE(set.report.commentLines, std::int64_t(4));
    QVERIFY(set.report.simulated);
    QCOMPARE(set.report.provenance.size(), std::size_t(2));
    QCOMPARE(set.report.provenance.at("model"), std::string("none here"));
    QCOMPARE(set.values[0], 0.25f);
    const json rep = scoreReportJson(set.report);
    QCOMPARE(rep["simulated"].get<bool>(), true);
}

void TestLlm::simulatedLlmReliableOnColdTeachesTheGate()
{
    QTemporaryDir dir;
    const Dataset& ds = demo();
    SimulationProfile profile;
    profile.cold = SimulatedBehaviour{"accurate", 0.05};
    profile.fallback = SimulatedBehaviour{"adversarial", 0.05};
    profile.trainPositives = 10;
    const std::string path = dir.filePath(QStringLiteral("sim.tsv")).toStdString();
    const auto rep =
        simulateScores(ds, demoSegments().tauUser, demoSegments().tauItem, profile, path);
    QVERIFY(rep.cold > 0 && rep.fallback > 0);
    QCOMPARE(rep.tail, std::int64_t(0));
    // Deterministic.
    const std::string again = dir.filePath(QStringLiteral("sim2.tsv")).toStdString();
    simulateScores(ds, demoSegments().tauUser, demoSegments().tauItem, profile, again);
    QCOMPARE(readAll(path), readAll(again));

    ScoreFileSpec spec;
    spec.path = path;
    const ScoreSet set = loadScores(spec, ds);
    QVERIFY(set.report.simulated);
    QCOMPARE(set.report.matched, rep.rows);
    QCOMPARE(set.report.unknownItems, std::int64_t(0));

    RunConfig c = mfReliabilityRun(spec, 2, 256);
    c.train.patience = 0;
    ExperimentStore store(dir.filePath(QStringLiteral("experiments.db")).toStdString());
    QElapsedTimer t;
    t.start();
    const RunOutcome out = executeRun(c, store);
    QCOMPARE(out.status, RunStatus::Completed);
    std::map<std::string, double> gate;
    for (const auto& m : store.segmentMetrics(out.runId))
        if (m.metric == "gate_mean")
            gate[m.segment] = m.value;
    QVERIFY(gate.count("cold") && gate.count("warm"));
    const double cold = gate["cold"];
    const double warm = gate["warm"];
    qInfo("gate mean: cold %.3f, warm %.3f (training and evaluation %lld ms)", cold, warm,
          static_cast<long long>(t.elapsed()));
    QVERIFY2(cold > warm + 0.2, qPrintable(QStringLiteral("cold %1 warm %2").arg(cold).arg(warm)));
}

void TestLlm::simulatedLlmNamedInTheRunConfig()
{
    // A run config may name a simulated LLM instead of a score file (scores.simulate; the paper's
    // Amazon grids do): the run's scores are then exactly those `sllmr simulate-llm` writes for
    // its dataset, labelled simulated in the report and the store.
    QTemporaryDir dir;
    const Dataset& ds = demo();
    const double tauU = demoSegments().tauUser;
    const double tauI = demoSegments().tauItem;
    const json profile = {{"default", {{"behaviour", "noisy"}}},
                          {"cold", {{"behaviour", "accurate"}, {"noise", 0.1}}},
                          {"seed", 7}};
    const ScoreFileSpec spec = scoreSpecFromJson(json{{"name", "sim"}, {"simulate", profile}});
    QVERIFY(spec.given());
    QVERIFY(spec.path.empty());
    QCOMPARE(spec.source(), std::string("simulated LLM"));

    const std::string file = dir.filePath(QStringLiteral("sim.tsv")).toStdString();
    simulateScores(ds, tauU, tauI, *spec.simulate, file);
    ScoreFileSpec fromFile;
    fromFile.path = file;
    fromFile.kind = "pointwise";
    const ScoreSet expected = loadScores(fromFile, ds);
    // In a temporary folder of its own, which is gone afterwards.
    QTemporaryDir tmp;
    const QByteArray savedTmp = qgetenv("TMPDIR");
    qputenv("TMPDIR", tmp.path().toLocal8Bit());
    const ScoreSet got = loadRunScores(spec, ds, tauU, tauI);
    if (savedTmp.isEmpty())
        qunsetenv("TMPDIR");
    else
        qputenv("TMPDIR", savedTmp);
    QVERIFY(QDir(tmp.path()).isEmpty());
    QVERIFY(got.report.simulated);
    QVERIFY(got.size() > 10000);
    QVERIFY(got.offsets == expected.offsets);
    QVERIFY(got.items == expected.items);
    QVERIFY(got.values == expected.values);
    QCOMPARE(got.report.contentHash, expected.report.contentHash);
    QCOMPARE(got.report.matched, expected.report.matched);
    QVERIFY(got.spec.path.empty());
    QVERIFY(got.spec.simulate.has_value());
    // The file-reading settings of the spec do not apply to the simulated file.
    ScoreFileSpec odd = spec;
    odd.delimiter = ";";
    odd.header = "no";
    QVERIFY(loadRunScores(odd, ds, tauU, tauI).values == expected.values);

    // Round trip; a spec without a simulated LLM writes no "simulate" key, so the hash of every
    // config without one is what it was.
    const json j = spec;
    QVERIFY(j.contains("simulate"));
    QCOMPARE(json(scoreSpecFromJson(j)), j);
    QVERIFY(!json(fromFile).contains("simulate"));

    // Errors name the keys.
    const auto usageNaming = [](const json& scores, const std::string& key) {
        try {
            scoreSpecFromJson(scores);
        } catch (const Error& e) {
            return e.kind() == ErrorKind::Usage &&
                   std::string(e.what()).find(key) != std::string::npos;
        }
        return false;
    };
    QVERIFY(usageNaming(json{{"path", file}, {"simulate", profile}}, "scores.simulate"));
    QVERIFY(usageNaming(json{{"kind", "rank"}, {"simulate", profile}}, "scores.kind"));
    QVERIFY(usageNaming(json{{"simulate", 3}}, "scores.simulate"));
    QVERIFY(usageNaming(json{{"simulate", {{"default", {{"behaviour", "wise"}}}}}},
                        "scores.simulate.default"));

    // A run with it: trains, and the store says where its scores came from.
    RunConfig c = mfReliabilityRun(spec, 1, 512);
    c.eval.userShare = 0.2;
    ExperimentStore store(dir.filePath(QStringLiteral("experiments.db")).toStdString());
    const RunOutcome out = executeRun(c, store);
    QCOMPARE(out.status, RunStatus::Completed);
    const auto run = store.run(out.runId);
    QVERIFY(run && run->scoreSetId);
    const auto set = store.scoreSet(*run->scoreSetId);
    QVERIFY(set.has_value());
    QCOMPARE(set->source, std::string("simulated LLM"));
    QCOMPARE(set->contentHash, expected.report.contentHash);
    QVERIFY(json::parse(set->specJson).contains("simulate"));
    QVERIFY(json::parse(set->reportJson)["simulated"].get<bool>());
}

// The content hashes identify a dataset and a score set in the store, and a resume compares
// them with the ones its run started on. A new reading setting that entered the hash with its
// default would make every run stored before it refuse to resume, and list its dataset twice:
// leave such a key out while it has its default (as scoreSetHash does with "held_out").
void TestLlm::contentHashesStayTheSameAcrossVersions()
{
    const char* const why =
        "the demo's content hash changed: runs stored by earlier versions would refuse to resume. "
        "Leave a new setting out of the hash while it has its default (contentHash in "
        "core/data/preprocess.cpp, scoreSetHash in core/llm/scores.cpp).";
    QVERIFY2(demo().contentHash == "c6105bf6253fe409",
             qPrintable(QString::fromStdString(demo().contentHash) + QStringLiteral(": ") + why));
    // The demo as the Studio and the CLI open it (genre features too).
    qputenv("SLLMR_DEMO_DIR", QByteArray(SLLMR_DEMO_DIR));
    const std::string studio =
        loadDataset(runConfigFromJson(toJson(defaultRunConfig()), {}).dataset).contentHash;
    QVERIFY2(studio == "8346f0f6f20c8d8e",
             qPrintable(QString::fromStdString(studio) + QStringLiteral(": ") + why));
    ScoreFileSpec chatgpt;
    chatgpt.path =
        kDemo + "/llm-rankings-ml-latest-small/chatgpt/output_exp_3_rec_movie_rerank_userknn.tsv";
    chatgpt.kind = "rank";
    const std::string scores = loadScores(chatgpt, demo()).report.contentHash;
    QVERIFY2(scores == "839491e6cb19589b",
             qPrintable(QString::fromStdString(scores) + QStringLiteral(": ") + why));
}

// A resumed run continues on the dataset and scores it started on: a changed file stops the resume
// with an error naming it (the stored epochs and the run's status stay), the restored file lets it
// finish, and a simulated LLM, which is recomputed on resume, gives the same scores and resumes.
void TestLlm::resumeNeedsTheInputsTheRunStartedOn()
{
    QTemporaryDir dir;
    const Dataset& ds = demo();
    const json profile = {{"default", {{"behaviour", "noisy"}}}, {"seed", 7}};
    const ScoreFileSpec simulated = scoreSpecFromJson(json{{"name", "sim"}, {"simulate", profile}});
    const std::string scoreFile = dir.filePath(QStringLiteral("sim.tsv")).toStdString();
    simulateScores(ds, demoSegments().tauUser, demoSegments().tauItem, *simulated.simulate,
                   scoreFile);
    ScoreFileSpec fromFile;
    fromFile.path = scoreFile;
    fromFile.kind = "pointwise";
    const std::string train = dir.filePath(QStringLiteral("train.tsv")).toStdString();
    std::filesystem::copy_file(demoSpec().path, train);

    ExperimentStore store(dir.filePath(QStringLiteral("experiments.db")).toStdString());
    std::atomic<bool> cancel{false};
    RunCallbacks stopAfterAnEpoch;
    stopAfterAnEpoch.cancel = &cancel;
    stopAfterAnEpoch.onEpoch = [&cancel](const EpochResult&) { cancel = true; };
    const auto epochsStored = [&store](std::int64_t run) {
        std::set<int> epochs;
        for (const auto& m : store.epochMetrics(run))
            epochs.insert(m.epoch);
        return epochs.size();
    };
    const auto resumeError = [&store](std::int64_t run) -> std::optional<Error> {
        try {
            resumeRun(run, store);
        } catch (const Error& e) {
            return e;
        }
        return std::nullopt;
    };
    const auto appendLine = [](const std::string& path, const std::string& line) {
        std::ofstream(path, std::ios::app) << line;
    };

    RunConfig c = mfReliabilityRun(fromFile, 3, 512);
    c.dataset.path = train;
    c.train.patience = 0;
    const RunOutcome first = executeRun(c, store, stopAfterAnEpoch);
    QCOMPARE(first.status, RunStatus::Cancelled);
    QCOMPARE(epochsStored(first.runId), std::size_t(1));

    // The training file gains a line (a new interaction of user 1).
    const std::string original = [&train] {
        std::ifstream in(train);
        return std::string(std::istreambuf_iterator<char>(in), {});
    }();
    appendLine(train, "1\t999999\t4.0\t964982703\n");
    auto e = resumeError(first.runId);
    QVERIFY(e.has_value());
    QCOMPARE(e->kind(), ErrorKind::BadInput);
    QCOMPARE(e->file(), train);
    QVERIFY2(std::string(e->what()).find("dataset changed") != std::string::npos, e->what());
    QCOMPARE(epochsStored(first.runId), std::size_t(1));
    QCOMPARE(store.run(first.runId)->status, RunStatus::Cancelled);  // still resumable

    // Restored: the resume goes on. The score file then changes: stopped again, naming it.
    std::ofstream(train, std::ios::trunc) << original;
    cancel = false;
    QCOMPARE(resumeRun(first.runId, store, stopAfterAnEpoch).status, RunStatus::Cancelled);
    QCOMPARE(epochsStored(first.runId), std::size_t(2));
    const std::string scores = [&scoreFile] {
        std::ifstream in(scoreFile);
        return std::string(std::istreambuf_iterator<char>(in), {});
    }();
    const auto lastTab = scores.rfind('\t');
    QVERIFY(lastTab != std::string::npos);
    std::string edited = scores;
    edited[lastTab + 1] = edited[lastTab + 1] == '0' ? '1' : '0';  // one score, another value
    std::ofstream(scoreFile, std::ios::trunc) << edited;
    e = resumeError(first.runId);
    QVERIFY(e.has_value());
    QCOMPARE(e->file(), scoreFile);
    QVERIFY2(std::string(e->what()).find("LLM scores changed") != std::string::npos, e->what());
    std::ofstream(scoreFile, std::ios::trunc) << scores;
    QCOMPARE(resumeRun(first.runId, store).status, RunStatus::Completed);
    QCOMPARE(epochsStored(first.runId), std::size_t(3));

    // A simulated LLM is simulated again on resume, to the same scores.
    RunConfig sim = mfReliabilityRun(simulated, 2, 512);
    sim.train.patience = 0;
    cancel = false;
    const RunOutcome second = executeRun(sim, store, stopAfterAnEpoch);
    QCOMPARE(second.status, RunStatus::Cancelled);
    QCOMPARE(resumeRun(second.runId, store).status, RunStatus::Completed);
    QCOMPARE(epochsStored(second.runId), std::size_t(2));
}

QTEST_GUILESS_MAIN(TestLlm)
#include "tst_llm.moc"
