# ctest script: install mlcore from this build into a scratch prefix, then configure, build and
# run examples/cpp as an outside project that only knows find_package(mlcore).
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "command failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(last_output "${out}" PARENT_SCOPE)
endfunction()

run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${WORK_DIR}/prefix)
run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/examples/cpp -B ${WORK_DIR}/build -G ${GENERATOR}
    -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix -DCMAKE_BUILD_TYPE=Release)
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build)
foreach(program gemm_all_backends fit_predict_all_backends)
  run(${WORK_DIR}/build/${program} 200)
  message(STATUS "${program} printed:\n${last_output}")
  if(NOT last_output MATCHES "scalar")
    message(FATAL_ERROR "${program} did not report the scalar backend")
  endif()
  if(program STREQUAL "fit_predict_all_backends" AND NOT last_output MATCHES "kNN: accuracy 1\\.0000")
    message(FATAL_ERROR "${program}: kNN should classify well-separated blobs perfectly")
  endif()
endforeach()
