#pragma once
// The run configurations the training tests share: the tiny hand-checkable fixtures
// (tests/fixtures/train), the same with item titles and the inspector's rankings, and the bundled
// demo's default with a few epochs. One definition, so that tst_train, tst_gate and tst_cli train
// exactly the same runs.
#include "train/run_config.h"

#include <QString>

#include <string>

namespace testconfigs {

inline std::string trainFixture(const char* name)
{
    return (QStringLiteral(SLLMR_FIXTURES) + QStringLiteral("/train/") + QLatin1String(name))
        .toStdString();
}

/// MF on the tiny fixtures (given split, ChatGPT-style ranks), dimension 8, batch 4.
inline sllmr::RunConfig tinyConfig()
{
    sllmr::RunConfig c;
    c.dataset.path = trainFixture("tiny_train.tsv");
    c.dataset.testPath = trainFixture("tiny_test.tsv");
    c.dataset.split.method = "given";
    c.dataset.split.validation = "none";
    c.scores.path = trainFixture("tiny_llm.tsv");
    c.scores.kind = "rank";
    c.model.type = "mf";
    c.model.dim = 8;
    c.model.dropout = 0.0;
    c.train.batchSize = 4;
    c.train.learningRate = 0.05;
    c.train.patience = 0;
    return c;
}

/// The tiny fixtures with item titles and the inspector's rankings: selective, reliability
/// gate, 3 epochs.
inline sllmr::RunConfig inspectConfig()
{
    sllmr::RunConfig c = tinyConfig();
    c.dataset.itemsPath = trainFixture("tiny_items.csv");
    c.scores.path = trainFixture("tiny_llm_inspect.tsv");
    c.method.name = sllmr::MethodName::Selective;
    c.gate.mode = sllmr::GateMode::Reliability;
    c.train.epochs = 3;
    return c;
}

/// The bundled demo's default configuration (its shipped split), MF of dimension 32.
inline sllmr::RunConfig demoConfig(const std::string& method, const std::string& gate, int epochs)
{
    sllmr::RunConfig c = sllmr::runConfigFromJson(sllmr::toJson(sllmr::defaultRunConfig()));
    c.method.name = *sllmr::parseChoice<sllmr::MethodName>(method);
    c.gate.mode = *sllmr::parseChoice<sllmr::GateMode>(gate);
    c.train.epochs = epochs;
    c.train.patience = 0;
    c.model.dim = 32;
    return c;
}

}  // namespace testconfigs
