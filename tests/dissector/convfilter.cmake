# pwru-convfilter: calls the "pwru skb" conversation filter, which only the GUI calls otherwise,
# on every frame of a capture; the dissector is compiled in, registered as the plugin glue does.
# It needs only Wireshark's libraries: the plugin-only build has it too, built on request
# (tests/distro/plugin_test.sh).
add_executable(pwru-convfilter ${CMAKE_CURRENT_LIST_DIR}/pwru-convfilter.cpp
                               ${PWRU_DISSECTOR_SOURCES})
set_target_properties(pwru-convfilter PROPERTIES EXCLUDE_FROM_ALL ${PWRU_PLUGIN_ONLY})
target_compile_options(pwru-convfilter PRIVATE ${PWRU_WARNINGS})
target_include_directories(pwru-convfilter PRIVATE ${PROJECT_SOURCE_DIR}/dissector
                                                   ${PROJECT_SOURCE_DIR}/extcap/record)
target_link_libraries(pwru-convfilter PRIVATE epan wiretap wsutil)
