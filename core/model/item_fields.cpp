#include "model/item_fields.h"

#include "common/error.h"

#include <algorithm>
#include <string>

namespace sllmr::model_detail {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

void addRow(const float* __restrict x, float* __restrict sum, std::int64_t dim)
{
    for (std::int64_t j = 0; j < dim; ++j)
        sum[j] += x[j];
}

void copyRow(const float* __restrict x, float* __restrict out, std::int64_t dim)
{
    for (std::int64_t j = 0; j < dim; ++j)
        out[j] = x[j];
}

struct ItemFieldGather : public torch::autograd::Function<ItemFieldGather>
{
    static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& itemTable,
                                 const torch::Tensor& featureTable, const torch::Tensor& csrOffsets,
                                 const torch::Tensor& csrIds, const torch::Tensor& items)
    {
        const bool features = featureTable.numel() > 0;
        const auto rows = items.size(0);
        const auto dim = itemTable.size(1);
        const auto width = features ? 2 * dim : dim;
        const auto numItems = itemTable.size(0);
        const auto* item = items.data_ptr<std::int64_t>();
        for (std::int64_t r = 0; r < rows; ++r)
            if (item[r] < 0 || item[r] >= numItems ||
                (features && item[r] + 1 >= csrOffsets.size(0)))
                throw Error(ErrorKind::Internal, "item fields: item " + std::to_string(item[r]) +
                                                     " outside the " + std::to_string(numItems) +
                                                     " items");
        auto out = torch::empty({rows, width}, itemTable.options());
        const auto* table = itemTable.data_ptr<float>();
        auto* o = out.data_ptr<float>();
        for (std::int64_t r = 0; r < rows; ++r) {
            copyRow(table + item[r] * dim, o + r * width, dim);
            if (features)
                bagMeanRow(featureTable.data_ptr<float>(), dim, csrOffsets.data_ptr<std::int64_t>(),
                           csrIds.data_ptr<std::int64_t>(), item[r], o + r * width + dim);
        }
        ctx->save_for_backward({items, csrOffsets, csrIds});
        ctx->saved_data["items"] = numItems;
        ctx->saved_data["vocabulary"] = features ? featureTable.size(0) : std::int64_t{0};
        return out;
    }

    static variable_list backward(AutogradContext* ctx, variable_list grads)
    {
        const auto saved = ctx->get_saved_variables();
        const auto& items = saved[0];
        const auto& csrOffsets = saved[1];
        const auto& csrIds = saved[2];
        const auto numItems = ctx->saved_data["items"].toInt();
        const auto vocabulary = ctx->saved_data["vocabulary"].toInt();
        const bool features = vocabulary > 0;
        const auto grad = grads[0].contiguous();
        const auto rows = items.size(0);
        const auto width = grad.size(1);
        const auto dim = features ? width / 2 : width;
        const auto* g = grad.data_ptr<float>();
        const auto* item = items.data_ptr<std::int64_t>();

        auto gItem = torch::empty({rows, dim}, grad.options());
        auto* gi = gItem.data_ptr<float>();
        for (std::int64_t r = 0; r < rows; ++r)
            copyRow(g + r * width, gi + r * dim, dim);
        variable_list out(5);
        out[0] = at::_sparse_coo_tensor_unsafe(items.unsqueeze(0), gItem, {numItems, dim});
        if (!features)
            return out;

        // The bag's mean spreads its gradient evenly over its entries.
        const auto* off = csrOffsets.data_ptr<std::int64_t>();
        const auto* ids = csrIds.data_ptr<std::int64_t>();
        std::int64_t entries = 0;
        for (std::int64_t r = 0; r < rows; ++r)
            entries += off[item[r] + 1] - off[item[r]];
        auto featureRows = torch::empty({1, entries}, torch::kLong);
        auto gFeature = torch::empty({entries, dim}, grad.options());
        auto* fr = featureRows.data_ptr<std::int64_t>();
        auto* gf = gFeature.data_ptr<float>();
        std::int64_t entry = 0;
        for (std::int64_t r = 0; r < rows; ++r) {
            const auto begin = off[item[r]];
            const auto count = off[item[r] + 1] - begin;
            for (std::int64_t k = 0; k < count; ++k, ++entry) {
                fr[entry] = ids[begin + k];
                divideRow(g + r * width + dim, static_cast<float>(count), gf + entry * dim, dim);
            }
        }
        out[1] = at::_sparse_coo_tensor_unsafe(featureRows, gFeature, {vocabulary, dim});
        return out;
    }
};

}  // namespace

void bagMeanRow(const float* table, std::int64_t dim, const std::int64_t* csrOffsets,
                const std::int64_t* csrIds, std::int64_t item, float* out)
{
    std::fill_n(out, dim, 0.0f);
    const auto begin = csrOffsets[item];
    const auto count = csrOffsets[item + 1] - begin;
    if (count == 0)
        return;
    for (std::int64_t k = 0; k < count; ++k)
        addRow(table + csrIds[begin + k] * dim, out, dim);
    for (std::int64_t j = 0; j < dim; ++j)
        out[j] /= static_cast<float>(count);
}

void divideRow(const float* __restrict x, float divisor, float* __restrict out, std::int64_t dim)
{
    for (std::int64_t j = 0; j < dim; ++j)
        out[j] = x[j] / divisor;
}

torch::Tensor itemColumns(torch::nn::Embedding item, ItemFeatureField features,
                          const torch::Tensor& items)
{
    if (!item->options.sparse() || items.dim() != 1) {
        if (features.is_empty())
            return item(items);
        return torch::cat({item(items), features->embed(features->bags(items))}, 1);
    }
    // The loops read the tables' floats in place.
    const auto& itemTable = item->weight;
    const auto featureTable = features.is_empty() ? torch::Tensor() : features->embeddingWeight();
    for (const auto* t : {&itemTable, &featureTable})
        if (t->defined() && (t->scalar_type() != torch::kFloat || !t->is_contiguous() ||
                             !t->device().is_cpu() || t->dim() != 2))
            throw Error(ErrorKind::Internal,
                        "item fields: the tables must be contiguous 2-d float CPU tensors");
    // Absent inputs as empty tensors: the function's inputs are all defined.
    const auto none = torch::empty({0}, itemTable.options());
    const auto noIds = torch::empty({0}, torch::kLong);
    const bool withFeatures = featureTable.defined();
    return ItemFieldGather::apply(itemTable, withFeatures ? featureTable : none,
                                  withFeatures ? features->csrOffsets() : noIds,
                                  withFeatures ? features->csrIds() : noIds,
                                  items.to(torch::kLong).contiguous());
}

}  // namespace sllmr::model_detail
