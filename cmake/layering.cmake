# Which part of chatbus may include and link which (docs/architecture.md, "Parts"):
#   common ← broker, worker, cli, gateway;  node above broker and worker;  bench/ and tests/ above everything.
# Included by the top CMakeLists.txt, where chatbus_check_layering() checks the libraries' links and every
# source's includes at configure time; run as a script (cmake -DROOT=DIR -P cmake/layering.cmake) it checks the
# includes of the tree at DIR, which is how a test proves the check can fail.
if(CMAKE_SCRIPT_MODE_FILE)
  cmake_minimum_required(VERSION 3.25)  # script mode: IN_LIST and the other policies of the project
endif()
set(chatbus_parts common broker worker cli gateway node)
set(chatbus_may_use_common common)
set(chatbus_may_use_broker common broker)
set(chatbus_may_use_worker common worker)
set(chatbus_may_use_cli common cli)
set(chatbus_may_use_gateway common gateway)
set(chatbus_may_use_node common broker worker node)
set(chatbus_library_common chatbus_common)
set(chatbus_library_broker chatbus_broker)
set(chatbus_library_worker chatbus_worker)
set(chatbus_library_cli chatbus_client)
set(chatbus_library_gateway chatbus_gateway)
set(chatbus_library_node chatbus_node)

# Every project include names its part (`#include "broker/room_router.hpp"`); one of a part it may not use is
# an error.
function(chatbus_check_includes root)
  set(violations "")
  foreach(part IN LISTS chatbus_parts)
    file(GLOB sources ${root}/${part}/*.cpp ${root}/${part}/*.hpp)
    foreach(source IN LISTS sources)
      file(STRINGS ${source} includes REGEX "^#include \"[^\"]+\"")
      foreach(line IN LISTS includes)
        string(REGEX REPLACE "^#include \"([^\"]+)\".*" "\\1" header "${line}")
        string(REGEX MATCH "^[a-z_]+/" used "${header}")
        string(REPLACE "/" "" used "${used}")
        if(NOT used OR NOT used IN_LIST chatbus_parts)
          list(APPEND violations "${source}: \"${header}\" does not name its part (write it from the project root)")
        elseif(NOT used IN_LIST chatbus_may_use_${part})
          list(APPEND violations "${source}: ${part}/ may not include ${header}")
        endif()
      endforeach()
    endforeach()
  endforeach()
  if(violations)
    list(JOIN violations "\n  " text)
    message(FATAL_ERROR "layering (docs/architecture.md, \"Parts\"):\n  ${text}")
  endif()
endfunction()

# No library links a part it may not use: the broker library must not pull in worker code.
function(chatbus_check_links)
  foreach(part IN LISTS chatbus_parts)
    get_target_property(links ${chatbus_library_${part}} LINK_LIBRARIES)
    foreach(other IN LISTS chatbus_parts)
      if(${chatbus_library_${other}} IN_LIST links AND NOT other IN_LIST chatbus_may_use_${part})
        message(FATAL_ERROR "layering: ${chatbus_library_${part}} links ${chatbus_library_${other}}; "
                            "${part}/ may use only: ${chatbus_may_use_${part}} (docs/architecture.md, \"Parts\")")
      endif()
    endforeach()
  endforeach()
endfunction()

function(chatbus_check_layering)
  chatbus_check_links()
  chatbus_check_includes(${PROJECT_SOURCE_DIR})
endfunction()

if(CMAKE_SCRIPT_MODE_FILE AND DEFINED ROOT)
  chatbus_check_includes(${ROOT})
endif()
