# `cmake --install`: headers, libomnicoder.so, the CLI, a CMake package
# (find_package(omnicoder) -> omnicoder::omnicoder) and a pkg-config file (omnicoder.pc).
include(CMakePackageConfigHelpers)
set(OC_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/omnicoder)

install(TARGETS omnicoder_shared EXPORT omnicoderTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${CMAKE_SOURCE_DIR}/include/omnicoder DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.h")
if(TARGET omnicoder_cli)
  install(TARGETS omnicoder_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
install(EXPORT omnicoderTargets NAMESPACE omnicoder:: DESTINATION ${OC_CMAKE_DIR})

configure_package_config_file(${CMAKE_SOURCE_DIR}/cmake/omnicoderConfig.cmake.in
  ${CMAKE_BINARY_DIR}/omnicoderConfig.cmake INSTALL_DESTINATION ${OC_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_BINARY_DIR}/omnicoderConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/omnicoderConfig.cmake ${CMAKE_BINARY_DIR}/omnicoderConfigVersion.cmake
  DESTINATION ${OC_CMAKE_DIR})

# Relocatable: the prefix is found from the .pc file's own folder (cmake --install --prefix).
file(RELATIVE_PATH OC_PC_TO_PREFIX "/p/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/p")
configure_file(${CMAKE_SOURCE_DIR}/cmake/omnicoder.pc.in ${CMAKE_BINARY_DIR}/omnicoder.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/omnicoder.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
