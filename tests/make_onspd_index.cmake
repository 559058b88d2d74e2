# Zips the invented ONSPD fixture in the release's layout (Data/ONSPD_<MON>_<YEAR>_UK.csv), puts
# the real OSTN15 grid beside it, and builds an index from the zip with the tiny fixture's
# listings and site directory, so that its Great Britain answers can be compared with the tiny
# Code-Point index's.
file(REMOVE_RECURSE "${WORK}/onspd-data")
file(MAKE_DIRECTORY "${WORK}/onspd-data")
execute_process(COMMAND ${CMAKE_COMMAND} -E tar cf "${WORK}/onspd-data/ONSPD_NOV_2026_UK.zip" --format=zip
                        --mtime=2026-11-01 Data
                WORKING_DIRECTORY "${SRC}" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "zip failed")
endif()
file(CREATE_LINK "${DATA}/uk_os_OSTN15_NTv2_OSGBtoETRS.tif"
     "${WORK}/onspd-data/uk_os_OSTN15_NTv2_OSGBtoETRS.tif" SYMBOLIC)
set(args --quiet --data "${WORK}/onspd-data" --onspd "${WORK}/onspd-data/ONSPD_NOV_2026_UK.zip"
         --sites "${SITES}" --out "${OUT}")
string(REPLACE "|" ";" LISTINGS "${LISTINGS}")
foreach(l ${LISTINGS})
  list(APPEND args --listing "${l}")
endforeach()
execute_process(COMMAND "${BUILDER}" ${args} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "building the ONSPD index failed")
endif()
