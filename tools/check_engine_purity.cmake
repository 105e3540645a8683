# Fails the build when a file under engine/ includes a third-party library or
# another layer of boxoffice. engine/ may include the standard library and
# engine/ headers only.
file(GLOB files ${ENGINE_DIR}/*.hpp ${ENGINE_DIR}/*.cpp)
set(forbidden "boost/" "rocksdb/" "simdjson" "spdlog/" "fmt/" "openssl/" "doctest"
              "storage/" "net/" "<thread>" "<chrono>" "<random>" "<fstream>" "<mutex>")
foreach(f ${files})
  file(STRINGS ${f} lines REGEX "^[ \t]*#[ \t]*include")
  foreach(line ${lines})
    foreach(bad ${forbidden})
      string(FIND "${line}" "${bad}" pos)
      if(NOT pos EQUAL -1)
        message(FATAL_ERROR "engine purity: ${f} includes ${bad}: ${line}")
      endif()
    endforeach()
  endforeach()
endforeach()
