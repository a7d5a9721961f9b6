# One INTERFACE target carries the language standard, warnings and defines; every project target
# links it PRIVATE.
set(CMAKE_EXPORT_COMPILE_COMMANDS ON)
if(NOT CMAKE_BUILD_TYPE AND NOT CMAKE_CONFIGURATION_TYPES)
  set(CMAKE_BUILD_TYPE RelWithDebInfo CACHE STRING "Build type" FORCE)
endif()

find_program(SLLMR_CCACHE ccache)
if(SLLMR_CCACHE)
  # PCH-friendly ccache settings; without them every precompiled header is a cache miss. The
  # base dir makes paths inside the checkout relative, so two clones share cache entries.
  set(CMAKE_CXX_COMPILER_LAUNCHER
      ${CMAKE_COMMAND} -E env CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
      CCACHE_BASEDIR=${CMAKE_SOURCE_DIR}
      ${SLLMR_CCACHE})
endif()

add_library(sllmr_options INTERFACE)
target_compile_features(sllmr_options INTERFACE cxx_std_20)
target_compile_options(sllmr_options INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align -Wunused -Woverloaded-virtual
  -Wnull-dereference -Wimplicit-fallthrough -Wno-unused-parameter)
target_compile_definitions(sllmr_options INTERFACE
  QT_NO_KEYWORDS
  SLLMR_VERSION="${PROJECT_VERSION}")

set(SLLMR_SANITIZER "" CACHE STRING "Sanitizers to enable: address;undefined or thread")
if(SLLMR_SANITIZER)
  string(REPLACE ";" "," _san "${SLLMR_SANITIZER}")
  target_compile_options(sllmr_options INTERFACE -fsanitize=${_san} -fno-omit-frame-pointer)
  target_link_options(sllmr_options INTERFACE -fsanitize=${_san})
endif()

if(SLLMR_FUZZ)
  # A sanitizer finding must stop the fuzzer, not scroll by.
  target_compile_options(sllmr_options INTERFACE -fno-sanitize-recover=all)
endif()

option(SLLMR_CLANG_TIDY "Run clang-tidy while building" OFF)
if(SLLMR_CLANG_TIDY)
  find_program(SLLMR_CLANG_TIDY_EXE NAMES clang-tidy clang-tidy-14 REQUIRED)
  set(CMAKE_CXX_CLANG_TIDY ${SLLMR_CLANG_TIDY_EXE})
endif()
