# One place for compiler flags and the target helpers every module uses.

set(DITA_WARNING_FLAGS
    -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion
    -Wnon-virtual-dtor -Wold-style-cast -Wcast-qual -Wvla
    -Wimplicit-fallthrough -Wmissing-declarations)
# GCC 12 reports false -Wnull-dereference and -Wrestrict findings inside libstdc++ at -O2 and
# above (GCC PR 105329, PR 105651), so those two stay off; the sanitizer build covers the bugs
# they would catch.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  list(APPEND DITA_WARNING_FLAGS -Wno-restrict)
endif()
if(DITA_WARNINGS_AS_ERRORS)
  list(APPEND DITA_WARNING_FLAGS -Werror)
endif()

set(DITA_SANITIZER_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=all
                         -fno-omit-frame-pointer)

# Applies DITA's warnings and (optionally) sanitizers to a target.
function(dita_apply_flags target)
  target_compile_options(${target} PRIVATE ${DITA_WARNING_FLAGS})
  if(DITA_SANITIZE)
    target_compile_options(${target} PRIVATE ${DITA_SANITIZER_FLAGS})
    target_link_options(${target} PRIVATE ${DITA_SANITIZER_FLAGS})
  endif()
endfunction()

# dita_library(NAME name SRCS ... [DEPS ...]) -> target dita_<name>, alias dita::<name>
function(dita_library)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS" ${ARGN})
  add_library(dita_${ARG_NAME} STATIC ${ARG_SRCS})
  add_library(dita::${ARG_NAME} ALIAS dita_${ARG_NAME})
  target_include_directories(dita_${ARG_NAME} PUBLIC ${PROJECT_SOURCE_DIR}/include
                                                     PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(dita_${ARG_NAME} PUBLIC ${ARG_DEPS})
  dita_apply_flags(dita_${ARG_NAME})
  if(DITA_SANITIZE)
    target_link_options(dita_${ARG_NAME} INTERFACE ${DITA_SANITIZER_FLAGS})
  endif()
endfunction()

# dita_executable(NAME name SRCS ... [DEPS ...])
function(dita_executable)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SRCS})
  target_include_directories(${ARG_NAME} PRIVATE ${PROJECT_SOURCE_DIR}/include
                                                 ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS})
  dita_apply_flags(${ARG_NAME})
endfunction()

# dita_test(NAME name SRCS ... [DEPS ...] [LABELS ...]) -> GoogleTest executable + ctest entries
function(dita_test)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS;LABELS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SRCS})
  target_include_directories(${ARG_NAME} PRIVATE ${PROJECT_SOURCE_DIR}/include
                                                 ${PROJECT_SOURCE_DIR}/src
                                                 ${PROJECT_SOURCE_DIR}/tests)
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main)
  dita_apply_flags(${ARG_NAME})
  # One ctest entry per executable keeps start-up cost low under ASan.
  add_test(NAME ${ARG_NAME} COMMAND ${ARG_NAME} --gtest_brief=1)
  set_tests_properties(${ARG_NAME} PROPERTIES LABELS "${ARG_LABELS}"
                       ENVIRONMENT "DITA_SOURCE_DIR=${PROJECT_SOURCE_DIR};DITA_BINARY_DIR=${PROJECT_BINARY_DIR}")
endfunction()
