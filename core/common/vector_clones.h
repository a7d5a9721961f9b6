#pragma once
// SLLMR_VECTOR_CLONES before a function: with GCC on x86-64 glibc (ifunc) the function is compiled
// three times, for AVX-512, AVX2 and the baseline, and the loader picks the one the processor runs
// (AVX-512 makes the dropout mask 35% faster than AVX2 where it is there). Only for
// loops whose results do not depend on the vector width: integer work, or float arithmetic with no
// multiply-add fused (the files that use it are built without contraction, or have no additions
// next to products; core/CMakeLists.txt). SLLMR_INLINE: a helper inlined into each clone.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) && \
    defined(__GLIBC__)
#define SLLMR_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#define SLLMR_INLINE [[gnu::always_inline]] inline
#else
#define SLLMR_VECTOR_CLONES
#define SLLMR_INLINE inline
#endif
