// Backbones (SPEC 5): MF, DeepFM, DCNv2, xDeepFM, AutoInt, DCNv1 and DIN behind the one
// BackboneImpl interface. MF's hand-written forward and backward against the module version and
// the dropout noise against torch's own draw. Shapes, the
// precomputed scoreAll() against forward() on the cross product (the key check of the split first
// layers), deterministic construction for a seed, sparse versus dense gradients, dropout in train
// and eval mode, learning a tiny two-group pattern (AUC counted here), and strict ModelSpec JSON.
#include "common/error.h"
#include "model/backbone.h"
#include "model/din.h"
#include "model/field_attention.h"
#include "model/layers.h"
#include "model/mlp_scoring.h"
#include "model/sgemm.h"
#include "model/xdeepfm.h"

#include <QtTest>

#include <nlohmann/json.hpp>

#include <torch/torch.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdlib>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace sllmr;

namespace {

// Item features for `items` items: item i has feature (i < items/2 ? 0 : 1) marking its half;
// with `varied`, every third item also has feature 2 + i % 3 and every seventh has none at all
// (empty bags must give a zero vector, not NaN).
ItemInfo makeItemInfo(std::int64_t items, bool varied)
{
    ItemInfo info;
    info.featureNames = {"half-a", "half-b", "x", "y", "z"};
    info.featureOffsets.push_back(0);
    for (std::int64_t i = 0; i < items; ++i) {
        if (!(varied && i % 7 == 3)) {
            info.features.push_back(i < items / 2 ? 0 : 1);
            if (varied && i % 3 == 0)
                info.features.push_back(static_cast<std::uint32_t>(2 + i % 3));
        }
        info.featureOffsets.push_back(static_cast<std::uint32_t>(info.features.size()));
    }
    return info;
}

// Training interactions for DIN's histories: user u has 2 + u % 7 items, (3u + 5k) % items at
// time k (some users have more than a short history length, some fewer).
std::vector<Interaction> syntheticHistory(std::int64_t users, std::int64_t items)
{
    std::vector<Interaction> rows;
    for (std::int64_t u = 0; u < users; ++u)
        for (std::int64_t k = 0; k < 2 + u % 7; ++k) {
            Interaction r;
            r.user = static_cast<std::uint32_t>(u);
            r.item = static_cast<std::uint32_t>((3 * u + 5 * k) % items);
            r.time = k;
            rows.push_back(r);
        }
    return rows;
}

std::shared_ptr<BackboneImpl> build(const ModelSpec& spec, std::int64_t users, std::int64_t items,
                                    const ItemInfo* info,
                                    const std::vector<Interaction>* train = nullptr)
{
    const auto history = syntheticHistory(users, items);
    BackboneContext ctx;
    ctx.numUsers = users;
    ctx.numItems = items;
    ctx.itemInfo = info;
    ctx.train = train ? train : &history;
    return makeBackbone(spec, ctx);
}

torch::Tensor longTensor(const std::vector<std::int64_t>& v)
{
    return torch::tensor(v, torch::kLong);
}

bool allFinite(const torch::Tensor& t)
{
    return torch::isfinite(t).all().item<bool>();
}

// The parameter tensors, cloned, in registration order.
std::vector<torch::Tensor> snapshot(BackboneImpl& m)
{
    std::vector<torch::Tensor> out;
    for (const auto& p : m.parameters())
        out.push_back(p.detach().clone());
    return out;
}

// A model of 9 users and 14 items built from seed 3 with its parameters moved off their
// initialisation by scale x N(0, 1) (seed 4), so that no term of a formula under test is zero.
std::shared_ptr<BackboneImpl> perturbedModel(const ModelSpec& spec, const ItemInfo& info,
                                             double scale)
{
    torch::manual_seed(3);
    auto model = build(spec, 9, 14, &info);
    torch::NoGradGuard noGrad;
    torch::manual_seed(4);
    for (auto& p : model->parameters())
        p.add_(torch::randn_like(p) * scale);
    return model;
}

// Logits and parameter gradients of model->forward(users, items) against `reference` (the same
// parameters through a formula written out in the test), in train mode (the same dropout draw)
// and in eval mode.
template <class Reference>
void compareWithReference(BackboneImpl& model, const torch::Tensor& users,
                          const torch::Tensor& items, Reference&& reference)
{
    const auto weights = torch::linspace(-1.0, 2.0, users.size(0));
    for (const bool training : {true, false}) {
        training ? model.train() : model.eval();
        std::vector<torch::Tensor> logits;
        std::vector<std::vector<torch::Tensor>> grads;
        for (int way = 0; way < 2; ++way) {
            model.zero_grad();
            torch::manual_seed(11);
            logits.push_back(way == 0 ? model.forward(users, items) : reference());
            (logits.back() * weights).sum().backward();
            grads.emplace_back();
            for (const auto& p : model.parameters())
                // Copies: zero_grad() zeroes a dense gradient in place and the next backward
                // adds into the same storage.
                grads.back().push_back(p.grad().is_sparse() ? p.grad().to_dense()
                                                            : p.grad().clone());
        }
        QVERIFY(torch::allclose(logits[0], logits[1], 1e-5, 1e-6));
        for (std::size_t k = 0; k < grads[0].size(); ++k)
            QVERIFY2(
                torch::allclose(grads[0][k], grads[1][k], 1e-5, 1e-6),
                qPrintable(QString("parameter %1, %2").arg(k).arg(training ? "train" : "eval")));
    }
}

// Whether the autograd graph behind t has a node whose name contains `name`.
bool graphHas(const torch::Tensor& t, const std::string& name)
{
    std::vector<std::shared_ptr<torch::autograd::Node>> stack = {t.grad_fn()};
    std::set<torch::autograd::Node*> seen;
    while (!stack.empty()) {
        const auto node = stack.back();
        stack.pop_back();
        if (!node || !seen.insert(node.get()).second)
            continue;
        if (node->name().find(name) != std::string::npos)
            return true;
        for (const auto& edge : node->next_edges())
            stack.push_back(edge.function);
    }
    return false;
}

// Columns shared by the per-backbone tables.
void backboneColumns()
{
    QTest::addColumn<QString>("type");
    QTest::addColumn<bool>("features");
    QTest::addColumn<int>("hiddenLayers");  // 0: no hidden layer, else {32, 16}
    QTest::addColumn<int>("crossLayers");   // also: xDeepFM 0 = no CIN, AutoInt attention layers
}

void backboneRows()
{
    QTest::newRow("mf") << "mf" << false << 2 << 2;
    QTest::newRow("deepfm") << "deepfm" << false << 2 << 2;
    QTest::newRow("deepfm+features") << "deepfm" << true << 2 << 2;
    QTest::newRow("deepfm no dnn") << "deepfm" << true << 0 << 2;
    QTest::newRow("dcnv2") << "dcnv2" << false << 2 << 2;
    QTest::newRow("dcnv2+features") << "dcnv2" << true << 2 << 2;
    QTest::newRow("dcnv2 no cross") << "dcnv2" << true << 2 << 0;
    QTest::newRow("dcnv2 no dnn") << "dcnv2" << true << 0 << 3;
    QTest::newRow("dcnv2 linear") << "dcnv2" << true << 0 << 0;
    QTest::newRow("xdeepfm") << "xdeepfm" << false << 2 << 2;
    QTest::newRow("xdeepfm+features") << "xdeepfm" << true << 2 << 2;
    QTest::newRow("xdeepfm no dnn") << "xdeepfm" << true << 0 << 2;
    QTest::newRow("xdeepfm no cin") << "xdeepfm" << true << 2 << 0;
    QTest::newRow("autoint") << "autoint" << false << 2 << 3;
    QTest::newRow("autoint+features") << "autoint" << true << 2 << 2;
    QTest::newRow("autoint no dnn") << "autoint" << true << 0 << 1;
    QTest::newRow("dcnv1") << "dcnv1" << false << 2 << 3;
    QTest::newRow("dcnv1+features") << "dcnv1" << true << 2 << 3;
    QTest::newRow("dcnv1 no cross") << "dcnv1" << true << 2 << 0;
    QTest::newRow("dcnv1 no dnn") << "dcnv1" << true << 0 << 2;
    QTest::newRow("din") << "din" << false << 2 << 2;
    QTest::newRow("din+features") << "din" << true << 2 << 2;
    QTest::newRow("din no dnn") << "din" << true << 0 << 2;
}

ModelSpec specFromRow(const QString& type, bool features, int hiddenLayers, int crossLayers)
{
    ModelSpec s;
    s.type = type.toStdString();
    s.dim = 8;
    s.hidden = hiddenLayers == 0 ? std::vector<int>{} : std::vector<int>{32, 16};
    s.crossLayers = crossLayers;
    s.cinLayers = crossLayers == 0 ? std::vector<int>{} : std::vector<int>{6, 5};
    s.attentionLayers = std::max(crossLayers, 1);
    s.attentionHeads = 2;
    s.attentionDim = 4;
    s.historyLength = 4;
    s.dinAttention = {8, 4};
    s.dropout = 0.2;
    s.itemFeatures = features;
    return s;
}

#define FETCH_SPEC()           \
    QFETCH(QString, type);     \
    QFETCH(bool, features);    \
    QFETCH(int, hiddenLayers); \
    QFETCH(int, crossLayers);  \
    ModelSpec spec = specFromRow(type, features, hiddenLayers, crossLayers)

}  // namespace

class TestModels : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();

    void specJsonRoundTrip();
    void specJsonRejects_data();
    void specJsonRejects();
    void unknownTypeAndBadFeatures();

    void inferenceLinearMatchesAddmm();
    void forwardShape_data()
    {
        backboneColumns();
        backboneRows();
    }
    void forwardShape();
    void scoreAllMatchesForward_data()
    {
        backboneColumns();
        backboneRows();
    }
    void scoreAllMatchesForward();
    void scoreAllAcrossBlocks_data();
    void scoreAllAcrossBlocks();
    void deterministicConstruction_data()
    {
        backboneColumns();
        backboneRows();
    }
    void deterministicConstruction();
    void sparseAndDenseGradients_data()
    {
        backboneColumns();
        backboneRows();
    }
    void sparseAndDenseGradients();
    void sparseTablesMatchDenseTables_data()
    {
        backboneColumns();
        backboneRows();
    }
    void sparseTablesMatchDenseTables();
    void dropoutOnlyInTrainMode_data()
    {
        backboneColumns();
        backboneRows();
    }
    void dropoutOnlyInTrainMode();
    void dropoutNoiseIsTorchsDraw();
    void mfHandWrittenMatchesModules();
    void deepfmUserBlockMatchesConcatenatedInput();
    void dinSplitLauMatchesConcatenatedInput();
    void dcnv1ClosedFormMatchesLayers();
    void dcnv2CrossNetworkMatchesLayers();
    void cinLayerMatchesComposed();
    void fieldAttentionMatchesComposed();
    void mlpTrainingMatchesModules();
    void mlpScoringMatchesModules();
    void productsMatchTorch();
    void learnsTwoGroups_data();
    void learnsTwoGroups();
    void dinHistories();
};

void TestModels::initTestCase()
{
    // The tensors here are tiny: one thread is fastest and immune to a busy machine.
    torch::set_num_threads(1);
}

void TestModels::specJsonRoundTrip()
{
    ModelSpec s;
    s.type = "dcnv2";
    s.dim = 32;
    s.hidden = {64, 16, 8};
    s.crossLayers = 5;
    s.cinLayers = {16, 8};
    s.attentionLayers = 2;
    s.attentionHeads = 4;
    s.attentionDim = 16;
    s.historyLength = 20;
    s.dinAttention = {36};
    s.dropout = 0.25;
    s.itemFeatures = false;
    s.sparseEmbeddings = false;
    nlohmann::json j = s;
    const auto back = modelSpecFromJson(j);
    QCOMPARE(back.type, s.type);
    QCOMPARE(back.dim, s.dim);
    QCOMPARE(back.hidden, s.hidden);
    QCOMPARE(back.crossLayers, s.crossLayers);
    QCOMPARE(back.cinLayers, s.cinLayers);
    QCOMPARE(back.attentionLayers, s.attentionLayers);
    QCOMPARE(back.attentionHeads, s.attentionHeads);
    QCOMPARE(back.attentionDim, s.attentionDim);
    QCOMPARE(back.historyLength, s.historyLength);
    QCOMPARE(back.dinAttention, s.dinAttention);
    QCOMPARE(back.dropout, s.dropout);
    QCOMPARE(back.itemFeatures, s.itemFeatures);
    QCOMPARE(back.sparseEmbeddings, s.sparseEmbeddings);

    // Absent keys keep the defaults; an empty hidden list is allowed (no DNN layer).
    const auto partial = modelSpecFromJson(nlohmann::json::parse(R"({"hidden": []})"));
    QCOMPARE(partial.type, std::string("mf"));
    QCOMPARE(partial.dim, 64);
    QVERIFY(partial.hidden.empty());
}

void TestModels::specJsonRejects_data()
{
    QTest::addColumn<QString>("json");
    QTest::addColumn<QString>("key");
    auto row = [](const char* name, const char* json, const char* key) {
        QTest::newRow(name) << QString::fromUtf8(json) << QString::fromUtf8(key);
    };
    row("unknown key", R"({"dims": 8})", "model.dims");
    row("type", R"({"type": "lightgcn"})", "model.type");
    row("dim 0", R"({"dim": 0})", "model.dim");
    row("dim 2048", R"({"dim": 2048})", "model.dim");
    row("dim 64.5", R"({"dim": 64.5})", "model.dim");
    row("hidden 0", R"({"hidden": [64, 0]})", "model.hidden");
    row("hidden 5000", R"({"hidden": [5000]})", "model.hidden");
    row("hidden 32.5", R"({"hidden": [64, 32.5]})", "model.hidden");
    row("hidden type", R"({"hidden": 64})", "model.hidden");
    row("cross 11", R"({"cross_layers": 11})", "model.cross_layers");
    row("cross -1", R"({"cross_layers": -1})", "model.cross_layers");
    row("cin 0", R"({"cin_layers": [32, 0]})", "model.cin_layers");
    row("cin 32.5", R"({"cin_layers": [32.5]})", "model.cin_layers");
    row("attention layers 0", R"({"attention_layers": 0})", "model.attention_layers");
    row("attention layers 11", R"({"attention_layers": 11})", "model.attention_layers");
    row("heads 0", R"({"attention_heads": 0})", "model.attention_heads");
    row("attention dim 600", R"({"attention_dim": 600})", "model.attention_dim");
    row("history 0", R"({"history_length": 0})", "model.history_length");
    row("history 201", R"({"history_length": 201})", "model.history_length");
    row("din attention empty", R"({"din_attention": []})", "model.din_attention");
    row("din attention 0", R"({"din_attention": [80, 0]})", "model.din_attention");
    row("dropout", R"({"dropout": 0.95})", "model.dropout");
    row("features type", R"({"item_features": "yes"})", "model.item_features");
    row("sparse type", R"({"sparse_embeddings": 1})", "model.sparse_embeddings");
    row("not an object", R"([1, 2])", "model");
}

void TestModels::specJsonRejects()
{
    QFETCH(QString, json);
    QFETCH(QString, key);
    try {
        modelSpecFromJson(nlohmann::json::parse(json.toStdString()));
        QFAIL("accepted an invalid model setting");
    } catch (const Error& e) {
        QCOMPARE(e.kind(), ErrorKind::Usage);
        const QString what = QString::fromStdString(e.what());
        QVERIFY2(what.contains(QLatin1Char('\'') + key), qPrintable(what));
    }
}

void TestModels::unknownTypeAndBadFeatures()
{
    ModelSpec spec;
    spec.type = "lightgcn";
    QVERIFY_THROWS_EXCEPTION(Error, build(spec, 3, 4, nullptr));

    // A CSR that does not match the item count is a bug upstream, reported, not read past.
    ItemInfo info = makeItemInfo(4, false);
    info.featureOffsets.pop_back();
    spec.type = "deepfm";
    QVERIFY_THROWS_EXCEPTION(Error, build(spec, 3, 4, &info));
    info = makeItemInfo(4, false);
    info.features.back() = 99;  // outside the vocabulary
    QVERIFY_THROWS_EXCEPTION(Error, build(spec, 3, 4, &info));
    // Without features asked for, the CSR is not read at all.
    spec.itemFeatures = false;
    QVERIFY(build(spec, 3, 4, &info) != nullptr);
}

void TestModels::inferenceLinearMatchesAddmm()
{
    torch::manual_seed(9);
    const auto x = torch::randn({37, 24});
    const auto w = torch::randn({16, 40});
    const auto b = torch::randn({16});
    const auto wView = w.narrow(1, 8, 24);  // non-contiguous, as in the split first layers
    torch::NoGradGuard noGrad;
    QVERIFY(torch::allclose(model_detail::inferenceLinear(x, wView, b),
                            torch::addmm(b, x, wView.t()), 1e-4, 1e-5));
    QVERIFY(torch::allclose(model_detail::inferenceLinear(x, wView), torch::mm(x, wView.t()), 1e-4,
                            1e-5));
    const auto xView = torch::randn({24, 37}).t();  // non-contiguous input
    QVERIFY(torch::allclose(model_detail::inferenceLinear(xView, wView, b),
                            torch::addmm(b, xView, wView.t()), 1e-4, 1e-5));
    QCOMPARE(model_detail::inferenceLinear(torch::zeros({0, 24}), wView, b).sizes().vec(),
             (std::vector<std::int64_t>{0, 16}));
}

void TestModels::forwardShape()
{
    FETCH_SPEC();
    const auto info = makeItemInfo(23, true);
    torch::manual_seed(1);
    auto model = build(spec, 11, 23, &info);
    QCOMPARE(model->numItems(), std::int64_t{23});
    for (bool train : {true, false}) {
        model->train(train);
        const auto users = torch::randint(11, {17}, torch::kLong);
        const auto items = torch::randint(23, {17}, torch::kLong);
        const auto s = model->forward(users, items);
        QCOMPARE(s.dim(), std::int64_t{1});
        QCOMPARE(s.size(0), std::int64_t{17});
        QCOMPARE(s.scalar_type(), torch::kFloat);
        QVERIFY(allFinite(s));
    }
    // Items without any feature only (all empty bags) still work.
    model->eval();
    const auto s = model->forward(longTensor({0, 1}), longTensor({3, 10}));
    QVERIFY(allFinite(s));
}

void TestModels::scoreAllMatchesForward()
{
    FETCH_SPEC();
    const std::int64_t numUsers = 9;
    const std::int64_t numItems = 23;
    const auto info = makeItemInfo(numItems, true);
    torch::manual_seed(2);
    auto model = build(spec, numUsers, numItems, &info);
    // Move the parameters away from their init (zero first-order weights and biases would hide a
    // wrong precompute of those terms).
    {
        torch::NoGradGuard noGrad;
        for (auto& p : model->parameters())
            p.add_(torch::randn_like(p) * 0.3);
    }
    model->eval();
    const auto users = longTensor({4, 0, 8, 4, 2});  // unsorted, with a repeat
    const auto all = model->scoreAll(users);
    QCOMPARE(all.sizes().vec(), (std::vector<std::int64_t>{5, numItems}));

    const auto crossUsers = users.repeat_interleave(numItems);
    const auto crossItems = torch::arange(numItems, torch::kLong).repeat({users.size(0)});
    // With grad mode on, forward() takes the training path (LibTorch's own matmuls), so this
    // also checks the oneDNN inference path against it.
    const auto expected =
        model->forward(crossUsers, crossItems).detach().view({users.size(0), numItems});
    QVERIFY(allFinite(all));
    const auto diff = (all - expected).abs().max().item<double>();
    QVERIFY2(torch::allclose(all, expected, 1e-4, 1e-5), qPrintable(QString::number(diff)));
    // The generic chunked default agrees as well.
    const auto generic = model->BackboneImpl::scoreAll(users);
    QVERIFY(torch::allclose(generic, expected, 1e-4, 1e-5));
    QVERIFY(!all.requires_grad());

    // rowScorer(): the same rows as evaluation passes them (runs of a user's candidates), and in
    // any order (a user twice, apart), against forward() row for row.
    const auto rowUsers = longTensor({4, 4, 4, 0, 0, 8, 4, 2, 2, 8});
    const auto rowItems = longTensor({0, 22, 5, 5, 0, 13, 13, 7, 7, 1});
    const auto rows = model->rowScorer()(rowUsers, rowItems);
    QCOMPARE(rows.sizes().vec(), (std::vector<std::int64_t>{10}));
    QVERIFY(!rows.requires_grad());
    const auto forwardRows = model->forward(rowUsers, rowItems).detach();
    const auto rowDiff = (rows - forwardRows).abs().max().item<double>();
    QVERIFY2(torch::allclose(rows, forwardRows, 1e-4, 1e-5), qPrintable(QString::number(rowDiff)));
}

void TestModels::scoreAllAcrossBlocks_data()
{
    QTest::addColumn<QString>("type");
    QTest::newRow("mf") << "mf";
    QTest::newRow("deepfm") << "deepfm";
    QTest::newRow("dcnv2") << "dcnv2";
    QTest::newRow("xdeepfm") << "xdeepfm";
    QTest::newRow("autoint") << "autoint";
    QTest::newRow("dcnv1") << "dcnv1";
    QTest::newRow("din") << "din";
}

// Wide enough layers and enough rows that scoreAll() splits the cross product into several
// blocks (over users and within a user's items): blocks must land in the right place.
void TestModels::scoreAllAcrossBlocks()
{
    QFETCH(QString, type);
    ModelSpec spec;
    spec.type = type.toStdString();
    spec.dim = 4;
    spec.hidden = {4096};
    spec.crossLayers = 1;
    const std::int64_t numUsers = 5;
    const std::int64_t numItems = 10000;
    QVERIFY(numItems > model_detail::kMaxScoreFloats / 4096);  // rows per block at width 4096
    const auto info = makeItemInfo(numItems, true);
    torch::manual_seed(3);
    auto model = build(spec, numUsers, numItems, &info);
    model->eval();
    const auto users = longTensor({3, 1, 4});
    const auto all = model->scoreAll(users);
    torch::NoGradGuard noGrad;
    for (std::int64_t k = 0; k < users.size(0); ++k) {
        const auto row = model->forward(users[k].repeat({numItems}), torch::arange(numItems));
        QVERIFY(torch::allclose(all[k], row, 1e-4, 1e-5));
    }
}

void TestModels::deterministicConstruction()
{
    FETCH_SPEC();
    const auto info = makeItemInfo(23, true);
    torch::manual_seed(42);
    const auto a = snapshot(*build(spec, 11, 23, &info));
    torch::manual_seed(42);
    const auto b = snapshot(*build(spec, 11, 23, &info));
    torch::manual_seed(43);
    const auto c = snapshot(*build(spec, 11, 23, &info));
    QCOMPARE(a.size(), b.size());
    bool anyDiffers = false;
    for (std::size_t k = 0; k < a.size(); ++k) {
        QVERIFY(torch::equal(a[k], b[k]));
        anyDiffers = anyDiffers || !torch::equal(a[k], c[k]);
    }
    QVERIFY(anyDiffers);
}

void TestModels::sparseAndDenseGradients()
{
    FETCH_SPEC();
    const auto info = makeItemInfo(23, true);
    for (bool sparse : {true, false}) {
        spec.sparseEmbeddings = sparse;
        torch::manual_seed(4);
        auto model = build(spec, 11, 23, &info);
        const auto sparseParams = model->sparseParameters();
        const auto denseParams = model->denseParameters();
        QCOMPARE(sparseParams.size() + denseParams.size(), model->parameters().size());
        if (!sparse) {
            QVERIFY(sparseParams.empty());
            continue;
        }
        // user + item tables, plus biases / first-order weights / feature bags where present.
        QVERIFY(sparseParams.size() >= 2);
        model->train();
        model->forward(longTensor({0, 3, 10, 3}), longTensor({1, 3, 22, 6})).sum().backward();
        for (const auto& p : sparseParams) {
            QVERIFY(p.grad().defined());
            QVERIFY(p.grad().is_sparse());
        }
        for (const auto& p : denseParams) {
            QVERIFY(p.grad().defined());
            QVERIFY(!p.grad().is_sparse());
        }
    }
}

// With sparse tables, the backbones' lookups run through hand-written autograd functions (MF's
// score, DeepFM's fields and FM term, the other backbones' item columns); with dense tables,
// through torch's Embedding and EmbeddingBag. The same seed gives both the same parameters; the
// logits and every parameter's gradient must agree up to the order of float additions, in train
// mode (the same dropout draws) and in eval mode, over a batch that repeats users and items and
// holds items with empty feature bags (3 and 10).
void TestModels::sparseTablesMatchDenseTables()
{
    FETCH_SPEC();
    const auto info = makeItemInfo(14, true);
    std::vector<std::shared_ptr<BackboneImpl>> models;
    for (const bool sparse : {true, false}) {
        spec.sparseEmbeddings = sparse;
        models.push_back(perturbedModel(spec, info, 0.1));
    }
    const auto users = longTensor({0, 3, 3, 8, 1, 0, 5, 3, 2, 8, 7, 6, 3, 0});
    const auto items = longTensor({13, 2, 2, 0, 5, 5, 7, 11, 13, 1, 2, 9, 3, 10});
    const auto weights = torch::linspace(-1.0, 2.0, users.size(0));
    const std::string handWritten = type == "mf"       ? "MfScore"
                                    : type == "deepfm" ? "DeepFMFields"
                                                       : "ItemFieldGather";
    for (const bool training : {true, false}) {
        std::vector<torch::Tensor> logits;
        std::vector<std::vector<torch::Tensor>> grads;
        for (std::size_t m = 0; m < models.size(); ++m) {
            auto& model = *models[m];
            training ? model.train() : model.eval();
            model.zero_grad();
            torch::manual_seed(11);
            logits.push_back(model.forward(users, items));
            // The hand-written function runs with sparse tables only.
            QCOMPARE(graphHas(logits.back(), handWritten), m == 0);
            (logits.back() * weights).sum().backward();
            grads.emplace_back();
            std::set<const void*> sparseTables;
            for (const auto& p : model.sparseParameters())
                sparseTables.insert(p.unsafeGetTensorImpl());
            QCOMPARE(sparseTables.empty(), m == 1);
            for (const auto& p : model.parameters()) {
                QVERIFY(p.grad().defined());
                QCOMPARE(p.grad().is_sparse(), sparseTables.count(p.unsafeGetTensorImpl()) == 1);
                grads.back().push_back(p.grad().is_sparse() ? p.grad().to_dense()
                                                            : p.grad().clone());
            }
        }
        QVERIFY(torch::allclose(logits[0], logits[1], 1e-5, 1e-6));
        QCOMPARE(grads[0].size(), grads[1].size());
        for (std::size_t k = 0; k < grads[0].size(); ++k)
            QVERIFY2(
                torch::allclose(grads[0][k], grads[1][k], 1e-5, 1e-6),
                qPrintable(QString("parameter %1, %2").arg(k).arg(training ? "train" : "eval")));
    }
}

void TestModels::dropoutOnlyInTrainMode()
{
    FETCH_SPEC();
    const auto info = makeItemInfo(23, true);
    for (double p : {0.0, 0.5}) {
        spec.dropout = p;
        torch::manual_seed(5);
        auto model = build(spec, 11, 23, &info);
        const bool expectDropout = p > 0 && (spec.type == "mf" || !spec.hidden.empty());
        QCOMPARE(model->hasDropout(), expectDropout);
        const auto users = torch::randint(11, {64}, torch::kLong);
        const auto items = torch::randint(23, {64}, torch::kLong);
        torch::NoGradGuard noGrad;
        model->train();
        const bool trainDiffers =
            !torch::equal(model->forward(users, items), model->forward(users, items));
        QCOMPARE(trainDiffers, expectDropout);
        model->eval();
        QVERIFY(torch::equal(model->forward(users, items), model->forward(users, items)));
    }
}

void TestModels::learnsTwoGroups_data()
{
    QTest::addColumn<QString>("type");
    QTest::addColumn<bool>("features");
    for (const char* t : {"mf", "deepfm", "dcnv2", "xdeepfm", "autoint", "dcnv1", "din"})
        for (bool f : {false, true}) {
            if (std::string(t) == "mf" && f)
                continue;  // MF has no feature field
            QTest::newRow((std::string(t) + (f ? "+features" : "")).c_str())
                << QString::fromLatin1(t) << f;
        }
}

// 40 users x 30 items: users 0..19 like items 0..14, users 20..39 like items 15..29 (an item
// feature marks the half). Items 14 and 29 are cold: never seen in training. Of the other
// positives two or three per user are held out; the rest train with BCE and 4 sampled negatives
// per positive (Adam for the dense parameters, Adagrad for the sparse tables). Checks: the
// training loss at least halves, the held-out AUC exceeds 0.8, and with the feature field each
// user ranks the own half's cold item above the other half's (AUC > 0.8 over users), which an
// ID-only model can only guess.
void TestModels::learnsTwoGroups()
{
    QFETCH(QString, type);
    QFETCH(bool, features);
    const std::int64_t numUsers = 40;
    const std::int64_t numItems = 30;
    const auto info = makeItemInfo(numItems, false);
    ModelSpec spec;
    spec.type = type.toStdString();
    spec.dim = 16;
    spec.hidden = {32, 16};
    spec.crossLayers = 2;
    spec.cinLayers = {16, 16};
    spec.attentionDim = 8;
    spec.dropout = 0.1;
    spec.itemFeatures = features;

    auto groupFirst = [](std::int64_t u) -> std::int64_t { return u < 20 ? 0 : 15; };
    std::vector<std::int64_t> trainUsers, trainItems, heldUsers, heldItems;
    std::vector<Interaction> history;  // the training positives, for DIN
    for (std::int64_t u = 0; u < numUsers; ++u)
        for (std::int64_t k = 0; k < 14; ++k) {  // k = 14 is the cold item
            const bool held = (k - u % 5 + 15) % 5 == 0;
            (held ? heldUsers : trainUsers).push_back(u);
            (held ? heldItems : trainItems).push_back(groupFirst(u) + k);
            if (!held)
                history.push_back({k, static_cast<std::uint32_t>(u),
                                   static_cast<std::uint32_t>(groupFirst(u) + k), 1.0f, 0});
        }
    torch::manual_seed(6);
    auto model = build(spec, numUsers, numItems, &info, &history);
    const auto positives = static_cast<std::int64_t>(trainUsers.size());
    const int negativesPerPositive = 4;

    torch::optim::Adam dense(model->denseParameters(), torch::optim::AdamOptions(0.01));
    // Adagrad, like SGD, takes sparse gradients; its per-row step size does not shrink with the
    // share of the batch a row appears in.
    torch::optim::Adagrad sparse(model->sparseParameters(), torch::optim::AdagradOptions(0.1));
    std::mt19937 rng(7);
    model->train();
    std::vector<double> losses;
    for (int step = 0; step < 120; ++step) {
        std::vector<std::int64_t> users = trainUsers;
        std::vector<std::int64_t> items = trainItems;
        std::vector<float> labels(static_cast<std::size_t>(positives), 1.0f);
        for (std::int64_t p = 0; p < positives; ++p)
            for (int n = 0; n < negativesPerPositive; ++n) {
                const auto u = trainUsers[static_cast<std::size_t>(p)];
                // Uniform over the other half's items, the cold one excepted.
                users.push_back(u);
                items.push_back((15 - groupFirst(u)) + static_cast<std::int64_t>(rng() % 14));
                labels.push_back(0.0f);
            }
        const auto logits = model->forward(longTensor(users), longTensor(items));
        const auto loss = torch::binary_cross_entropy_with_logits(logits, torch::tensor(labels));
        dense.zero_grad();
        sparse.zero_grad();
        loss.backward();
        dense.step();
        sparse.step();
        losses.push_back(loss.item<double>());
    }
    double last = 0;
    for (std::size_t k = losses.size() - 10; k < losses.size(); ++k)
        last += losses[k] / 10.0;
    QVERIFY2(last < 0.5 * losses.front(),
             qPrintable(QStringLiteral("loss %1 -> %2").arg(losses.front()).arg(last)));

    // AUC of positives against the user's 15 negatives (the other half), ties one half.
    model->eval();
    const auto scores = model->scoreAll(torch::arange(numUsers));
    const auto* s = scores.data_ptr<float>();
    auto aucOf = [&](std::int64_t u, std::int64_t positive) {
        const float pos = s[u * numItems + positive];
        double below = 0;
        for (std::int64_t j = 15 - groupFirst(u); j < 30 - groupFirst(u); ++j) {
            const float neg = s[u * numItems + j];
            below += neg < pos ? 1.0 : (neg == pos ? 0.5 : 0.0);
        }
        return below / 15.0;
    };
    double auc = 0;
    for (std::size_t h = 0; h < heldUsers.size(); ++h)
        auc += aucOf(heldUsers[h], heldItems[h]) / static_cast<double>(heldUsers.size());
    // Cold items against each other (against trained negatives any untrained item would win).
    double coldAuc = 0;
    for (std::int64_t u = 0; u < numUsers; ++u) {
        const float own = s[u * numItems + groupFirst(u) + 14];
        const float other = s[u * numItems + (15 - groupFirst(u)) + 14];
        coldAuc += (own > other ? 1.0 : (own == other ? 0.5 : 0.0)) / static_cast<double>(numUsers);
    }
    qInfo("%s: loss %.3f -> %.3f, held-out AUC %.3f, cold-item AUC %.3f", qPrintable(type),
          losses.front(), last, auc, coldAuc);
    QVERIFY2(auc > 0.8, qPrintable(QStringLiteral("held-out AUC %1").arg(auc)));
    if (features)
        QVERIFY2(coldAuc > 0.8, qPrintable(QStringLiteral("cold-item AUC %1").arg(coldAuc)));
}

// DIN reads each user's most recent training items (time order) at construction, needs them, and
// masks a history entry equal to the target.
void TestModels::dinHistories()
{
    ModelSpec spec;
    spec.type = "din";
    spec.dim = 8;
    spec.historyLength = 3;
    spec.dinAttention = {8};
    spec.hidden = {16};
    spec.dropout = 0.0;
    std::vector<Interaction> train;
    auto add = [&](std::uint32_t user, std::uint32_t item, std::int64_t time) {
        train.push_back({time, user, item, 1.0f, 0});
    };
    // Sorted by (user, time) as the dataset keeps them; user 1 has no training rows.
    for (std::uint32_t k = 0; k < 5; ++k)
        add(0, 10 + k, 100 + k);
    add(2, 4, 7);
    add(2, 6, 9);
    torch::manual_seed(10);
    BackboneContext ctx{3, 20, nullptr, &train};
    auto model = std::dynamic_pointer_cast<DINImpl>(makeBackbone(spec, ctx));
    QVERIFY(model);
    QCOMPARE(model->history(0), (std::vector<std::int64_t>{12, 13, 14}));
    QVERIFY(model->history(1).empty());
    QCOMPARE(model->history(2), (std::vector<std::int64_t>{4, 6}));

    // Make the attention output large and positive so that every history entry counts.
    {
        torch::NoGradGuard noGrad;
        for (auto& p : model->parameters())
            p.add_(torch::randn_like(p) * 0.5);
    }
    model->eval();
    torch::NoGradGuard noGrad;
    // User 2's history is {4, 6}: for the target 6 the model must score like one whose user 2
    // has the history {4} alone (same weights), and for the target 9 differently.
    std::vector<Interaction> only4 = {{7, 2, 4, 1.0f, 0}};
    torch::manual_seed(10);
    BackboneContext ctx4{3, 20, nullptr, &only4};
    auto model4 = std::dynamic_pointer_cast<DINImpl>(makeBackbone(spec, ctx4));
    model4->eval();
    {
        const auto from = model->parameters();
        auto to = model4->parameters();
        QCOMPARE(from.size(), to.size());
        for (std::size_t k = 0; k < from.size(); ++k)
            to[k].copy_(from[k]);
    }
    const auto a = model->forward(longTensor({2, 2}), longTensor({6, 9}));
    const auto b = model4->forward(longTensor({2, 2}), longTensor({6, 9}));
    QVERIFY(torch::allclose(a[0], b[0], 1e-5, 1e-6));   // 6 masked out of its own history
    QVERIFY(!torch::allclose(a[1], b[1], 1e-5, 1e-6));  // 9: both 4 and 6 attend

    BackboneContext noTrain{3, 20, nullptr, nullptr};
    QVERIFY_THROWS_EXCEPTION(Error, makeBackbone(spec, noTrain));
    std::vector<Interaction> bad = {{0, 0, 25, 1.0f, 0}};  // item outside the 20 items
    BackboneContext badCtx{3, 20, nullptr, &bad};
    QVERIFY_THROWS_EXCEPTION(Error, makeBackbone(spec, badCtx));
}
// dropoutNoise() is the mask torch::dropout multiplies by, element for element, and leaves torch's
// generator where torch's own draw leaves it (the next draw is the same). The generator's words
// come in blocks of 624: the shapes span one and many blocks, and `before` draws an odd number of
// 32-bit words first, so that some of the 64-bit draws straddle two blocks.
void TestModels::dropoutNoiseIsTorchsDraw()
{
    for (const std::uint64_t seed : {0ull, 7ull, 20250101ull})
        for (const double p : {0.1, 0.5, 0.9})
            for (const int before : {0, 1, 623})
                for (const auto& shape :
                     std::vector<std::pair<int, int>>{{1, 1}, {13, 64}, {640, 64}, {7, 2049}}) {
                    torch::manual_seed(seed);
                    if (before > 0)
                        torch::rand({before});  // one 32-bit word per float
                    const auto mine = model_detail::dropoutNoise(shape.first, shape.second, p);
                    const auto nextMine = torch::rand({5});
                    torch::manual_seed(seed);
                    if (before > 0)
                        torch::rand({before});
                    const auto torchs =
                        torch::empty({shape.first, shape.second}).bernoulli_(1.0 - p).div_(1.0 - p);
                    const auto nextTorchs = torch::rand({5});
                    QVERIFY2(torch::equal(mine, torchs),
                             qPrintable(QString("seed %1, p %2, %3 words before, %4 x %5")
                                            .arg(seed)
                                            .arg(p)
                                            .arg(before)
                                            .arg(shape.first)
                                            .arg(shape.second)));
                    QVERIFY(torch::equal(nextMine, nextTorchs));
                    // Both values occur, so the comparison is not between two constant tensors.
                    if (shape.first * shape.second > 100)
                        QVERIFY(mine.min().item<float>() == 0.0f &&
                                mine.max().item<float>() > 1.0f);
                }
}

// MF with sparse tables runs one hand-written autograd function; with dense tables it runs the
// torch modules. Same seed, same batch (repeated users and items), train mode with dropout and eval
// mode: the logits and every gradient agree up to the order of float additions.
void TestModels::mfHandWrittenMatchesModules()
{
    ModelSpec spec;
    spec.type = "mf";
    spec.dim = 16;
    spec.dropout = 0.3;
    std::vector<std::shared_ptr<BackboneImpl>> models;
    for (const bool sparse : {true, false}) {
        spec.sparseEmbeddings = sparse;
        torch::manual_seed(3);
        models.push_back(build(spec, 9, 14, nullptr));
        // Nonzero biases, so their gradients and sums are exercised.
        torch::NoGradGuard noGrad;
        torch::manual_seed(4);
        for (auto& p : models.back()->parameters())
            p.add_(torch::randn_like(p) * 0.1);
    }
    const auto users = longTensor({0, 3, 3, 8, 1, 0, 5, 3, 2, 8, 7, 6});
    const auto items = longTensor({13, 2, 2, 0, 5, 5, 7, 11, 13, 1, 2, 9});
    const auto weights = torch::linspace(-1.0, 2.0, users.size(0));
    for (const bool training : {true, false}) {
        std::vector<torch::Tensor> logits;
        for (auto& m : models) {
            training ? m->train() : m->eval();
            m->zero_grad();
            torch::manual_seed(11);
            logits.push_back(m->forward(users, items));
            (logits.back() * weights).sum().backward();
        }
        // With p = 0.3 on 16 dimensions, a different dropout draw would change most logits.
        QVERIFY(torch::allclose(logits[0], logits[1], 1e-5, 1e-6));
        const auto a = models[0]->parameters();
        const auto b = models[1]->parameters();
        QCOMPARE(a.size(), b.size());
        int sparseGrads = 0;
        for (std::size_t k = 0; k < a.size(); ++k) {
            sparseGrads += a[k].grad().is_sparse() ? 1 : 0;
            const auto ga = a[k].grad().is_sparse() ? a[k].grad().to_dense() : a[k].grad();
            QVERIFY2(
                torch::allclose(ga, b[k].grad(), 1e-5, 1e-6),
                qPrintable(QString("parameter %1, %2").arg(k).arg(training ? "train" : "eval")));
        }
        QCOMPARE(sparseGrads, 4);  // the four tables; g's gradient is dense
    }
}

// DeepFM's training forward with sparse tables is a hand-written function for the fields, the
// first-order sum and the FM term (DeepFMFields), and it computes the first DNN layer's user block
// once per distinct user of a batch: the same logits, dropout draws and gradients, up to the order
// of float additions, as the modules over the concatenated fields, as DeepFM was first written.
// With and without the feature field (whose bags include empty ones: items 3 and 10).
void TestModels::deepfmUserBlockMatchesConcatenatedInput()
{
    for (const bool withFeatures : {true, false}) {
        ModelSpec spec;
        spec.type = "deepfm";
        spec.dim = 16;
        spec.hidden = {12, 6};
        spec.dropout = 0.3;
        spec.itemFeatures = withFeatures;
        const auto info = makeItemInfo(14, true);
        auto model = perturbedModel(spec, info, 0.1);
        auto children = model->named_children();
        auto part = [&children](const char* name) {
            return children.contains(name) ? children[name] : nullptr;
        };
        auto user = std::dynamic_pointer_cast<torch::nn::EmbeddingImpl>(part("user"));
        auto item = std::dynamic_pointer_cast<torch::nn::EmbeddingImpl>(part("item"));
        auto userWeight = std::dynamic_pointer_cast<torch::nn::EmbeddingImpl>(part("user_weight"));
        auto itemWeight = std::dynamic_pointer_cast<torch::nn::EmbeddingImpl>(part("item_weight"));
        auto features =
            std::dynamic_pointer_cast<model_detail::ItemFeatureFieldImpl>(part("features"));
        auto dnn = std::dynamic_pointer_cast<model_detail::MlpImpl>(part("dnn"));
        QVERIFY(user && item && userWeight && itemWeight && dnn);
        QCOMPARE(bool(features), withFeatures);
        // Users repeated, out of order, as over a batch's negatives and pairs.
        const auto users = longTensor({0, 3, 3, 8, 1, 0, 5, 3, 2, 8, 7, 6, 3, 0});
        const auto items = longTensor({13, 2, 2, 0, 5, 5, 7, 11, 13, 1, 2, 9, 3, 10});
        const auto reference = [&] {
            std::vector<torch::Tensor> fields = {user->forward(users), item->forward(items)};
            auto first =
                userWeight->forward(users).squeeze(1) + itemWeight->forward(items).squeeze(1);
            if (features) {
                const auto bags = features->bags(items);
                fields.push_back(features->embed(bags));
                first = first + features->bias(bags);
            }
            auto sum = fields[0];
            auto squares = fields[0] * fields[0];
            for (std::size_t f = 1; f < fields.size(); ++f) {
                sum = sum + fields[f];
                squares = squares + fields[f] * fields[f];
            }
            return first + 0.5 * (sum * sum - squares).sum(1) + dnn->forward(torch::cat(fields, 1));
        };
        // The hand-written function is the one that runs.
        model->train();
        QVERIFY(graphHas(model->forward(users, items), "DeepFMFields"));
        QVERIFY(!graphHas(reference(), "DeepFMFields"));
        // With p = 0.3 on 12 units, another dropout draw would change most logits.
        compareWithReference(*model, users, items, reference);
    }
}

// DIN's forward splits the LAU's first layer and shares its history part between the rows of one
// user (DINImpl); it must give the logits and gradients of the layer over the concatenated
// [h, t, h - t, h * t] of the paper, written out here.
void TestModels::dinSplitLauMatchesConcatenatedInput()
{
    ModelSpec spec = specFromRow("din", true, 2, 2);
    spec.dropout = 0.3;
    const auto info = makeItemInfo(14, true);
    auto model = perturbedModel(spec, info, 0.3);
    auto children = model->named_children();
    auto fields = std::dynamic_pointer_cast<model_detail::FieldEmbeddingsImpl>(children["fields"]);
    auto dnn = std::dynamic_pointer_cast<model_detail::MlpImpl>(children["dnn"]);
    std::vector<std::shared_ptr<torch::nn::LinearImpl>> lau;
    std::vector<std::shared_ptr<torch::nn::PReLUImpl>> prelu;
    for (std::size_t k = 0; k < spec.dinAttention.size(); ++k) {
        lau.push_back(std::dynamic_pointer_cast<torch::nn::LinearImpl>(
            children["attention" + std::to_string(k)]));
        prelu.push_back(
            std::dynamic_pointer_cast<torch::nn::PReLUImpl>(children["prelu" + std::to_string(k)]));
        QVERIFY(lau.back() && prelu.back());
    }
    lau.push_back(std::dynamic_pointer_cast<torch::nn::LinearImpl>(children["attention_out"]));
    QVERIFY(fields && dnn && lau.back());
    auto din = std::dynamic_pointer_cast<DINImpl>(model);
    QVERIFY(din);
    // Users repeated, out of order, as over a batch's negatives and pairs; some targets are in
    // their user's history (masked).
    const auto users = longTensor({0, 3, 3, 8, 1, 0, 5, 3, 2, 8, 7, 6, 3, 0});
    const auto items = longTensor({13, 2, 9, 0, 5, 5, 7, 11, 13, 1, 2, 9, 3, 10});
    const auto length = spec.historyLength;
    const auto reference = [&] {
        std::vector<torch::Tensor> histories, valid;
        for (std::int64_t r = 0; r < users.size(0); ++r) {
            auto hist = din->history(users[r].item<std::int64_t>());
            std::vector<std::int64_t> ids(static_cast<std::size_t>(length), 0);
            std::vector<std::int64_t> ok(static_cast<std::size_t>(length), 0);
            for (std::size_t k = 0; k < hist.size(); ++k) {
                ids[k] = hist[k];
                ok[k] = hist[k] != items[r].item<std::int64_t>();
            }
            histories.push_back(longTensor(ids));
            valid.push_back(longTensor(ok));
        }
        const auto b = users.size(0);
        const auto h = fields->items(torch::stack(histories).reshape({-1})).view({b, length, -1});
        const auto target = fields->items(items);
        const auto t = target.unsqueeze(1).expand_as(h);
        auto x = torch::cat({h, t, h - t, h * t}, 2).view({b * length, -1});
        for (std::size_t k = 0; k + 1 < lau.size(); ++k)
            x = prelu[k]->forward(lau[k]->forward(x));
        const auto a = lau.back()->forward(x).view({b, length}) * torch::stack(valid).to(h.dtype());
        const auto interest = (a.unsqueeze(2) * h).sum(1);
        return dnn->forward(torch::cat({fields->users(users), interest, target}, 1));
    };
    compareWithReference(*model, users, items, reference);
}

// DCNv1's forward uses the closed form of its vector cross network (dcnv1.h); it must give the
// logits and gradients of the layer recursion x_{l+1} = x0 (x_l . w_l) + b_l + x_l, written out
// here, for no, one and three cross layers.
void TestModels::dcnv1ClosedFormMatchesLayers()
{
    for (const int layers : {0, 1, 3}) {
        ModelSpec spec = specFromRow("dcnv1", true, 2, layers);
        spec.dropout = 0.3;
        const auto info = makeItemInfo(14, true);
        auto model = perturbedModel(spec, info, 0.3);
        auto children = model->named_children();
        auto fields =
            std::dynamic_pointer_cast<model_detail::FieldEmbeddingsImpl>(children["fields"]);
        auto combine = std::dynamic_pointer_cast<torch::nn::LinearImpl>(children["combine"]);
        auto dnn = std::dynamic_pointer_cast<model_detail::MlpImpl>(children["dnn"]);
        QVERIFY(fields && combine && dnn);
        const auto own = model->named_parameters(/*recurse=*/false);
        QCOMPARE(own.size(), static_cast<std::size_t>(layers > 0 ? 2 : 0));
        const auto users = longTensor({0, 3, 3, 8, 1, 0, 5, 3, 2, 8, 7, 6, 3, 0});
        const auto items = longTensor({13, 2, 9, 0, 5, 5, 7, 11, 13, 1, 2, 9, 3, 10});
        const auto reference = [&] {
            const auto x0 = torch::cat({fields->users(users), fields->items(items)}, 1);
            auto x = x0;
            for (int l = 0; l < layers; ++l) {
                const auto w = own["cross_weight"][l];
                x = x0 * (x * w).sum(1, /*keepdim=*/true) + own["cross_bias"][l] + x;
            }
            return combine->forward(x).squeeze(1) + dnn->forward(x0);
        };
        compareWithReference(*model, users, items, reference);
        if (QTest::currentTestFailed()) {
            qWarning("with %d cross layers", layers);
            return;
        }
    }
}

// DCNv2's cross layers in training (one autograd node, CrossNetwork in model/dcnv2.cpp) against
// the Linear and addcmul modules they replace: logits and every gradient, in train and eval mode,
// with one and three layers, with and without the feature field.
void TestModels::dcnv2CrossNetworkMatchesLayers()
{
    for (const bool features : {true, false}) {
        for (const int layers : {1, 3}) {
            ModelSpec spec = specFromRow("dcnv2", features, 2, layers);
            spec.dropout = 0.3;
            const auto info = makeItemInfo(14, true);
            auto model = perturbedModel(spec, info, 0.3);
            auto children = model->named_children();
            auto user = std::dynamic_pointer_cast<torch::nn::EmbeddingImpl>(children["user"]);
            auto item = std::dynamic_pointer_cast<torch::nn::EmbeddingImpl>(children["item"]);
            auto bags = children.contains("features")
                            ? std::dynamic_pointer_cast<model_detail::ItemFeatureFieldImpl>(
                                  children["features"])
                            : nullptr;
            auto dnn = std::dynamic_pointer_cast<model_detail::MlpImpl>(children["dnn"]);
            QVERIFY(user && item && dnn && (bags != nullptr) == features);
            const auto users = longTensor({0, 3, 3, 8, 1, 0, 5, 3, 2, 8, 7, 6, 3, 0});
            const auto items = longTensor({13, 2, 9, 0, 5, 5, 7, 11, 13, 1, 2, 9, 3, 10});
            model->train();
            QVERIFY2(graphHas(model->forward(users, items), "CrossNetwork"),
                     "the training forward did not go through CrossNetwork");
            const auto reference = [&] {
                std::vector<torch::Tensor> fields = {user->forward(users), item->forward(items)};
                if (bags)
                    fields.push_back(bags->embed(bags->bags(items)));
                const auto x0 = torch::cat(fields, 1);
                auto x = x0;
                for (int l = 0; l < layers; ++l)
                    x = torch::addcmul(x, x0,
                                       std::dynamic_pointer_cast<torch::nn::LinearImpl>(
                                           children["cross" + std::to_string(l)])
                                           ->forward(x));
                return dnn->forward(x);
            };
            compareWithReference(*model, users, items, reference);
            if (QTest::currentTestFailed()) {
                qWarning("with %d cross layers, features %d", layers, features);
                return;
            }
            if (layers < 3)
                continue;
            // A frozen middle layer: the node gives it no gradient and the others theirs, at the
            // right index.
            const auto frozen = model->named_parameters()["cross1.weight"];
            frozen.requires_grad_(false);
            std::vector<std::vector<torch::Tensor>> grads;
            for (int way = 0; way < 2; ++way) {
                model->zero_grad();
                torch::manual_seed(11);
                const auto out = way == 0 ? model->forward(users, items) : reference();
                out.sum().backward();
                grads.emplace_back();
                for (const auto& p : model->named_parameters())
                    if (p.key().rfind("cross", 0) == 0)
                        grads.back().push_back(p.value().grad().defined() ? p.value().grad().clone()
                                                                          : torch::Tensor());
            }
            frozen.requires_grad_(true);
            for (std::size_t k = 0; k < grads[0].size(); ++k) {
                QCOMPARE(grads[0][k].defined(), grads[1][k].defined());
                if (grads[0][k].defined())
                    QVERIFY(torch::allclose(grads[0][k], grads[1][k], 1e-5, 1e-6));
            }
        }
    }
}

// Mlp's training forward (one autograd node over ReLU, Dropout and Linear, and one over the first
// layer when it is entered with a shared lead block; model/layers.cpp) gives the same logits,
// dropout draws and gradients as its modules one after another, up to the float rounding of its
// products (oneDNN's sgemm, model/sgemm.h, against LibTorch's BLAS): with dropout and
// without, with one hidden layer and with two, with an input that asks for no gradient, and through
// forwardSharedLead with repeated lead rows.
void TestModels::mlpTrainingMatchesModules()
{
    struct Case
    {
        std::vector<int> hidden;
        double dropout;
        bool inputGrad;
        bool sharedLead;  // enter through forwardSharedLead: a 4-wide lead block per distinct row
        // Two rows in three get no gradient (pair sides whose hinges are zero): MlpTail's
        // backward runs on the others only.
        bool zeroRows = false;
    };
    const std::vector<Case> cases = {
        {{16, 8}, 0.3, true, false},        {{16, 8}, 0.0, true, false},
        {{33}, 0.5, true, false},           {{16, 8}, 0.3, false, false},
        {{16, 8}, 0.3, true, true},         {{33}, 0.0, true, true},
        {{16, 8}, 0.3, false, true},        {{16, 8}, 0.3, true, false, true},
        {{33}, 0.0, true, true, true},      {{16, 8}, 0.3, false, true, true},
        {{16, 8, 4}, 0.5, true, true, true}};
    for (const auto& c : cases) {
        torch::manual_seed(5);
        model_detail::Mlp mlp(12, c.hidden, c.dropout);
        mlp->train();
        const auto xValue = torch::randn({37, 12});
        const auto leadValue = torch::randn({5, 4});
        const auto rowOf = torch::randint(0, 5, {37}, torch::kLong);
        auto upstream = torch::randn({37});
        if (c.zeroRows)
            upstream.masked_fill_(torch::arange(37) % 3 != 0, 0.0);
        bool handWritten = false;
        const auto run = [&](bool fused) {
            mlp->zero_grad();
            auto x = (c.sharedLead ? xValue.narrow(1, 4, 8) : xValue)
                         .clone()
                         .requires_grad_(c.inputGrad);
            auto lead = leadValue.clone().requires_grad_(c.inputGrad);
            torch::manual_seed(9);
            torch::Tensor out;
            if (fused) {
                out = c.sharedLead ? mlp->forwardSharedLead(lead, rowOf, x) : mlp->forward(x);
                // The hand-written nodes are the ones that ran.
                const auto node = out.grad_fn();
                const auto input = node ? node->next_edges().front().function : nullptr;
                handWritten = node && node->name().find("MlpTail") != std::string::npos && input &&
                              input->name().find(c.sharedLead ? "SharedLeadLinear"
                                                              : "AffineLayer") != std::string::npos;
            } else {
                // The modules one after another, as Mlp ran before (layers.h's dropout()).
                const auto params = mlp->named_parameters();
                const auto& w0 = params["linear0.weight"];
                auto h = c.sharedLead
                             ? torch::addmm(params["linear0.bias"], lead, w0.narrow(1, 0, 4).t())
                                       .index_select(0, rowOf) +
                                   torch::mm(x, w0.narrow(1, 4, 8).t())
                             : torch::addmm(params["linear0.bias"], x, w0.t());
                for (std::size_t k = 1; k <= c.hidden.size(); ++k) {
                    h = torch::relu(h);
                    if (c.dropout > 0)
                        h = h * model_detail::dropoutNoise(1, h.numel(), c.dropout).view(h.sizes());
                    const auto name = k < c.hidden.size() ? "linear" + std::to_string(k) : "output";
                    h = torch::addmm(params[name + ".bias"], h, params[name + ".weight"].t());
                }
                out = h.squeeze(-1);
            }
            (out * upstream).sum().backward();
            std::vector<torch::Tensor> result = {
                out.detach(), c.inputGrad ? x.grad() : torch::Tensor(),
                c.inputGrad && c.sharedLead ? lead.grad() : torch::Tensor()};
            for (const auto& p : mlp->parameters())
                result.push_back(p.grad().clone());
            return result;
        };
        const auto fused = run(true);
        QVERIFY2(handWritten,
                 "the forward did not go through AffineLayer or SharedLeadLinear, then MlpTail");
        const auto modules = run(false);
        QCOMPARE(fused.size(), modules.size());
        for (std::size_t k = 0; k < fused.size(); ++k) {
            QCOMPARE(fused[k].defined(), modules[k].defined());
            if (fused[k].defined())
                QVERIFY2(torch::allclose(fused[k], modules[k], 1e-5, 1e-6),
                         qPrintable(QString("tensor %1 (0: output, 1: input gradient, 2: lead "
                                            "gradient, then the parameters' gradients), hidden "
                                            "%2, dropout %3, shared lead %4, zero rows %5")
                                        .arg(k)
                                        .arg(c.hidden.size())
                                        .arg(c.dropout)
                                        .arg(c.sharedLead)
                                        .arg(c.zeroRows)));
        }
        if (c.zeroRows && c.inputGrad) {
            // The rows without gradient have an input gradient of exact zeros.
            const auto none = torch::arange(37) % 3 != 0;
            const auto& inputGrad = fused[1];
            QVERIFY(
                torch::equal(inputGrad.index({none}), torch::zeros_like(inputGrad.index({none}))));
        }
        if (c.dropout > 0 && !c.sharedLead) {
            // A different draw changes the output: the test sees the noise.
            torch::manual_seed(10);
            QVERIFY(!torch::equal(mlp->forward(xValue).detach(), fused[0]));
        }
    }
}

// model/sgemm.h's products against torch::mm and torch::addmm: every layout they accept
// (contiguous, transposed, with a storage offset, a narrowed view that is copied), shapes with a
// side of one (a one-row batch share, the output layer's single column, a product over one
// term), from threads of their own at the same time as batch shares call them. The inputs, the
// bias above all, stay as they were, and each thread keeps its OpenMP thread count.
void TestModels::productsMatchTorch()
{
    torch::NoGradGuard noGrad;
    const std::vector<std::array<std::int64_t, 3>> shapes = {
        {1, 1, 1}, {1, 7, 5},    {6, 1, 5},      {6, 7, 1},
        {1, 1, 9}, {37, 16, 12}, {64, 256, 128}, {3, 33, 1}};
    // layout bit 0: a given as a transpose; bit 1: b given as a transpose; bit 2: b narrowed in
    // its columns (read in place with a leading dimension); bit 3: a at a storage offset; bit 4:
    // a narrowed in its columns.
    const auto check = [](std::int64_t m, std::int64_t n, std::int64_t k, int layout) {
        const auto aRows = layout & 1 ? k : m;
        const auto aCols = layout & 1 ? m : k;
        const auto aFull = layout & 16 ? torch::randn({aRows + 2, aCols + 5}).narrow(1, 3, aCols)
                                       : torch::randn({aRows + 2, aCols});
        const auto aStore =
            layout & 8 ? aFull.narrow(0, 1, aRows) : aFull.narrow(0, 0, aRows).contiguous();
        const auto a = layout & 1 ? aStore.t() : aStore;
        const auto bWide = torch::randn({layout & 2 ? n : k, (layout & 2 ? k : n) + 3});
        const auto bStore = layout & 4 ? bWide.narrow(1, 1, layout & 2 ? k : n)
                                       : bWide.narrow(1, 0, layout & 2 ? k : n).contiguous();
        const auto b = layout & 2 ? bStore.t() : bStore;
        const auto bias = torch::randn({n});
        const auto before = std::vector<torch::Tensor>{a.clone(), b.clone(), bias.clone()};
        const auto mm = torch::mm(a, b);
        const auto addmm = torch::addmm(bias, a, b);
        // Rounding grows with the length of the sum, and the kernels oneDNN picks differ by CPU
        // (AVX-512 on some machines): a wrong product is off by whole units, not by this.
        const double tol = 1e-5 + 2e-6 * static_cast<double>(k);
        const auto product = model_detail::product(a, b);
        const auto productPlus = model_detail::productPlus(bias, a, b);
        // In place, into columns narrowed out of a wider tensor, then added to them; the columns
        // around them stay as they were.
        auto wide = torch::randn({m, n + 4});
        const auto wideBefore = wide.clone();
        auto c = wide.narrow(1, 2, n);
        model_detail::productInto(c, a, b, /*add=*/false);
        const bool into = torch::allclose(c, mm, tol, tol);
        model_detail::productInto(c, a, b, /*add=*/true);
        const bool added = torch::allclose(c, mm + mm, tol, tol);
        const bool around = torch::equal(wide.narrow(1, 0, 2), wideBefore.narrow(1, 0, 2)) &&
                            torch::equal(wide.narrow(1, n + 2, 2), wideBefore.narrow(1, n + 2, 2));
        return torch::allclose(product, mm, tol, tol) &&
               torch::allclose(productPlus, addmm, tol, tol) && into && added && around &&
               torch::equal(a, before[0]) && torch::equal(b, before[1]) &&
               torch::equal(bias, before[2]);
    };
    for (const auto& [m, n, k] : shapes)
        for (int layout = 0; layout < 32; ++layout)
            QVERIFY2(
                check(m, n, k, layout),
                qPrintable(QString("%1 x %2 by %3, layout %4").arg(m).arg(k).arg(n).arg(layout)));
    // An output of the wrong shape, or with strided columns, is refused.
    {
        auto wrongRows = torch::zeros({4, 7});
        const auto a = torch::randn({6, 5});
        const auto b = torch::randn({5, 7});
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                                 model_detail::productInto(wrongRows, a, b, false));
        auto fourColumns = torch::zeros({6, 4});
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                                 model_detail::productInto(fourColumns, a, b, true));
        auto everyOther = torch::zeros({6, 14}).slice(1, 0, 14, 2);
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                                 model_detail::productInto(everyOther, a, b, false));
    }
    // The thread count OpenMP had before a product is its count after.
    const auto countKept = [] {
        torch::NoGradGuard noGradHere;
        at::set_num_threads(3);
        model_detail::product(torch::randn({6, 5}), torch::randn({5, 7}));
        return at::get_num_threads() == 3;
    };
    QVERIFY(countKept());
    // Three threads at once, as batch shares call them.
    std::vector<std::thread> threads;
    std::atomic<int> failures{0};
    for (int t = 0; t < 3; ++t)
        threads.emplace_back([&failures, &check, &countKept] {
            torch::NoGradGuard noGradHere;
            for (int r = 0; r < 200; ++r)
                if (!check(1 + r % 5, 1 + r % 17, 1 + r % 13 + 30 * (r % 3), r % 32))
                    ++failures;
        });
    for (auto& t : threads)
        t.join();
    std::thread([&failures, &countKept] {
        if (!countKept())
            ++failures;
    }).join();
    at::set_num_threads(1);
    QCOMPARE(failures.load(), 0);
}

// The chunked scoring path (MlpScorer) against the modules composed as LibTorch operations:
// rows given whole and as a sum of a lead block and a rest block (full ranking), for one to three
// hidden layers, widths that are no multiple of the vector lanes and wide ones (oneDNN's sgemm
// may split a wide product's sums over threads, or take another kernel for one row), over more
// rows than a chunk, lead counts below, at and beyond a tile, edge tiles of one lead by one rest
// row, and one-row chunks. A row's logit must be the same bits whatever its chunk, tile or thread
// count; against the composed modules, the same up to float rounding.
void TestModels::mlpScoringMatchesModules()
{
    torch::NoGradGuard noGrad;
    QVERIFY2(model_detail::MlpScorer::usesOneDnnProducts(),
             "the products do not go to oneDNN's sgemm (Debian's LibTorch links oneDNN)");
    struct Case
    {
        std::vector<int> hidden;
        std::int64_t leads;
        std::int64_t rests;
    };
    const std::vector<Case> cases = {
        {{16, 8}, 11, 150}, {{33}, 1, 1025},     {{37, 19, 17}, 8, 70}, {{256, 128}, 3, 200},
        {{512, 64}, 9, 65}, {{400, 64}, 1, 100}, {{384, 128}, 1, 100},  {{1024, 64}, 2, 40}};
    for (const auto& c : cases) {
        torch::manual_seed(3);
        const auto& hidden = c.hidden;
        model_detail::Mlp mlp(20, hidden, 0.3);
        mlp->eval();
        const auto params = mlp->named_parameters();
        for (const auto& p : params)
            if (p.key().find("bias") != std::string::npos)
                p.value().normal_(0.0, 0.5);  // the biases start at zero: make them count
        std::vector<torch::nn::Linear> tail;
        for (std::size_t k = 1; k <= hidden.size(); ++k)
            tail.emplace_back(std::dynamic_pointer_cast<torch::nn::LinearImpl>(
                mlp->named_children()[k < hidden.size() ? "linear" + std::to_string(k)
                                                        : "output"]));
        const model_detail::MlpScorer scorer(tail);
        const auto composed = [&](const torch::Tensor& first) {
            auto h = first;
            for (std::size_t k = 1; k <= hidden.size(); ++k) {
                const auto name = k < hidden.size() ? "linear" + std::to_string(k) : "output";
                h = torch::addmm(params[name + ".bias"], torch::relu(h),
                                 params[name + ".weight"].t());
            }
            return h.squeeze(-1);
        };
        const auto label =
            QString("hidden %1 wide, %2 x %3").arg(hidden.front()).arg(c.leads).arg(c.rests);
        const auto firstWidth = hidden.front();
        const auto lead = torch::randn({c.leads, firstWidth});
        const auto rest = torch::randn({c.rests, firstWidth});
        const auto formed = (lead.unsqueeze(1) + rest.unsqueeze(0)).view({-1, firstWidth});

        const auto reference = composed(formed);
        const auto viaRows = mlp->forwardFrom(formed);
        QVERIFY2(torch::allclose(viaRows, reference, 1e-5, 1e-5), qPrintable(label));
        QVERIFY2(torch::equal(scorer.rows(formed), viaRows),
                 qPrintable(label + ": forwardFrom did not score in chunks"));
        QVERIFY2(torch::equal(scorer.crossSum(lead, rest), viaRows),
                 qPrintable(label + ": tiles against rows"));
        QVERIFY2(torch::equal(mlp->forwardFromSum(lead, rest), viaRows),
                 qPrintable(label + ": forwardFromSum did not score in tiles"));
        // Rows alone, and a few together, give the same bits as inside a full chunk.
        for (const auto r : {std::int64_t{0}, formed.size(0) / 2, formed.size(0) - 1})
            QVERIFY2(
                torch::equal(mlp->forwardFrom(formed.narrow(0, r, 1)), viaRows.narrow(0, r, 1)),
                qPrintable(label + QString(": row %1 alone").arg(r)));
        const auto some = std::min<std::int64_t>(3, formed.size(0));
        QVERIFY2(
            torch::equal(mlp->forwardFrom(formed.narrow(0, 0, some)), viaRows.narrow(0, 0, some)),
            qPrintable(label + ": a row depends on its chunk"));
        // Threads share the chunks, and a call of one chunk keeps its product on one thread.
        for (const int threads : {2, 8}) {
            torch::set_num_threads(threads);
            const auto sum = mlp->forwardFromSum(lead, rest);
            const auto one = mlp->forwardFrom(formed.narrow(0, 0, some));
            torch::set_num_threads(1);
            QVERIFY2(torch::equal(sum, viaRows),
                     qPrintable(label + QString(": %1 threads").arg(threads)));
            QVERIFY2(torch::equal(one, viaRows.narrow(0, 0, some)),
                     qPrintable(label + QString(": one chunk at %1 threads").arg(threads)));
        }

        // With dropout in force (training mode) the rows keep the modules' path and its noise.
        mlp->train();
        torch::manual_seed(4);
        QVERIFY2(!torch::equal(mlp->forwardFrom(formed), viaRows), qPrintable(label + ": dropout"));
        mlp->eval();
    }
}

// AutoInt's interacting layer as hand-written loops against the tensor operations AutoInt was
// written with (the paper's formula): outputs and the gradient of the projections, for 1 to 3
// fields and 1 to 3 heads, with a ReLU that cuts part of the outputs.
void TestModels::fieldAttentionMatchesComposed()
{
    struct Case
    {
        std::int64_t rows, m, heads, headDim;
    };
    const std::vector<Case> cases = {{37, 3, 2, 4}, {640, 3, 2, 32}, {11, 2, 1, 8}, {5, 1, 3, 2}};
    torch::manual_seed(8);
    for (const auto& c : cases) {
        const auto width = c.heads * c.headDim;
        const auto value = torch::randn({c.rows, c.m, 4 * width});
        const auto upstream = torch::randn({c.rows, c.m, width});
        bool handWritten = false;
        const auto run = [&](bool loops) {
            auto projected = value.clone().requires_grad_(true);
            torch::Tensor out;
            if (loops) {
                out = model_detail::fieldAttention(projected, c.heads, c.headDim);
                handWritten = graphHas(out, "FieldAttention");
            } else {
                auto part = [&](std::int64_t k) {
                    return projected.narrow(2, k * width, width)
                        .reshape({c.rows, c.m, c.heads, c.headDim});
                };
                const auto scores = (part(0).unsqueeze(2) * part(1).unsqueeze(1)).sum(-1);
                const auto weights = torch::softmax(scores, 2);
                const auto heads = (weights.unsqueeze(-1) * part(2).unsqueeze(1)).sum(2);
                out = torch::relu(heads.reshape({c.rows, c.m, width}) +
                                  projected.narrow(2, 3 * width, width));
            }
            (out * upstream).sum().backward();
            return std::vector<torch::Tensor>{out.detach(), projected.grad()};
        };
        const auto loops = run(true);
        QVERIFY(handWritten);
        const auto composed = run(false);
        // Both sides of the ReLU occur.
        const auto zeros = (composed[0] == 0).sum().item<std::int64_t>();
        QVERIFY(zeros > 0 && zeros < composed[0].numel());
        const char* names[] = {"output", "gradient"};
        for (std::size_t k = 0; k < loops.size(); ++k) {
            const double scale = 1.0 + composed[k].abs().max().item<double>();
            const double diff = (loops[k] - composed[k]).abs().max().item<double>();
            if (diff > 1e-5 * scale)
                QFAIL(qPrintable(QString("%1 differs by %2 (rows %3, m %4, heads %5, dim %6)")
                                     .arg(names[k])
                                     .arg(diff)
                                     .arg(c.rows)
                                     .arg(c.m)
                                     .arg(c.heads)
                                     .arg(c.headDim)));
        }
        const auto again = run(true);
        for (std::size_t k = 0; k < loops.size(); ++k)
            QVERIFY(torch::equal(loops[k], again[k]));
    }
}

// The blocked CIN layer against the composed products and addmm: values and the gradients of x,
// x0, weight and bias, over row counts that end inside a block, with x and x0 one tensor (the
// first layer) or two, and with only some inputs asking for a gradient.
void TestModels::cinLayerMatchesComposed()
{
    struct Case
    {
        std::int64_t rows, h, m;
        bool shared;       // x is x0 (the first layer)
        bool onlyWeights;  // only weight and bias ask for a gradient
    };
    const std::vector<Case> cases = {{5, 3, 3, true, false},
                                     {3000, 32, 3, false, false},
                                     {20000, 3, 3, true, false},
                                     {1366, 32, 2, false, false},
                                     {2731, 32, 3, false, true}};
    torch::manual_seed(7);
    for (const auto& c : cases) {
        const auto base = torch::randn({c.rows, c.m});
        const auto xValue = c.shared ? base : torch::randn({c.rows, c.h});
        const auto weightValue = torch::randn({5, c.h * c.m}) * 0.3;
        const auto biasValue = torch::randn({5});
        const auto upstream = torch::randn({c.rows, 5});
        const auto run = [&](bool blocked) {
            auto x0 = base.clone().requires_grad_(!c.onlyWeights);
            auto x = c.shared ? x0 : xValue.clone().requires_grad_(!c.onlyWeights);
            auto weight = weightValue.clone().requires_grad_(true);
            auto bias = biasValue.clone().requires_grad_(true);
            torch::Tensor out;
            if (blocked) {
                out = model_detail::cinLayer(x, x0, weight, bias);
            } else {
                const auto z = (x.unsqueeze(2) * x0.unsqueeze(1)).reshape({c.rows, c.h * c.m});
                out = torch::addmm(bias, z, weight.t());
            }
            (out * upstream).sum().backward();
            return std::vector<torch::Tensor>{out.detach(), x0.grad(),
                                              c.shared ? torch::Tensor() : x.grad(), weight.grad(),
                                              bias.grad()};
        };
        const auto blocked = run(true);
        const auto composed = run(false);
        const char* names[] = {"output", "x0 gradient", "x gradient", "weight gradient",
                               "bias gradient"};
        for (std::size_t k = 0; k < blocked.size(); ++k) {
            QCOMPARE(blocked[k].defined(), composed[k].defined());
            if (!blocked[k].defined())
                continue;
            const double scale = 1.0 + composed[k].abs().max().item<double>();
            const double diff = (blocked[k] - composed[k]).abs().max().item<double>();
            if (diff > 1e-5 * scale)
                QFAIL(qPrintable(QString("%1 differs by %2 (rows %3, H %4, m %5)")
                                     .arg(names[k])
                                     .arg(diff)
                                     .arg(c.rows)
                                     .arg(c.h)
                                     .arg(c.m)));
        }
        // The same inputs give the same bits.
        const auto again = run(true);
        for (std::size_t k = 0; k < blocked.size(); ++k)
            if (blocked[k].defined())
                QVERIFY(torch::equal(blocked[k], again[k]));
    }
}

QTEST_APPLESS_MAIN(TestModels)
#include "tst_models.moc"
