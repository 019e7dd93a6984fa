#pragma once
// The program version, from project(VERSION ...) in the top-level CMakeLists.txt.

namespace xopd {
inline constexpr const char* kVersion = XOPD_VERSION;
}
