#include "train/reference_run.h"

#include "common/error.h"

#include <unordered_map>

namespace sllmr {
namespace {

class ReferenceBackboneImpl : public BackboneImpl
{
public:
    explicit ReferenceBackboneImpl(std::shared_ptr<const ReferenceScorer> scorer)
        : m_scorer(std::move(scorer))
    {
        m_numItems = m_scorer->numItems();
    }

    torch::Tensor forward(const torch::Tensor& users, const torch::Tensor& items) override
    {
        const auto u = users.to(torch::kLong).contiguous();
        const auto i = items.to(torch::kLong).contiguous();
        auto out = torch::empty({u.size(0)}, torch::kFloat);
        const auto* up = u.data_ptr<std::int64_t>();
        const auto* ip = i.data_ptr<std::int64_t>();
        auto* op = out.data_ptr<float>();
        std::vector<float> row(static_cast<std::size_t>(m_numItems));
        std::int64_t current = -1;
        for (std::int64_t k = 0; k < u.size(0); ++k) {
            if (up[k] != current) {  // callers pass one user's pairs together
                current = up[k];
                m_scorer->scoreUser(static_cast<std::uint32_t>(current), row);
            }
            op[k] = row.at(static_cast<std::size_t>(ip[k]));
        }
        return out;
    }

    torch::Tensor scoreAll(const torch::Tensor& users) override
    {
        const auto u = users.to(torch::kLong).reshape({-1}).contiguous();
        auto out = torch::empty({u.size(0), m_numItems}, torch::kFloat);
        const auto* up = u.data_ptr<std::int64_t>();
        for (std::int64_t k = 0; k < u.size(0); ++k)
            m_scorer->scoreUser(
                static_cast<std::uint32_t>(up[k]),
                std::span<float>(out[k].data_ptr<float>(), static_cast<std::size_t>(m_numItems)));
        return out;
    }

    bool hasDropout() const override { return false; }

private:
    std::shared_ptr<const ReferenceScorer> m_scorer;
};

}  // namespace

std::shared_ptr<BackboneImpl> referenceBackbone(std::shared_ptr<const ReferenceScorer> scorer)
{
    return std::make_shared<ReferenceBackboneImpl>(std::move(scorer));
}

Evaluation evaluateReferenceMethod(const RunConfig& config, const Dataset& dataset,
                                   const Segmentation& segmentation, const ScoreSet* scores,
                                   const std::atomic<bool>* cancel)
{
    std::shared_ptr<const ReferenceScorer> scorer;
    switch (config.method.name) {
        case MethodName::MostPop:
            scorer = std::make_shared<ReferenceScorer>(ReferenceScorer::mostPop(dataset));
            break;
        case MethodName::ItemKnn:
            scorer = std::make_shared<ReferenceScorer>(
                ReferenceScorer::itemKnn(dataset, config.method.neighbours));
            break;
        case MethodName::Llm:
            if (!scores)
                throw Error(ErrorKind::Usage,
                            "method 'llm' needs an LLM score file ('scores.path')", {}, 0,
                            "set scores.path");
            scorer = std::make_shared<ReferenceScorer>(ReferenceScorer::llm(dataset, *scores));
            break;
        default:
            throw Error(ErrorKind::Usage,
                        "method '" + toString(config.method.name) + "' is not a reference method",
                        {}, 0, "use mostpop, itemknn or llm");
    }
    auto model = referenceBackbone(scorer);
    return evaluate(*model, dataset, segmentation, scores, config.eval, config.seed, cancel);
}

}  // namespace sllmr
