# Every third-party dependency, found from the system (Debian packages or a PyTorch wheel's LibTorch).
find_package(Torch REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
find_package(CLI11 REQUIRED)
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(SNDFILE REQUIRED IMPORTED_TARGET sndfile)
pkg_check_modules(SOXR REQUIRED IMPORTED_TARGET soxr)
pkg_check_modules(EBUR128 REQUIRED IMPORTED_TARGET libebur128)
pkg_check_modules(SOX REQUIRED IMPORTED_TARGET sox)
pkg_check_modules(PORTAUDIO REQUIRED IMPORTED_TARGET portaudio-2.0)
pkg_check_modules(PCRE2 REQUIRED IMPORTED_TARGET libpcre2-8)
pkg_check_modules(ICU REQUIRED IMPORTED_TARGET icu-uc)
pkg_check_modules(SQLITE3 REQUIRED IMPORTED_TARGET sqlite3)
# espeak-ng ships a .pc file on Debian; fall back to a plain library search elsewhere.
pkg_check_modules(ESPEAK_NG IMPORTED_TARGET espeak-ng)
if(NOT ESPEAK_NG_FOUND)
  find_library(ESPEAK_NG_LIB espeak-ng REQUIRED)
  find_path(ESPEAK_NG_INCLUDE espeak-ng/speak_lib.h REQUIRED)
  add_library(PkgConfig::ESPEAK_NG INTERFACE IMPORTED)
  target_link_libraries(PkgConfig::ESPEAK_NG INTERFACE ${ESPEAK_NG_LIB})
  target_include_directories(PkgConfig::ESPEAK_NG INTERFACE ${ESPEAK_NG_INCLUDE})
endif()

# Torch's imported target carries flags (-D_GLIBCXX_USE_CXX11_ABI, include dirs) we want everywhere.
add_library(xopd_torch INTERFACE)
target_link_libraries(xopd_torch INTERFACE ${TORCH_LIBRARIES})
target_include_directories(xopd_torch SYSTEM INTERFACE ${TORCH_INCLUDE_DIRS})

# Qt: the GUI needs Widgets/Svg; the tests need only Core+Test, which a GUI-off build still uses
# when it is installed (the GPU machine has no Qt: its core tests are then skipped, and
# `xopd selftest` is the check there).
if(XOPD_GUI)
  find_package(Qt6 6.4 REQUIRED COMPONENTS Core Gui Widgets PrintSupport Svg Test Concurrent)
  find_package(QCustomPlotQt6 REQUIRED)
  # AUTOMOC is enabled per Qt target (widgets, app, tests), never for the core libraries.
elseif(XOPD_BUILD_TESTS)
  find_package(Qt6 6.4 QUIET COMPONENTS Core Test)
endif()
if(TARGET Qt6::Test)
  set(XOPD_HAVE_QTTEST ON)
else()
  set(XOPD_HAVE_QTTEST OFF)
  message(STATUS "xopd: Qt6 Test not found; test executables are not built")
endif()
