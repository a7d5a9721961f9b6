// The gate's formulas (core/train/gate.h, gate_spec.h) and the losses (core/train/losses.h) on
// hand-computed cases: Cold/Tail thresholds and their defaults, the threshold rule "any" and "all",
// tau_q, the uncertainty variants, the gate network, activation per mode, the pair activation and
// weight (soft, detached, hard, straight-through gradient), reliability labels, the hinge and the
// other losses; the fused pair terms against the composed functions, values and gradients;
// then the inspector's hinge and weight equal the training functions' values on a
// real trained run; and the config's named choices read and write the same text as before.
#include "common/choice.h"
#include "common/error.h"
#include "common/hash.h"
#include "data/loaders.h"
#include "data/segments.h"
#include "inspect/gate_inspector.h"
#include "llm/scores.h"
#include "run/runner.h"
#include "store/experiment_store.h"
#include "train/gate.h"
#include "train/losses.h"
#include "train/run_config.h"
#include "train/trainer.h"
#include "train_configs.h"

#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

using namespace sllmr;

namespace {

const QString kFixtures = QStringLiteral(SLLMR_FIXTURES);

std::string fixture(const QString& rel)
{
    return (kFixtures + QLatin1Char('/') + rel).toStdString();
}

torch::Tensor rows(std::initializer_list<std::array<float, 3>> z)
{
    auto t = torch::empty({static_cast<std::int64_t>(z.size()), 3});
    std::int64_t k = 0;
    for (const auto& r : z) {
        for (std::int64_t c = 0; c < 3; ++c)
            t[k][c] = r[static_cast<std::size_t>(c)];
        ++k;
    }
    return t;
}

std::vector<float> values(const torch::Tensor& t)
{
    const auto c = t.detach().to(torch::kFloat).contiguous();
    return {c.data_ptr<float>(), c.data_ptr<float>() + c.numel()};
}

// 6 users and 8 items whose Cold and Tail take both values (tau_u 4, tau_i 3), 60 LLM pairs with
// random logits (some hinges zero, some labelled), a gate away from neutral, for pairTerms() in
// either form.
struct PairTermsCase
{
    static constexpr std::int64_t kPairs = 60;

    struct Outcome
    {
        float llm = 0, gate = -1;
        std::vector<float> used, dLogits, dWeight, dBias;
        bool gateGradient = false;  // whether the gate's weight got a gradient at all
    };

    Dataset ds;
    Segmentation seg;
    std::shared_ptr<BackboneImpl> model;
    std::vector<std::uint32_t> users, higher, lower;
    std::vector<std::int64_t> labelledRows;
    std::vector<float> labels;
    torch::Tensor logits;

    PairTermsCase()
    {
        for (std::uint64_t id = 0; id < 6; ++id)
            ds.users.intern(id);
        for (std::uint64_t id = 0; id < 8; ++id)
            ds.items.intern(id);
        ds.historyLength = {1, 5, 2, 8, 3, 9};
        ds.popularity = {0, 4, 1, 7, 2, 9, 3, 5};
        model = mf(0.1);
        std::mt19937 rng(5);
        for (std::int64_t k = 0; k < kPairs; ++k) {
            users.push_back(static_cast<std::uint32_t>(k % 6));
            higher.push_back(static_cast<std::uint32_t>(rng() % 8));
            lower.push_back(static_cast<std::uint32_t>((higher.back() + 1 + rng() % 7) % 8));
            if (k % 3 != 0) {
                labelledRows.push_back(k);
                labels.push_back(k % 2 == 0 ? 1.0f : 0.0f);
            }
        }
        torch::manual_seed(3);
        logits = torch::randn({2 * kPairs}) * 2.0;
    }

    // An MF backbone over the case's users and items with this dropout.
    static std::shared_ptr<BackboneImpl> mf(double dropout)
    {
        ModelSpec ms;
        ms.type = "mf";
        ms.dim = 4;
        ms.dropout = dropout;
        BackboneContext ctx;
        ctx.numUsers = 6;
        ctx.numItems = 8;
        return makeBackbone(ms, ctx);
    }

    static GateSpec spec(GateMode mode)
    {
        GateSpec spec;
        spec.mode = mode;
        spec.tauA = 0.55;
        spec.tauQ = 0.6;
        spec.tauUser = 4.0;
        spec.tauItem = 3.0;
        return spec;
    }

    // pairTerms() with margin 1 (and no labelled pair unless withLabels), then the backward of
    // 0.7 L_llm + 0.3 L_gate.
    Outcome run(const GateSpec& spec, float bias, PairTermsForm form, bool withLabels = true) const
    {
        Gate gate(spec);
        {
            torch::NoGradGuard noGrad;
            gate->weight.copy_(torch::tensor({0.8f, -0.6f, 1.5f}));
            gate->bias.fill_(bias);
        }
        const GateInputs inputs(spec, ds, seg);
        const auto s = logits.clone().requires_grad_(true);
        const GatePairs pairs{users, higher, lower,
                              withLabels ? labelledRows : std::vector<std::int64_t>{},
                              withLabels ? labels : std::vector<float>{}};
        const auto terms =
            pairTerms(spec, *gate, inputs, *model, pairs, s.slice(0, 0, kPairs), s.slice(0, kPairs),
                      torch::Tensor(), torch::Tensor(), 1.0, 0.5, form);
        Outcome out;
        out.llm = terms.llm.item<float>();
        auto total = terms.llm * 0.7;
        if (terms.gate.defined()) {
            out.gate = terms.gate.item<float>();
            total = total + terms.gate * 0.3;
        }
        out.used = values(terms.aUsed);
        total.backward();
        out.dLogits = values(s.grad());
        const auto grad = [](const torch::Tensor& p) {
            return p.grad().defined() ? values(p.grad()) : std::vector<float>(p.numel(), 0.0f);
        };
        out.gateGradient = gate->weight.grad().defined();
        out.dWeight = grad(gate->weight);
        out.dBias = grad(gate->bias);
        return out;
    }
};

// Equal up to the order of float additions.
bool near(const std::vector<float>& a, const std::vector<float>& b)
{
    if (a.size() != b.size())
        return false;
    for (std::size_t k = 0; k < a.size(); ++k)
        if (std::abs(a[k] - b[k]) > 2e-6f + 2e-5f * std::abs(b[k]))
            return false;
    return true;
}

}  // namespace

class TestGate : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void coldAndTailThresholds();
    void thresholdsDefaultToTheSegments();
    void thresholdRuleAnyAndAll_data();
    void thresholdRuleAnyAndAll();
    void thresholdActivationUsesTauQ();
    void uncertaintyVariants();
    void gateNetwork();
    void activationPerMode();
    void pairActivationAndWeight();
    void straightThroughGradient();
    void reliabilityLabels();
    void losses();
    void fusedPairTermsEqualComposed();
    void inspectorHingeEqualsTraining();
    void namedChoicesReadAndWriteTheSameText();
};

void TestGate::coldAndTailThresholds()
{
    // Cold(u) = |H(u)| < tau_u and Tail(i) = pop(i) < tau_i: strict.
    QVERIFY(isColdUser(2, 3.0));
    QVERIFY(!isColdUser(3, 3.0));
    QVERIFY(isColdUser(3, 3.5));
    QVERIFY(isTailItem(0, 1.0));
    QVERIFY(!isTailItem(1, 1.0));
    QVERIFY(!isTailItem(5, 0.0));
}

void TestGate::thresholdsDefaultToTheSegments()
{
    Segmentation seg;
    seg.tauUser = 19;
    seg.tauItem = 4;
    GateSpec spec;
    auto t = resolveGateThresholds(spec, seg);
    QCOMPARE(t.tauUser, 19.0);
    QCOMPARE(t.tauItem, 4.0);
    spec.tauUser = 3.0;
    t = resolveGateThresholds(spec, seg);
    QCOMPARE(t.tauUser, 3.0);
    QCOMPARE(t.tauItem, 4.0);
    spec.tauItem = 0.0;  // an explicit 0 is a threshold, not "unset"
    QCOMPARE(resolveGateThresholds(spec, seg).tauItem, 0.0);
}

void TestGate::thresholdRuleAnyAndAll_data()
{
    QTest::addColumn<int>("rule");  // 0 any, 1 all
    QTest::addColumn<QString>("enabled");
    QTest::addColumn<QString>("holds");
    QTest::addColumn<bool>("on");
    // enabled/holds as three characters Cold, Tail, q: 1 or 0.
    QTest::newRow("any: one of three holds") << 0 << "111"
                                             << "010" << true;
    QTest::newRow("any: none holds") << 0 << "111"
                                     << "000" << false;
    QTest::newRow("any: only a disabled input holds") << 0 << "101"
                                                      << "010" << false;
    QTest::newRow("all: every enabled holds") << 1 << "110"
                                              << "110" << true;
    QTest::newRow("all: a disabled input does not count") << 1 << "110"
                                                          << "111" << true;
    QTest::newRow("all: one enabled fails") << 1 << "111"
                                            << "110" << false;
    QTest::newRow("all: q alone") << 1 << "001"
                                  << "001" << true;
    QTest::newRow("any: no input enabled") << 0 << "000"
                                           << "111" << false;
    QTest::newRow("all: no input enabled") << 1 << "000"
                                           << "111" << false;
}

void TestGate::thresholdRuleAnyAndAll()
{
    QFETCH(int, rule);
    QFETCH(QString, enabled);
    QFETCH(QString, holds);
    QFETCH(bool, on);
    std::array<bool, 3> e{}, h{};
    for (int k = 0; k < 3; ++k) {
        e[static_cast<std::size_t>(k)] = enabled[k] == QLatin1Char('1');
        h[static_cast<std::size_t>(k)] = holds[k] == QLatin1Char('1');
    }
    const auto r = rule == 0 ? GateRule::Any : GateRule::All;
    QCOMPARE(thresholdRule(r, e, h), on);

    // The tensor activation of the threshold mode agrees, with z built to make each condition
    // hold or fail (q against tau_q = 0.5).
    GateSpec spec;
    spec.mode = GateMode::Threshold;
    spec.rule = r;
    spec.useCold = e[0];
    spec.useTail = e[1];
    spec.useUncertainty = e[2];
    const auto z = rows({{h[0] ? 1.0f : 0.0f, h[1] ? 1.0f : 0.0f, h[2] ? 0.75f : 0.25f}});
    QCOMPARE(values(thresholdActivation(spec, z)), std::vector<float>{on ? 1.0f : 0.0f});
}

void TestGate::thresholdActivationUsesTauQ()
{
    // Only q enabled: a = 1[q > tau_q], strictly greater.
    GateSpec spec;
    spec.mode = GateMode::Threshold;
    spec.useCold = false;
    spec.useTail = false;
    spec.tauQ = 0.3;
    const auto z = rows({{1, 1, 0.1f}, {1, 1, 0.3f}, {0, 0, 0.31f}, {0, 0, 0.9f}});
    QCOMPARE(values(thresholdActivation(spec, z)), (std::vector<float>{0, 0, 1, 1}));
    spec.tauQ = 0.95;
    QCOMPARE(values(thresholdActivation(spec, z)), (std::vector<float>{0, 0, 0, 0}));
    // Cold or q > 0.95: the first two rows are cold.
    spec.useCold = true;
    QCOMPARE(values(thresholdActivation(spec, z)), (std::vector<float>{1, 1, 0, 0}));
}

void TestGate::uncertaintyVariants()
{
    const auto p = torch::tensor({0.5f, 0.9f, 0.2f, 1.0f});
    // (a) margin: 2 (1 - max(p, 1 - p)).
    const auto margin = values(uncertaintyFromProbability(p, GateUncertainty::Margin));
    QCOMPARE(margin[0], 1.0f);
    QVERIFY(std::abs(margin[1] - 0.2f) < 1e-6f);
    QVERIFY(std::abs(margin[2] - 0.4f) < 1e-6f);
    QCOMPARE(margin[3], 0.0f);
    // (b) entropy in bits: H(0.5) = 1, H(0.9) = 0.4689956, H(0.2) = 0.7219281, H(1) ~ 0.
    const auto entropy = values(uncertaintyFromProbability(p, GateUncertainty::Entropy));
    QVERIFY(std::abs(entropy[0] - 1.0f) < 1e-6f);
    QVERIFY(std::abs(entropy[1] - 0.4689956f) < 1e-5f);
    QVERIFY(std::abs(entropy[2] - 0.7219281f) < 1e-5f);
    QVERIFY(entropy[3] >= 0.0f && entropy[3] < 1e-5f);

    // (c) dropout: the variance of p over passes, times 4. An MF backbone without dropout gives
    // identical passes (q = 0); usesDropoutPasses() says the entropy is used instead.
    ModelSpec ms;
    ms.type = "mf";
    ms.dim = 4;
    ms.dropout = 0.0;
    BackboneContext ctx;
    ctx.numUsers = 3;
    ctx.numItems = 5;
    torch::manual_seed(1);
    auto model = makeBackbone(ms, ctx);
    const auto users = torch::tensor({0, 1, 2}, torch::kLong);
    const auto items = torch::tensor({4, 3, 0}, torch::kLong);
    model->train();
    QCOMPARE(values(dropoutUncertainty(*model, users, items, 4)), (std::vector<float>{0, 0, 0}));
    GateSpec spec;
    spec.uncertainty = GateUncertainty::Dropout;
    QVERIFY(!usesDropoutPasses(spec, *model));
    const auto logits = model->forward(users, items);
    QCOMPARE(values(uncertainty(spec, *model, logits, users, items)),
             values(uncertaintyFromProbability(torch::sigmoid(logits), GateUncertainty::Entropy)));
    // With dropout the passes differ, and q is their scaled variance in [0, 1].
    ms.dropout = 0.5;
    torch::manual_seed(1);
    auto noisy = makeBackbone(ms, ctx);
    noisy->train();
    QVERIFY(usesDropoutPasses(spec, *noisy));
    torch::manual_seed(7);
    const auto q = values(dropoutUncertainty(*noisy, users, items, 8));
    double sum = 0;
    for (float v : q) {
        QVERIFY(v >= 0.0f && v <= 1.0f);
        sum += v;
    }
    QVERIFY(sum > 0);
    // The same seed gives the same q.
    torch::manual_seed(7);
    QCOMPARE(values(dropoutUncertainty(*noisy, users, items, 8)), q);
}

void TestGate::gateNetwork()
{
    GateSpec spec;
    spec.useTail = false;  // its column is zeroed
    Gate gate(spec);
    {
        torch::NoGradGuard noGrad;
        gate->weight.copy_(torch::tensor({1.0f, 2.0f, -1.0f}));
        gate->bias.fill_(0.5f);
    }
    // sigmoid(1*1 + 2*0 (masked) - 1*0.5 + 0.5) = sigmoid(1); sigmoid(0*1 - 1*1 + 0.5) =
    // sigmoid(-0.5)
    const auto a = values(gate->forward(rows({{1, 1, 0.5f}, {0, 1, 1}})));
    QVERIFY(std::abs(a[0] - 0.7310586f) < 1e-6f);
    QVERIFY(std::abs(a[1] - 0.3775407f) < 1e-6f);
    const auto p = gate->parameterValues();
    QCOMPARE(p[0], 1.0);
    QCOMPARE(p[1], 2.0);
    QCOMPARE(p[2], -1.0);
    QCOMPARE(p[3], 0.5);
}

void TestGate::activationPerMode()
{
    GateSpec spec;
    Gate gate(spec);  // neutral: a = 0.5 everywhere
    const auto z = rows({{1, 0, 0.2f}, {0, 1, 0.9f}, {0, 0, 0.1f}});
    spec.mode = GateMode::Off;
    QCOMPARE(values(activation(spec, *gate, z, 0.3, RandomGate::Draw)),
             (std::vector<float>{1, 1, 1}));
    spec.mode = GateMode::Reliability;
    QCOMPARE(values(activation(spec, *gate, z, 0.3, RandomGate::Draw)),
             (std::vector<float>{0.5f, 0.5f, 0.5f}));
    spec.mode = GateMode::Threshold;  // any of Cold, Tail, q > 0.5
    QCOMPARE(values(activation(spec, *gate, z, 0.3, RandomGate::Draw)),
             (std::vector<float>{1, 1, 0}));
    spec.mode = GateMode::Random;
    QCOMPARE(values(activation(spec, *gate, z, 0.3, RandomGate::Expected)),
             (std::vector<float>{0.3f, 0.3f, 0.3f}));
    // Draws: 0 or 1, at about the rate over many rows.
    torch::manual_seed(3);
    const auto many = torch::zeros({4000, 3});
    const auto draws = values(activation(spec, *gate, many, 0.3, RandomGate::Draw));
    double on = 0;
    for (float v : draws) {
        QVERIFY(v == 0.0f || v == 1.0f);
        on += v;
    }
    QVERIFY(std::abs(on / 4000.0 - 0.3) < 0.03);
}

void TestGate::pairActivationAndWeight()
{
    const auto aHigher = torch::tensor({0.2f, 0.9f, 0.5f});
    const auto aLower = torch::tensor({0.6f, 0.7f, 0.4f});
    const auto aPair = pairActivation(aHigher, aLower);
    const auto mean = values(aPair);
    QVERIFY(std::abs(mean[0] - 0.4f) < 1e-7f);
    QVERIFY(std::abs(mean[1] - 0.8f) < 1e-7f);
    QVERIFY(std::abs(mean[2] - 0.45f) < 1e-7f);

    GateSpec spec;
    spec.tauA = 0.5;
    spec.mode = GateMode::Paper;  // soft: the weight is a itself
    QCOMPARE(values(pairWeight(spec, aPair)), mean);
    spec.mode = GateMode::Reliability;
    QCOMPARE(values(pairWeight(spec, aPair)), mean);
    // Hard switch: 1[a > tau_a] for both learned modes.
    spec.hard = true;
    QCOMPARE(values(pairWeight(spec, aPair)), (std::vector<float>{0, 1, 0}));
    spec.mode = GateMode::Paper;
    QCOMPARE(values(pairWeight(spec, aPair)), (std::vector<float>{0, 1, 0}));
    spec.tauA = 0.42;
    QCOMPARE(values(pairWeight(spec, aPair)), (std::vector<float>{0, 1, 1}));
    // The hard switch applies only to gates that learn: the threshold gate keeps its 0/1 a.
    spec.mode = GateMode::Threshold;
    QVERIFY(!hardSwitchApplies(spec));
    QCOMPARE(values(pairWeight(spec, aPair)), mean);
    // a as used in the activity statistics: after the switch where it applies.
    spec.mode = GateMode::Reliability;
    spec.tauA = 0.5;
    QCOMPARE(values(activationAsUsed(spec, aHigher)), (std::vector<float>{0, 1, 0}));
    spec.hard = false;
    QCOMPARE(values(activationAsUsed(spec, aHigher)), values(aHigher));
}

void TestGate::straightThroughGradient()
{
    // d(weight * h)/d(a) for each mode, with h = 2: paper soft 2; paper hard (straight-through) 2
    // although the forward value is 0 or 1; reliability (soft or hard) none: the hinge does not
    // train the reliability gate.
    auto gradient = [](GateMode mode, bool hard, float a0, float& forward) {
        GateSpec spec;
        spec.mode = mode;
        spec.hard = hard;
        spec.tauA = 0.5;
        auto a = torch::tensor({a0}, torch::requires_grad());
        const auto w = pairWeight(spec, a);
        forward = w.item<float>();
        const auto loss = (w * 2.0).sum();
        if (!loss.requires_grad())
            return 0.0f;
        loss.backward();
        return a.grad().item<float>();
    };
    float f = 0;
    QCOMPARE(gradient(GateMode::Paper, false, 0.3f, f), 2.0f);
    QCOMPARE(f, 0.3f);
    QCOMPARE(gradient(GateMode::Paper, true, 0.3f, f), 2.0f);
    QCOMPARE(f, 0.0f);
    QCOMPARE(gradient(GateMode::Paper, true, 0.7f, f), 2.0f);
    QVERIFY(std::abs(f - 1.0f) < 1e-6f);
    QCOMPARE(gradient(GateMode::Reliability, false, 0.7f, f), 0.0f);
    QCOMPARE(f, 0.7f);
    QCOMPARE(gradient(GateMode::Reliability, true, 0.7f, f), 0.0f);
    QCOMPARE(f, 1.0f);
}

void TestGate::reliabilityLabels()
{
    QCOMPARE(reliabilityLabel(true, false), std::optional<bool>(true));
    QCOMPARE(reliabilityLabel(false, true), std::optional<bool>(false));
    QVERIFY(!reliabilityLabel(true, true));
    QVERIFY(!reliabilityLabel(false, false));

    // From the supervision positives: user 0 has items 1, 3 in train and 2 in validation.
    Dataset ds;
    for (std::uint64_t id : {10, 11})
        ds.users.intern(id);
    for (std::uint64_t id : {20, 21, 22, 23})
        ds.items.intern(id);
    auto row = [](std::uint32_t u, std::uint32_t i) {
        Interaction r;
        r.user = u;
        r.item = i;
        return r;
    };
    ds.train = {row(0, 1), row(0, 3), row(1, 0)};
    ds.validation = {row(0, 2)};
    GateSpec spec;
    const ReliabilityLabels train(spec, ds);
    QCOMPARE(train.label(0, 1, 0), std::optional<bool>(true));   // only the higher is positive
    QCOMPARE(train.label(0, 0, 3), std::optional<bool>(false));  // only the lower is
    QVERIFY(!train.label(0, 1, 3));                              // both
    QVERIFY(!train.label(0, 0, 2));                              // neither (2 is validation)
    spec.supervision = GateSupervision::Validation;
    const ReliabilityLabels validation(spec, ds);
    QCOMPARE(validation.label(0, 2, 1), std::optional<bool>(true));
    QVERIFY(!validation.label(0, 1, 3));

    // The reliability loss: BCE of the labelled rows only.
    const auto aPair = torch::tensor({0.8f, 0.3f, 0.6f});
    const auto loss = reliabilityLoss(aPair, {0, 2}, {1.0f, 0.0f}).item<double>();
    QVERIFY(std::abs(loss - 0.5 * (-std::log(0.8) - std::log(0.4))) < 1e-6);
    QVERIFY(!reliabilityLoss(aPair, {}, {}).defined());
}

void TestGate::losses()
{
    // Hinge: max(0, m - (s_i - s_j)); L_llm = mean(weight * hinge).
    const auto si = torch::tensor({2.0f, 0.5f, -1.0f});
    const auto sj = torch::tensor({0.5f, 0.5f, 1.0f});
    const auto h = pairHinge(si, sj, 1.0);
    QCOMPARE(values(h), (std::vector<float>{0.0f, 1.0f, 3.0f}));
    const auto w = torch::tensor({1.0f, 0.5f, 0.0f});
    QCOMPARE(hingeLoss(w, h).item<float>(), 0.5f / 3.0f);
    QCOMPARE(values(pairHinge(si, sj, 0.0)), (std::vector<float>{0.0f, 0.0f, 2.0f}));

    // BCE over two positives and two negatives: mean of -log sigmoid(s) and -log(1 - sigmoid(s)).
    const auto logits = torch::tensor({0.0f, 2.0f, -1.0f, 0.0f});
    const double sig2 = 1.0 / (1.0 + std::exp(-2.0));
    const double sigm1 = 1.0 / (1.0 + std::exp(1.0));
    const double bce = (std::log(2.0) - std::log(sig2) - std::log(1.0 - sigm1) + std::log(2.0)) / 4;
    QVERIFY(std::abs(bceLoss(logits, 2, 2).item<double>() - bce) < 1e-6);
    QCOMPARE(baseLoss(TrainLoss::Bce, logits, 2, 2).item<float>(),
             bceLoss(logits, 2, 2).item<float>());
    // BPR with one negative per positive: -mean log sigmoid(s_pos - s_neg) over (0 - -1), (2 - 0).
    const double bpr =
        -(std::log(1.0 / (1.0 + std::exp(-1.0))) + std::log(1.0 / (1.0 + std::exp(-2.0)))) / 2;
    QVERIFY(std::abs(baseLoss(TrainLoss::Bpr, logits, 2, 2).item<double>() - bpr) < 1e-6);

    // kd: BCE(sigmoid(s / T), r); pointwise: (sigmoid(s) - r)^2.
    const auto s = torch::tensor({0.0f, 2.0f});
    const auto r = torch::tensor({1.0f, 0.5f});
    const double sig1 = 1.0 / (1.0 + std::exp(-1.0));  // sigmoid(2 / 2)
    const double kd = (-std::log(0.5) - 0.5 * std::log(sig1) - 0.5 * std::log(1.0 - sig1)) / 2;
    QVERIFY(std::abs(distillationLoss(s, r, 2.0).item<double>() - kd) < 1e-6);
    const double mse = (0.25 + std::pow(sig2 - 0.5, 2)) / 2;
    QVERIFY(std::abs(pointwiseLoss(s, r).item<double>() - mse) < 1e-6);
}

void TestGate::fusedPairTermsEqualComposed()
{
    // For every mode and option the fused form shares with the composed one (all but random; the
    // threshold rule any and all), with and without labelled pairs: L_llm, the reliability BCE, a
    // as used, and the gradients of lambda L_llm + w L_gate on the logits and on the gate's weight
    // and bias, including whether the gate gets one at all (PairTermsCase).
    PairTermsCase pc;
    int cases = 0;
    for (const auto mode :
         {GateMode::Off, GateMode::Threshold, GateMode::Paper, GateMode::Reliability})
        for (const bool hard : {false, true})
            for (const auto q : {GateUncertainty::Margin, GateUncertainty::Entropy})
                for (const int off : {-1, 0, 1, 2})          // every input, or Cold, Tail or q off
                    for (const float bias : {-0.3f, 16.0f})  // 16: a(u,i,j) past the clamp
                        for (const bool withLabels : {true, false}) {
                            GateSpec spec = PairTermsCase::spec(mode);
                            spec.hard = hard;
                            spec.uncertainty = q;
                            spec.rule = bias > 0 ? GateRule::All : GateRule::Any;
                            spec.useCold = off != 0;
                            spec.useTail = off != 1;
                            spec.useUncertainty = off != 2;
                            QVERIFY(fusedPairTermsApply(spec, *pc.model));
                            const auto composed =
                                pc.run(spec, bias, PairTermsForm::Composed, withLabels);
                            const auto fused = pc.run(spec, bias, PairTermsForm::Fused, withLabels);
                            const auto label =
                                QStringLiteral("mode %1 hard %2 q %3 off %4 bias %5 labels %6")
                                    .arg(int(mode))
                                    .arg(hard)
                                    .arg(int(q))
                                    .arg(off)
                                    .arg(double(bias))
                                    .arg(withLabels);
                            QVERIFY2(near({fused.llm, fused.gate}, {composed.llm, composed.gate}),
                                     qPrintable(label));
                            QVERIFY2(near(fused.used, composed.used), qPrintable(label));
                            QVERIFY2(near(fused.dLogits, composed.dLogits), qPrintable(label));
                            QVERIFY2(near(fused.dWeight, composed.dWeight), qPrintable(label));
                            QVERIFY2(near(fused.dBias, composed.dBias), qPrintable(label));
                            QVERIFY2(fused.gateGradient == composed.gateGradient,
                                     qPrintable(label));
                            // Fastest takes the fused form.
                            QCOMPARE(pc.run(spec, bias, PairTermsForm::Fastest, withLabels).dLogits,
                                     fused.dLogits);
                            ++cases;
                        }
    QCOMPARE(cases, 256);

    // The case is not trivial: some hinges are zero, some positive, the gate gets a gradient.
    auto spec = PairTermsCase::spec(GateMode::Paper);
    const auto paper = pc.run(spec, -0.3f, PairTermsForm::Fused);
    const auto zero =
        std::count(paper.dLogits.begin(), paper.dLogits.begin() + PairTermsCase::kPairs, 0.0f);
    QVERIFY(zero > 5 && zero < PairTermsCase::kPairs - 5);
    QVERIFY(paper.dWeight[0] != 0.0f && paper.dBias[0] != 0.0f);

    // The random gate and q from dropout passes stay composed: they draw.
    spec.mode = GateMode::Random;
    QVERIFY(!fusedPairTermsApply(spec, *pc.model));
    bool refused = false;
    try {
        pc.run(spec, 0.0f, PairTermsForm::Fused);
    } catch (const std::invalid_argument&) {
        refused = true;
    }
    QVERIFY(refused);
    spec.mode = GateMode::Reliability;
    spec.uncertainty = GateUncertainty::Dropout;
    QVERIFY(!fusedPairTermsApply(spec, *PairTermsCase::mf(0.2)));
    QVERIFY(fusedPairTermsApply(spec, *PairTermsCase::mf(0.0)));  // no dropout: q is the entropy
}

void TestGate::inspectorHingeEqualsTraining()
{
    // A real run on the tiny fixtures (MF, the paper gate with the hard switch, so that the
    // weights are straight-through values), then every candidate pair of user 1 in the inspector
    // against the model and gate reloaded from the run's checkpoint and the training functions.
    QTemporaryDir dir;
    RunConfig c = testconfigs::inspectConfig();
    c.method.margin = 2.0;
    c.gate.mode = GateMode::Paper;
    c.gate.hard = true;
    c.gate.tauA = 0.45;
    ExperimentStore store(dir.filePath(QStringLiteral("experiments.db")).toStdString());
    const auto outcome = executeRun(c, store);
    QCOMPARE(outcome.status, RunStatus::Completed);
    const RunInspector inspector(store, outcome.runId);
    const auto d = inspector.user("1");
    QCOMPARE(d.pairs.size(), std::size_t(6));

    const Dataset ds = loadDataset(c.dataset);
    const Segmentation seg = computeSegments(ds, c.dataset.segments);
    const ScoreSet scores = loadScores(c.scores, ds);
    Trainer reference(c, ds, seg, &scores);
    reference.loadCheckpoint(checkpointDir(store, outcome.runId) + "/best.pt");
    // The gate over every scored entry in the score set's order, as the inspector computes it.
    std::vector<std::uint32_t> users, items;
    for (std::uint32_t u = 0; u + 1 < scores.offsets.size(); ++u)
        for (auto k = scores.offsets[u]; k < scores.offsets[u + 1]; ++k) {
            users.push_back(u);
            items.push_back(scores.items[k]);
        }
    const auto view = reference.gateView(users, items);
    auto entry = [&](std::uint32_t u, std::uint32_t item) {
        for (auto k = scores.offsets[u]; k < scores.offsets[u + 1]; ++k)
            if (scores.items[k] == item)
                return static_cast<std::int64_t>(k);
        return std::int64_t(-1);
    };
    torch::NoGradGuard noGrad;
    for (const auto& p : d.pairs) {
        const auto hi = entry(d.user.index, p.higher.index);
        const auto lo = entry(d.user.index, p.lower.index);
        QVERIFY(hi >= 0 && lo >= 0);
        const auto hinge = pairHinge(view.logits.slice(0, hi, hi + 1),
                                     view.logits.slice(0, lo, lo + 1), c.method.margin);
        QCOMPARE(p.hinge, static_cast<double>(hinge.item<float>()));
        const auto aPair = pairActivation(view.a.slice(0, hi, hi + 1), view.a.slice(0, lo, lo + 1));
        QCOMPARE(p.a, static_cast<double>(aPair.item<float>()));
        QCOMPARE(p.weight, static_cast<double>(pairWeight(c.gate, aPair).item<float>()));
        // Straight-through: forward 1[a > tau_a] (up to the float rounding of (1 + a) - a).
        QVERIFY(std::abs(p.weight - (p.a > 0.45 ? 1.0 : 0.0)) < 1e-6);
        QCOMPARE(p.contribution, c.method.lambda * p.weight * p.hinge);
        QCOMPARE(p.reliabilityLabel,
                 reference.reliabilityLabel(d.user.index, p.higher.index, p.lower.index));
        // The hinge from the logits' own definition: max(0, m - (s_i - s_j)).
        const double si = view.logits[hi].item<float>();
        const double sj = view.logits[lo].item<float>();
        QVERIFY(std::abs(p.hinge - std::max(0.0, c.method.margin - (si - sj))) < 1e-5);
    }
}

void TestGate::namedChoicesReadAndWriteTheSameText()
{
    // Every named choice round-trips through its name, in the order of the config's error list.
    QCOMPARE(toString(MethodName::Pointwise), std::string("pointwise"));
    QVERIFY(parseChoice<GateMode>("threshold") == std::optional<GateMode>(GateMode::Threshold));
    QVERIFY(!parseChoice<GateMode>("on"));
    QCOMPARE(toString(GateUncertainty::Dropout), std::string("dropout"));
    QCOMPARE(toString(GateRule::All), std::string("all"));
    QCOMPARE(toString(GateSupervision::Validation), std::string("validation"));
    QCOMPARE(toString(TrainLoss::Bpr), std::string("bpr"));

    // The default config is written exactly as before the choices became enums: the template
    // that the build before the change printed ('sllmr config template'), byte for byte, and
    // its hash, with the one default changed on purpose since: train.threads 1 (it was 0).
    std::ifstream in(fixture(QStringLiteral("config/template_before_enums.json")));
    QVERIFY(in.good());
    std::stringstream before;
    before << in.rdbuf();
    auto stored = nlohmann::json::parse(before.str());
    QCOMPARE(stored["train"]["threads"].get<int>(), 0);
    stored["train"]["threads"] = 1;
    QCOMPARE(QString::fromStdString(toJson(defaultRunConfig()).dump(2)),
             QString::fromStdString(stored.dump(2)));
    stored.erase("name");
    QCOMPARE(configHash(defaultRunConfig()), hashHex(stored.dump()));
    // FNV-1a 64 of that template's compact JSON without its name and with train.threads 1,
    // computed outside the project.
    QCOMPARE(configHash(defaultRunConfig()), std::string("0bff6e4321df3063"));

    // Non-default values of every choice read and write the same names.
    auto j = toJson(defaultRunConfig());
    j["train"]["loss"] = "bpr";
    j["method"]["name"] = "kd";
    j["gate"]["mode"] = "threshold";
    j["gate"]["uncertainty"] = "dropout";
    j["gate"]["rule"] = "all";
    j["gate"]["supervision"] = "validation";
    const RunConfig c = runConfigFromJson(j);
    QVERIFY(c.train.loss == TrainLoss::Bpr);
    QVERIFY(c.method.name == MethodName::Kd);
    QVERIFY(c.gate.mode == GateMode::Threshold);
    QVERIFY(c.gate.uncertainty == GateUncertainty::Dropout);
    QVERIFY(c.gate.rule == GateRule::All);
    QVERIFY(c.gate.supervision == GateSupervision::Validation);
    const auto back = toJson(c);
    QCOMPARE(back["train"]["loss"].get<std::string>(), std::string("bpr"));
    QCOMPARE(back["method"]["name"].get<std::string>(), std::string("kd"));
    QCOMPARE(back["gate"]["mode"].get<std::string>(), std::string("threshold"));
    QCOMPARE(back["gate"]["uncertainty"].get<std::string>(), std::string("dropout"));
    QCOMPARE(back["gate"]["rule"].get<std::string>(), std::string("all"));
    QCOMPARE(back["gate"]["supervision"].get<std::string>(), std::string("validation"));

    // A bad value is the same error as before: the key, the value and the allowed names.
    j["gate"]["mode"] = "on";
    try {
        runConfigFromJson(j);
        QFAIL("expected an error");
    } catch (const Error& e) {
        QCOMPARE(e.kind(), ErrorKind::Usage);
        QCOMPARE(QString::fromStdString(e.problem()),
                 QStringLiteral("setting 'gate.mode' = 'on' is not one of: off, paper, "
                                "reliability, threshold, random"));
    }
}

QTEST_APPLESS_MAIN(TestGate)
#include "tst_gate.moc"
