# The layering: a library under extcap/ includes headers only of itself and of the libraries its
# link line gives it. Run by ctest as `cmake -DSOURCE_DIR=... -DALLOWED=... -P`, where ALLOWED
# holds "lib:dep,dep,..." per library, from the targets' link lines (tests/unit/CMakeLists.txt).
cmake_minimum_required(VERSION 3.25)
set(libraries)
foreach(entry IN LISTS ALLOWED)
  string(REGEX REPLACE ":.*" "" lib "${entry}")
  string(REGEX REPLACE "^[^:]*:" "" deps "${entry}")
  string(REPLACE "," ";" deps "${deps}")
  set(allowed_${lib} ${lib} ${deps})
  list(APPEND libraries ${lib})
endforeach()

set(bad "")
foreach(lib IN LISTS libraries)
  file(GLOB_RECURSE files "${SOURCE_DIR}/extcap/${lib}/*.h" "${SOURCE_DIR}/extcap/${lib}/*.cpp")
  if(NOT files)
    string(APPEND bad "extcap/${lib}/ has no sources: the check would pass on nothing\n")
  endif()
  foreach(file IN LISTS files)
    file(STRINGS "${file}" includes REGEX "^#include \"[a-z_]+/")
    foreach(line IN LISTS includes)
      string(REGEX REPLACE "^#include \"([a-z_]+)/.*" "\\1" folder "${line}")
      # Only a library's folder is a layer; other folders (bpf/'s headers) are not named so.
      if(folder IN_LIST libraries AND NOT folder IN_LIST allowed_${lib})
        file(RELATIVE_PATH rel "${SOURCE_DIR}" "${file}")
        string(APPEND bad "${rel}: ${line}: pwru_${lib} does not link pwru_${folder}\n")
      endif()
    endforeach()
  endforeach()
endforeach()

if(bad)
  message(FATAL_ERROR "includes that go against the link lines (docs/architecture.md):\n${bad}"
                      "hint: include only what the library links, or link it where the edge is "
                      "real and not upward")
endif()
message(STATUS "layering: the includes of ${libraries} follow their link lines")
