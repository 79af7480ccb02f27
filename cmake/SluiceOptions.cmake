# A compiler cache where the machine has one (scripts/install-deps.sh installs
# Debian's ccache): rebuilds of unchanged translation units, across build
# directories and CI runs on the same machine, cost a lookup.
option(SLUICE_USE_CCACHE "Compile through ccache when it is installed" ON)
if(SLUICE_USE_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  find_program(SLUICE_CCACHE ccache)
  if(SLUICE_CCACHE)
    set(CMAKE_CXX_COMPILER_LAUNCHER ${SLUICE_CCACHE})
  endif()
endif()

# Project-wide INTERFACE targets: every sluice target links sluice_options and
# sluice_warnings instead of touching CMAKE_CXX_FLAGS.
add_library(sluice_warnings INTERFACE)
target_compile_options(sluice_warnings INTERFACE -Wall -Wextra -Werror -Wno-unused-parameter)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  # GCC 12 reports false positives from inlined libstdc++ code at -O2/-O3
  # (std::string/std::vector; GCC bugs 105329, 105651); they drown real output.
  target_compile_options(sluice_warnings INTERFACE -Wno-restrict -Wno-array-bounds
                                                   -Wno-stringop-overflow -Wno-stringop-overread)
endif()

option(SLUICE_ENABLE_TSAN "Build with ThreadSanitizer (not with SLUICE_ENABLE_ASAN)" OFF)
if(SLUICE_ENABLE_ASAN AND SLUICE_ENABLE_TSAN)
  message(FATAL_ERROR "ThreadSanitizer cannot be combined with AddressSanitizer")
endif()

add_library(sluice_options INTERFACE)
target_compile_features(sluice_options INTERFACE cxx_std_20)
if(SLUICE_ENABLE_ASAN)
  target_compile_options(sluice_options INTERFACE -fsanitize=address,undefined
                                                  -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(sluice_options INTERFACE -fsanitize=address,undefined)
endif()
if(SLUICE_ENABLE_TSAN)
  target_compile_options(sluice_options INTERFACE -fsanitize=thread -fno-omit-frame-pointer)
  target_link_options(sluice_options INTERFACE -fsanitize=thread)
endif()

# sluice_add_library(name SOURCES... DEPS...): one library per layer.
function(sluice_add_library name)
  cmake_parse_arguments(A "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${A_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${name} PUBLIC sluice_options ${A_DEPS} PRIVATE sluice_warnings)
endfunction()

# sluice_add_test(name SOURCES... DEPS... LABELS...): a GoogleTest binary run by ctest.
function(sluice_add_test name)
  if(NOT SLUICE_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(A "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${A_SOURCES})
  target_link_libraries(${name} PRIVATE sluice_options sluice_warnings ${A_DEPS} GTest::gtest_main GTest::gmock)
  target_compile_definitions(${name} PRIVATE SLUICE_TEST_DATA_DIR="${PROJECT_SOURCE_DIR}/tests/data"
                                             SLUICE_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  if(NOT A_LABELS)
    set(A_LABELS unit)
  endif()
  gtest_discover_tests(${name} PROPERTIES LABELS "${A_LABELS}" DISCOVERY_TIMEOUT 60)
endfunction()
