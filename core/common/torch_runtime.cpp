#include "common/torch_runtime.h"

#include <c10/core/CPUAllocator.h>
#include <c10/core/impl/alloc_cpu.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <dlfcn.h>
#include <malloc.h>

#include <map>
#include <mutex>
#include <unordered_map>

namespace sllmr {

std::string torchVersion()
{
    return TORCH_VERSION;
}

namespace {

// OpenBLAS, when it is the BLAS LibTorch's matrix products go to (Debian's default), keeps its own
// thread pool, one thread per core unless OPENBLAS_NUM_THREADS says otherwise; LibTorch's thread
// count does not reach it. Its threads split a product differently by count, so a DeepFM run's
// numbers changed with the machine's core count, and they spun against LibTorch's threads. The
// products of training are small (batch rows x a few hundred), so it gets one thread, always. Most
// products of training and scoring now go to oneDNN's sgemm, also one thread per call
// (model/sgemm.h); scoring shares its chunks among LibTorch's threads (model/mlp_scoring.h). Found
// at run time: another BLAS has no such pool.
void singleThreadedBlas()
{
    using SetThreads = void (*)(int);
    if (const auto set =
            reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads")))
        set(1);
}

// glibc serves blocks above its mmap threshold (128 KB, raised dynamically up to 32 MB) from fresh
// mmap()s and unmaps them when freed, so every new large tensor is page-faulted in again: 70% of a
// full-ranking evaluation on Amazon Sports (chunks of 128 users x 18,357 items, 9 MB, several per
// chunk) went to page faults (bench/README.md). Blocks up to 256 MB now come from the heap and are
// reused; free memory at the heap's top beyond 512 MB is still returned.
void reuseLargeBlocks()
{
    // A glibc that refuses the threshold (older ones cap it at 32 MB) keeps its own behaviour:
    // the trim threshold is then left alone too, since setting it fixes the mmap threshold.
    static const bool done = [] {
        return mallopt(M_MMAP_THRESHOLD, 256 << 20) == 1 &&
               mallopt(M_TRIM_THRESHOLD, 512 << 20) == 1;
    }();
    (void)done;
}

// While a TensorBlockCacheUse is alive, blocks of at least kLarge bytes are kept by size when their
// tensor is freed and handed out again to a request they fit with at most an eighth of the request
// to spare; a freed block that would take the cache over kCap goes back to the system, and so do
// all cached blocks when the last use ends. Smaller blocks, and all blocks while nothing uses the
// cache, come from LibTorch's own allocator. The cached blocks are not reported to LibTorch's
// memory profiler.
class LargeBlockCache final : public c10::Allocator
{
public:
    static constexpr std::size_t kLarge = std::size_t{1} << 20;
    static constexpr std::size_t kCap = std::size_t{512} << 20;

    explicit LargeBlockCache(c10::Allocator* small) : m_small(small) {}

    c10::DataPtr allocate(std::size_t n) const override
    {
        if (n < kLarge)
            return m_small->allocate(n);
        void* p = nullptr;
        {
            const std::lock_guard<std::mutex> lock(m_mutex);
            if (m_users == 0)
                return m_small->allocate(n);
            const auto it = m_free.lower_bound(n);
            if (it != m_free.end() && it->first - n <= n / 8) {
                p = it->second;
                m_live.emplace(p, it->first);
                m_cached -= it->first;
                m_free.erase(it);
            }
        }
        if (!p) {
            p = c10::alloc_cpu(n);  // throws when out of memory
            try {
                const std::lock_guard<std::mutex> lock(m_mutex);
                m_live.emplace(p, n);
            } catch (...) {
                c10::free_cpu(p);
                throw;
            }
        }
        return {p, p, &release, c10::Device(c10::DeviceType::CPU)};
    }

    c10::DeleterFnPtr raw_deleter() const override { return &release; }

    void use(bool more)
    {
        std::multimap<std::size_t, void*> drop;
        {
            const std::lock_guard<std::mutex> lock(m_mutex);
            m_users += more ? 1 : -1;
            if (m_users == 0) {
                drop.swap(m_free);
                m_cached = 0;
            }
        }
        for (const auto& [size, p] : drop)
            c10::free_cpu(p);
    }

private:
    static void release(void* p);
    void give(void* p);

    c10::Allocator* m_small;
    mutable std::mutex m_mutex;
    mutable std::multimap<std::size_t, void*> m_free;       // by size
    mutable std::unordered_map<void*, std::size_t> m_live;  // the large blocks in use
    mutable std::size_t m_cached = 0;
    int m_users = 0;
};

LargeBlockCache* g_blockCache = nullptr;  // installed once, never freed (tensors may outlive main)

void LargeBlockCache::release(void* p)
{
    g_blockCache->give(p);
}

void LargeBlockCache::give(void* p)
{
    std::unique_lock<std::mutex> lock(m_mutex);
    const auto it = m_live.find(p);
    if (it == m_live.end()) {  // one of LibTorch's own blocks, freed through raw_deleter()
        lock.unlock();
        m_small->raw_deleter()(p);
        return;
    }
    const std::size_t n = it->second;
    m_live.erase(it);
    if (m_users > 0 && m_cached + n <= kCap) {
        try {
            m_free.emplace(n, p);
            m_cached += n;
            return;
        } catch (...) {  // no memory for the node: the block goes back instead
        }
    }
    lock.unlock();
    c10::free_cpu(p);
}

}  // namespace

void installTensorBlockCache()
{
    static const bool done = [] {
        g_blockCache = new LargeBlockCache(c10::GetDefaultCPUAllocator());
        c10::SetCPUAllocator(g_blockCache, /*priority=*/1);
        return true;
    }();
    (void)done;
}

TensorBlockCacheUse::TensorBlockCacheUse()
{
    installTensorBlockCache();
    g_blockCache->use(true);
}

TensorBlockCacheUse::~TensorBlockCacheUse()
{
    g_blockCache->use(false);
}

void configureTorch(int threads, bool deterministic)
{
    reuseLargeBlocks();
    // LibTorch's own default, read before the first change, so that 0 restores it even after an
    // earlier run of this process set another count.
    static const int libtorchDefault = at::get_num_threads();
    at::set_num_threads(threads > 0 ? threads : libtorchDefault);
    singleThreadedBlas();
    at::globalContext().setDeterministicAlgorithms(deterministic, /*warn_only=*/false);
}

int torchThreads()
{
    return at::get_num_threads();
}

}  // namespace sllmr
