# SPDX-License-Identifier: MPL-2.0
# Fuzz harnesses (tests/fuzz, docs/FUZZING.md). Every harness
# tests/fuzz/fuzz_NAME.c is always built with the replay driver
# (tests/fuzz/replay.c) as fuzz_NAME_replay and registered as the ctest
# fuzz_NAME (labels unit and fuzz) over tests/fuzz/corpus/NAME, so any
# compiler and the SANITIZE build run the corpus. With -DBUILD_FUZZERS=ON
# (clang only) each harness is also linked with libFuzzer as fuzz_NAME,
# against an instrumented copy of common/ (rd_fuzz_common).
option(BUILD_FUZZERS "Build libFuzzer binaries of tests/fuzz (clang only)" OFF)

set(RD_FUZZ_DIR ${CMAKE_CURRENT_SOURCE_DIR}/fuzz)
set(RD_FUZZ_SAN -fsanitize=fuzzer,address,undefined)

if(BUILD_FUZZERS)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "BUILD_FUZZERS needs clang (CC=clang): libFuzzer is "
                        "part of clang")
  endif()
  # cmake/Warnings.cmake passes the GCC-only -Wno-format-truncation, which
  # clang turns into an error under -Werror; keep it a no-op for our targets.
  set(RD_FUZZ_CLANG_FLAGS -Wno-unknown-warning-option)
  # The instrumented copy of common/ is others' code: clang's extra warnings
  # there (e.g. -Wformat-nonliteral in err.c) are shown, not fatal, here;
  # the gcc build is where they are policed. Harnesses keep -Werror.
  # common/ again, instrumented for coverage and the sanitizers; the plain
  # rackdepot_common of this build stays as it is.
  file(GLOB RD_FUZZ_COMMON_SOURCES CONFIGURE_DEPENDS
       ${CMAKE_SOURCE_DIR}/common/*.c)
  add_library(rd_fuzz_common STATIC ${RD_FUZZ_COMMON_SOURCES})
  target_compile_options(rd_fuzz_common PRIVATE
    -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
    ${RD_FUZZ_CLANG_FLAGS} -Wno-error)
  target_link_libraries(rd_fuzz_common PUBLIC
    PkgConfig::JANSSON PkgConfig::LIBEVENT PkgConfig::LIBCURL
    PkgConfig::LIBZIP OpenSSL::Crypto OpenSSL::SSL ZLIB::ZLIB
    Threads::Threads)
endif()

# rd_fuzz(NAME [SOURCES extra.c...] [VECTORS subdir...]): extra sources are
# compiled into the harness itself (single files of components, so a
# half-written file elsewhere in that component cannot break the fuzz
# build); VECTORS are directories of the shared TUF vectors replayed as
# extra seeds when present (read in place, never copied).
function(rd_fuzz name)
  cmake_parse_arguments(F "" "" "SOURCES;VECTORS" ${ARGN})
  set(extra "")
  foreach(v ${F_VECTORS})
    if(EXISTS ${RD_TUF_VECTORS_DIR}/${v})
      list(APPEND extra ${RD_TUF_VECTORS_DIR}/${v})
    endif()
  endforeach()
  set(defs RD_FUZZ_TUF_VECTORS="${RD_TUF_VECTORS_DIR}")

  add_executable(fuzz_${name}_replay ${RD_FUZZ_DIR}/fuzz_${name}.c
                 ${RD_FUZZ_DIR}/replay.c ${F_SOURCES})
  target_compile_definitions(fuzz_${name}_replay PRIVATE ${defs})
  target_link_libraries(fuzz_${name}_replay PRIVATE rackdepot_common)
  add_test(NAME fuzz_${name}
           COMMAND fuzz_${name}_replay ${RD_FUZZ_DIR}/corpus/${name} ${extra})
  set_tests_properties(fuzz_${name} PROPERTIES LABELS "unit;fuzz" TIMEOUT 60
    ENVIRONMENT "TUF_VECTORS_DIR=${RD_TUF_VECTORS_DIR}")

  if(BUILD_FUZZERS)
    add_executable(fuzz_${name} ${RD_FUZZ_DIR}/fuzz_${name}.c ${F_SOURCES})
    target_compile_definitions(fuzz_${name} PRIVATE ${defs})
    target_compile_options(fuzz_${name} PRIVATE ${RD_FUZZ_SAN}
                           -fno-omit-frame-pointer ${RD_FUZZ_CLANG_FLAGS})
    target_link_options(fuzz_${name} PRIVATE ${RD_FUZZ_SAN})
    target_link_libraries(fuzz_${name} PRIVATE rd_fuzz_common)
  endif()
endfunction()

rd_fuzz(artifact_config)
rd_fuzz(json)
rd_fuzz(parse)
rd_fuzz(range SOURCES ${CMAKE_SOURCE_DIR}/sledagent/range.c)
rd_fuzz(tuf_time)
rd_fuzz(tuf_meta VECTORS .)
rd_fuzz(tuf_artifacts SOURCES ${CMAKE_SOURCE_DIR}/tests/support/tuf_dir.c
        VECTORS tufaceous-v1-fake/repo/targets)
rd_fuzz(zipread VECTORS tufaceous-v1-fake/zip)
rd_fuzz(httpd)
rd_fuzz(httpd_parse)
rd_fuzz(httpd_chunked)
rd_fuzz(urlquery)
rd_fuzz(replicator_config SOURCES ${CMAKE_SOURCE_DIR}/replicator/config.c)
rd_fuzz(staging_manifest SOURCES ${CMAKE_SOURCE_DIR}/replicator/staging.c)
rd_fuzz(pieces)
