# glimpse_add_library / glimpse_add_test / glimpse_add_benchmark and compiler settings, in the
# shape of COLMAP's COLMAP_ADD_LIBRARY. All build logic lives here and in the root file.

function(glimpse_set_compile_options target)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra>
    # sqrt/exp/log without errno bookkeeping (nothing reads errno): inline square roots, no
    # libm call per negative-argument check; IEEE results unchanged. Backward chain -5%.
    $<$<COMPILE_LANGUAGE:CXX>:-fno-math-errno>
    $<$<AND:$<COMPILE_LANGUAGE:CXX>,$<BOOL:${GLIMPSE_WERROR}>>:-Werror>
    $<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wall,-Wextra --expt-relaxed-constexpr>
    $<$<AND:$<COMPILE_LANGUAGE:CUDA>,$<BOOL:${GLIMPSE_FAST_MATH}>>:--use_fast_math>)
  if(GLIMPSE_CPU_ARCH AND CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
    target_compile_options(${target} PRIVATE
      $<$<COMPILE_LANGUAGE:CXX>:-march=${GLIMPSE_CPU_ARCH}>
      $<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-march=${GLIMPSE_CPU_ARCH}>)
  endif()
  if(GLIMPSE_ASAN)
    target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-fsanitize=address,undefined -fno-omit-frame-pointer>)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  endif()
endfunction()

# glimpse_add_library(NAME name SRCS ... [PUBLIC_LINK ...] [PRIVATE_LINK ...])
function(glimpse_add_library)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;PUBLIC_LINK;PRIVATE_LINK" ${ARGN})
  add_library(${ARG_NAME} STATIC ${ARG_SRCS})
  target_include_directories(${ARG_NAME} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${ARG_NAME} PUBLIC ${ARG_PUBLIC_LINK} PRIVATE ${ARG_PRIVATE_LINK})
  set_target_properties(${ARG_NAME} PROPERTIES POSITION_INDEPENDENT_CODE ON)
  glimpse_set_compile_options(${ARG_NAME})
endfunction()

# glimpse_add_test(NAME module/thing SRCS ... LINK ... [LABELS ...])
# One executable per call; ctest names follow the tree ("renderer/cpu_rasterizer_test").
function(glimpse_add_test)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;LINK;LABELS" ${ARGN})
  string(REPLACE "/" "_" exe ${ARG_NAME})
  add_executable(${exe} ${ARG_SRCS})
  target_link_libraries(${exe} PRIVATE ${ARG_LINK} glimpse_test_support)
  glimpse_set_compile_options(${exe})
  add_test(NAME ${ARG_NAME} COMMAND ${exe})
  set_tests_properties(${ARG_NAME} PROPERTIES
    ENVIRONMENT "GLIMPSE_SOURCE_DIR=${PROJECT_SOURCE_DIR}"
    LABELS "${ARG_LABELS}")
endfunction()

# Picks "native" when a GPU is visible to nvidia-smi, else sm_75 (SASS + PTX, which newer GPUs
# JIT-compile), so the CUDA code compiles on machines without a GPU (CI) as well.
function(glimpse_detect_cuda_architectures out)
  set(archs 75)
  find_program(_nvidia_smi nvidia-smi)
  if(_nvidia_smi)
    execute_process(COMMAND ${_nvidia_smi} -L RESULT_VARIABLE rc OUTPUT_VARIABLE gpus ERROR_QUIET)
    if(rc EQUAL 0 AND gpus MATCHES "GPU")
      set(archs native)
    endif()
  endif()
  set(${out} ${archs} PARENT_SCOPE)
endfunction()
