# Zips an invented postcode source in its release's layout, puts the real OSTN15 grid beside it,
# and builds an index from it (the listings in LISTINGS, "|"-separated).
#   DIR     the data directory to make, under WORK ("tiny-data", "onspd-data")
#   ZIP     the zip's name: codepo_gb.zip (Code-Point Open, the builder's default source), or an
#           ONSPD release's name, which is then given to the builder with --onspd
#   MEMBERS the folders of SRC to zip, "|"-separated; MTIME their date
file(REMOVE_RECURSE "${WORK}/${DIR}")
file(MAKE_DIRECTORY "${WORK}/${DIR}")
string(REPLACE "|" ";" MEMBERS "${MEMBERS}")
execute_process(COMMAND ${CMAKE_COMMAND} -E tar cf "${WORK}/${DIR}/${ZIP}" --format=zip --mtime=${MTIME}
                        ${MEMBERS}
                WORKING_DIRECTORY "${SRC}" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "zip failed")
endif()
file(CREATE_LINK "${DATA}/uk_os_OSTN15_NTv2_OSGBtoETRS.tif"
     "${WORK}/${DIR}/uk_os_OSTN15_NTv2_OSGBtoETRS.tif" SYMBOLIC)
set(args --quiet --data "${WORK}/${DIR}" --sites "${SITES}" --out "${OUT}")
if(NOT ZIP STREQUAL "codepo_gb.zip")
  list(APPEND args --onspd "${WORK}/${DIR}/${ZIP}")
endif()
string(REPLACE "|" ";" LISTINGS "${LISTINGS}")
foreach(l ${LISTINGS})
  list(APPEND args --listing "${l}")
endforeach()
execute_process(COMMAND "${BUILDER}" ${args} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "building the index from ${ZIP} failed")
endif()
