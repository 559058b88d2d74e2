# Zips the invented tiny Code-Point tree in the official layout, puts the real OSTN15 grid
# beside it, and builds an index from it (two treatments).
file(REMOVE_RECURSE "${WORK}/tiny-data")
file(MAKE_DIRECTORY "${WORK}/tiny-data")
execute_process(COMMAND ${CMAKE_COMMAND} -E tar cf "${WORK}/tiny-data/codepo_gb.zip" --format=zip --mtime=2026-01-01
                        Data Doc
                WORKING_DIRECTORY "${SRC}" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "zip failed")
endif()
file(CREATE_LINK "${DATA}/uk_os_OSTN15_NTv2_OSGBtoETRS.tif"
     "${WORK}/tiny-data/uk_os_OSTN15_NTv2_OSGBtoETRS.tif" SYMBOLIC)
set(args --quiet --data "${WORK}/tiny-data" --sites "${SITES}" --out "${OUT}")
string(REPLACE "|" ";" LISTINGS "${LISTINGS}")
foreach(l ${LISTINGS})
  list(APPEND args --listing "${l}")
endforeach()
execute_process(COMMAND "${BUILDER}" ${args} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "building the tiny index failed")
endif()
