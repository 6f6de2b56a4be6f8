# The dissector's sources without the plugin glue (plugin.cpp), in one list for every build that
# compiles them: the plugin, the test tools (tests/dissector) and the sanitizer builds (tests/fuzz).
set(PWRU_DISSECTOR_SOURCES)
foreach(file packet-pwru.cpp pwru-fields.cpp pwru-journey.cpp pwru-changes.cpp pwru-flight.cpp
             pwru-lost-events.cpp pwru-stats.cpp pwru-flow.cpp)
  list(APPEND PWRU_DISSECTOR_SOURCES ${CMAKE_CURRENT_LIST_DIR}/${file})
endforeach()
# pwrudump's diagnoses of drops (--diagnose).
list(APPEND PWRU_DISSECTOR_SOURCES ${CMAKE_CURRENT_LIST_DIR}/pwru-diag.cpp)
# skb fields chosen on the command line (--output-skb-metadata, -shared-info, -cb).
list(APPEND PWRU_DISSECTOR_SOURCES ${CMAKE_CURRENT_LIST_DIR}/pwru-skb.cpp)
