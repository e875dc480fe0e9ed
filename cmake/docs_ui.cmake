# GET /docs serves Swagger UI. Its files come from the npm package
# swagger-ui-dist, pinned by docs/ui/package-lock.json, and are embedded in the
# binary: the container has no source tree and tasks in private subnets cannot
# reach a CDN.
#
# Configure time: `npm ci` in docs/ui when node_modules does not hold the
# locked version (idempotent; a second configure does nothing). Then a
# generated translation unit pulls each file in with the assembler's .incbin
# (no multi-megabyte C++ array to compile) and records its SHA-256 for ETags.
# Text files are also embedded gzip-compressed (the bundle: 1.7 MB -> ~0.5 MB),
# for browsers that accept it.
# The files and the lock file are configure dependencies, so changing either
# regenerates the table (and with it the ETags).
#
# Input: target catalog_core. Cache variable CATALOG_NPM: the npm to use.

set(CATALOG_DOCS_UI_DIR ${PROJECT_SOURCE_DIR}/docs/ui)
set(CATALOG_SWAGGER_UI_DIR ${CATALOG_DOCS_UI_DIR}/node_modules/swagger-ui-dist)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${CATALOG_DOCS_UI_DIR}/package-lock.json)

file(READ ${CATALOG_DOCS_UI_DIR}/package-lock.json catalog_docs_lock)
string(JSON catalog_swagger_locked GET "${catalog_docs_lock}" packages node_modules/swagger-ui-dist version)

function(catalog_swagger_installed_version out)
  set(${out} "" PARENT_SCOPE)
  if(EXISTS ${CATALOG_SWAGGER_UI_DIR}/package.json)
    file(READ ${CATALOG_SWAGGER_UI_DIR}/package.json manifest)
    string(JSON version ERROR_VARIABLE error GET "${manifest}" version)
    if(NOT error)
      set(${out} "${version}" PARENT_SCOPE)
    endif()
  endif()
endfunction()

catalog_swagger_installed_version(catalog_swagger_installed)
if(NOT catalog_swagger_installed STREQUAL catalog_swagger_locked)
  find_program(CATALOG_NPM npm)
  if(NOT CATALOG_NPM)
    message(FATAL_ERROR "docs/ui: npm is needed to install swagger-ui-dist ${catalog_swagger_locked} for GET /docs "
                        "(scripts/install-deps.sh installs it; Debian packages nodejs and npm)")
  endif()
  message(STATUS "docs/ui: npm ci (swagger-ui-dist ${catalog_swagger_locked})")
  # docs/ui/.npmrc also says ignore-scripts; repeated here so that an npmrc
  # elsewhere cannot turn swagger-ui-dist's telemetry dependency back on.
  execute_process(
    COMMAND ${CATALOG_NPM} ci --ignore-scripts --no-audit --no-fund --loglevel=error
    WORKING_DIRECTORY ${CATALOG_DOCS_UI_DIR}
    RESULT_VARIABLE catalog_npm_result)
  catalog_swagger_installed_version(catalog_swagger_installed)
  if(NOT catalog_npm_result EQUAL 0 OR NOT catalog_swagger_installed STREQUAL catalog_swagger_locked)
    message(FATAL_ERROR "docs/ui: `npm ci` failed (exit ${catalog_npm_result}); swagger-ui-dist "
                        "${catalog_swagger_locked} is needed for GET /docs")
  endif()
endif()

# URL name (under /docs/assets/), file in swagger-ui-dist, media type (text/*
# is served as UTF-8). LICENSE: Apache-2.0 asks for it wherever the files go.
set(catalog_docs_assets
  "swagger-ui-bundle.js|swagger-ui-bundle.js|text/javascript"
  "swagger-ui.css|swagger-ui.css|text/css"
  "favicon-32x32.png|favicon-32x32.png|image/png"
  "LICENSE.txt|LICENSE|text/plain")

# catalog_docs_embed(SYMBOL FILE): SYMBOL .. SYMBOL_end hold FILE's bytes.
macro(catalog_docs_embed sym file)
  if("${file}" MATCHES "[\"\\\\]")
    message(FATAL_ERROR "docs/ui: the path may not contain quotes or backslashes: ${file}")
  endif()
  string(APPEND catalog_docs_asm
    "    \".globl ${sym}\\n.hidden ${sym}\\n.globl ${sym}_end\\n.hidden ${sym}_end\\n\"\n"
    "    \".balign 16\\n${sym}:\\n.incbin \\\"${file}\\\"\\n${sym}_end:\\n\"\n")
  string(APPEND catalog_docs_decls
    "extern \"C\" __attribute__((visibility(\"hidden\"))) const char ${sym}[];\n"
    "extern \"C\" __attribute__((visibility(\"hidden\"))) const char ${sym}_end[];\n")
endmacro()

file(MAKE_DIRECTORY ${CMAKE_BINARY_DIR}/generated/docs_assets)
set(catalog_docs_asm "")
set(catalog_docs_decls "")
set(catalog_docs_table "")
set(index 0)
foreach(entry IN LISTS catalog_docs_assets)
  string(REPLACE "|" ";" fields "${entry}")
  list(GET fields 0 name)
  list(GET fields 1 file)
  list(GET fields 2 type)
  if(type MATCHES "^text/")
    string(APPEND type "; charset=utf-8")
  endif()
  set(path ${CATALOG_SWAGGER_UI_DIR}/${file})
  if(NOT EXISTS ${path})
    message(FATAL_ERROR "docs/ui: ${path} is missing; remove docs/ui/node_modules and configure again")
  endif()
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${path})
  file(SHA256 ${path} sha)
  string(SUBSTRING "${sha}" 0 24 sha)
  set(sym catalog_docs_asset_${index})
  catalog_docs_embed(${sym} ${path})
  set(gzip_view "std::string_view()")
  if(type MATCHES "^text/")
    # Fixed MTIME: the same input gives the same bytes (and the same ETag).
    set(gz ${CMAKE_BINARY_DIR}/generated/docs_assets/${file}.gz)
    if(NOT EXISTS ${gz} OR ${path} IS_NEWER_THAN ${gz})
      file(ARCHIVE_CREATE OUTPUT ${gz} PATHS ${path} FORMAT raw COMPRESSION GZip COMPRESSION_LEVEL 9 MTIME 0)
    endif()
    catalog_docs_embed(${sym}_gz ${gz})
    set(gzip_view "std::string_view(${sym}_gz, static_cast<std::size_t>(${sym}_gz_end - ${sym}_gz))")
  endif()
  string(APPEND catalog_docs_table
    "      {\"${name}\", \"${type}\", \"\\\"${sha}\\\"\",\n"
    "       std::string_view(${sym}, static_cast<std::size_t>(${sym}_end - ${sym})),\n"
    "       ${gzip_view}},\n")
  math(EXPR index "${index} + 1")
endforeach()

file(CONFIGURE OUTPUT ${CMAKE_BINARY_DIR}/generated/docs_assets.cpp @ONLY CONTENT [=[
// Generated by cmake/docs_ui.cmake from docs/ui (swagger-ui-dist @catalog_swagger_locked@):
// edit that file, not this one.
#include "handlers/docs_assets.hpp"

#include <cstddef>

// .incbin copies each file into .rodata at assembly time; the path is absolute.
__asm__(
    ".pushsection .rodata.catalog_docs,\"a\"\n"
@catalog_docs_asm@    ".popsection\n");

@catalog_docs_decls@
namespace catalog::handlers {

const std::vector<DocsAsset>& embedded_docs_assets() {
  static const std::vector<DocsAsset> kAssets = {
@catalog_docs_table@  };
  return kAssets;
}

}  // namespace catalog::handlers
]=])
target_sources(catalog_core PRIVATE ${CMAKE_BINARY_DIR}/generated/docs_assets.cpp)
