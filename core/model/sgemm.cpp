#include "model/sgemm.h"

#include <ATen/Context.h>

#include <dlfcn.h>

#include <cstring>

namespace sllmr::model_detail {

namespace {

// oneDNN's row-major sgemm, C = alpha op(A) op(B) + beta C, as its C API declares it
// (dnnl_status_t is an enum whose success is 0, dnnl_dim_t an int64_t). Looked up at run time,
// as torch_runtime.cpp looks up OpenBLAS: Debian's LibTorch links oneDNN, other builds may not.
using DnnlSgemm = int (*)(char, char, std::int64_t, std::int64_t, std::int64_t, float, const float*,
                          std::int64_t, const float*, std::int64_t, float, float*, std::int64_t);

DnnlSgemm dnnlSgemm()
{
    static const auto fn = reinterpret_cast<DnnlSgemm>(dlsym(RTLD_DEFAULT, "dnnl_sgemm"));
    return at::globalContext().userEnabledMkldnn() ? fn : nullptr;
}

// OpenMP's thread controls, from the runtime LibTorch brings (none when it threads otherwise).
struct OpenMp
{
    int (*inParallel)() = nullptr;
    int (*maxThreads)() = nullptr;
    void (*setThreads)(int) = nullptr;
};

const OpenMp& openMp()
{
    static const OpenMp omp = [] {
        OpenMp o;
        o.inParallel = reinterpret_cast<int (*)()>(dlsym(RTLD_DEFAULT, "omp_in_parallel"));
        o.maxThreads = reinterpret_cast<int (*)()>(dlsym(RTLD_DEFAULT, "omp_get_max_threads"));
        o.setThreads = reinterpret_cast<void (*)(int)>(dlsym(RTLD_DEFAULT, "omp_set_num_threads"));
        return o.inParallel && o.maxThreads && o.setThreads ? o : OpenMp{};
    }();
    return omp;
}

// The general product: op(a) op(b) into c with leading dimensions, beta 0 or 1.
bool oneDnnProduct(char ta, char tb, std::int64_t m, std::int64_t n, std::int64_t k, const float* a,
                   std::int64_t lda, const float* b, std::int64_t ldb, float beta, float* c,
                   std::int64_t ldc)
{
    const auto sgemm = dnnlSgemm();
    if (!sgemm)
        return false;
    const auto& omp = openMp();
    const bool alone = omp.setThreads != nullptr && omp.inParallel() == 0;
    const int threads = alone ? omp.maxThreads() : 1;
    if (alone)
        omp.setThreads(1);
    const bool done = sgemm(ta, tb, m, n, k, 1.0F, a, lda, b, ldb, beta, c, ldc) == 0;
    if (alone)
        omp.setThreads(threads);
    return done;
}

// A 2-D float tensor as sgemm reads it: 'N' for one whose rows are contiguous (a contiguous
// tensor or columns narrowed out of one), 'T' for the transpose of such a tensor (a copy
// otherwise), with its leading dimension.
struct Operand
{
    torch::Tensor storage;
    char trans = 'N';
    std::int64_t ld = 0;
};

Operand operand(const torch::Tensor& t)
{
    if (t.is_contiguous())
        return {t, 'N', std::max<std::int64_t>(t.size(1), 1)};
    if (t.stride(1) == 1 && t.stride(0) >= t.size(1))
        return {t, 'N', t.stride(0)};
    if (t.stride(0) == 1 && t.stride(1) >= t.size(0))
        return {t, 'T', std::max<std::int64_t>(t.stride(1), 1)};
    return {t.contiguous(), 'N', std::max<std::int64_t>(t.size(1), 1)};
}

bool eligible(const torch::Tensor& t)
{
    return isFloatRows(t) && t.size(1) > 0;
}

// c = a b (+ c when beta is 1), c with unit column stride; false when oneDNN is not there.
bool productInto(const torch::Tensor& a, const torch::Tensor& b, float beta, torch::Tensor& c)
{
    const auto oa = operand(a);
    const auto ob = operand(b);
    return oneDnnProduct(oa.trans, ob.trans, a.size(0), b.size(1), a.size(1),
                         oa.storage.data_ptr<float>(), oa.ld, ob.storage.data_ptr<float>(), ob.ld,
                         beta, c.data_ptr<float>(), std::max<std::int64_t>(c.stride(0), 1));
}

// c is a float CPU [m, n] with unit column stride (a contiguous tensor or a narrowed one).
bool writableRows(const torch::Tensor& c, std::int64_t m, std::int64_t n)
{
    return isFloatRows(c) && c.size(0) == m && c.size(1) == n && n > 0 &&
           (c.stride(1) == 1 || n == 1) && c.stride(0) >= n;
}

}  // namespace

bool productsUseOneDnn()
{
    return dnnlSgemm() != nullptr;
}

bool isFloatRows(const torch::Tensor& t)
{
    return t.layout() == torch::kStrided && t.dim() == 2 && t.device().is_cpu() &&
           t.scalar_type() == torch::kFloat && t.size(0) > 0;
}

void rowMajorProduct(std::int64_t m, std::int64_t n, std::int64_t k, const float* a, const float* b,
                     float* c)
{
    if (oneDnnProduct('N', 'N', m, n, k, a, k, b, n, 0.0F, c, n))
        return;
    const auto opts = torch::TensorOptions().dtype(torch::kFloat);
    auto out = torch::from_blob(c, {m, n}, opts);
    // from_blob takes a mutable pointer; a and b are only read.
    torch::mm_out(out,
                  torch::from_blob(const_cast<float*>(a), {m, k}, opts),   // NOLINT(*-const-cast)
                  torch::from_blob(const_cast<float*>(b), {k, n}, opts));  // NOLINT(*-const-cast)
}

torch::Tensor product(const torch::Tensor& a, const torch::Tensor& b)
{
    if (eligible(a) && eligible(b) && a.size(1) == b.size(0)) {
        auto c = torch::empty({a.size(0), b.size(1)}, a.options());
        if (productInto(a, b, 0.0F, c))
            return c;
    }
    return torch::mm(a, b);
}

torch::Tensor productPlus(const torch::Tensor& bias, const torch::Tensor& a, const torch::Tensor& b)
{
    if (eligible(a) && eligible(b) && a.size(1) == b.size(0) && bias.dim() == 1 &&
        bias.layout() == torch::kStrided && bias.size(0) == b.size(1) &&
        bias.scalar_type() == torch::kFloat) {
        // A fresh tensor: contiguous() of the expanded bias would be the bias itself for one row,
        // and the product would then add into the parameter.
        auto c = torch::empty({a.size(0), b.size(1)}, a.options());
        const auto row = bias.contiguous();
        const auto* rowData = row.data_ptr<float>();
        const auto n = static_cast<std::size_t>(b.size(1));
        auto* out = c.data_ptr<float>();
        for (std::int64_t r = 0; r < a.size(0); ++r)
            std::memcpy(out + static_cast<std::size_t>(r) * n, rowData, n * sizeof(float));
        if (productInto(a, b, 1.0F, c))
            return c;
    }
    return torch::addmm(bias, a, b);
}

void productInto(torch::Tensor& c, const torch::Tensor& a, const torch::Tensor& b, bool add)
{
    if (!writableRows(c, a.size(0), b.size(1)) || a.size(1) != b.size(0))
        throw std::invalid_argument("productInto: the output does not fit the product");
    if (eligible(a) && eligible(b) && productInto(a, b, add ? 1.0F : 0.0F, c))
        return;
    if (add)
        c.addmm_(a, b);
    else
        torch::mm_out(c, a, b);
}

}  // namespace sllmr::model_detail
