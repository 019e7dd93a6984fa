#pragma once
// JSON file helpers over nlohmann-json with errors that name the file and the problem, and an
// atomic writer (temporary file + rename) so a crash never leaves a half-written file.

#include <nlohmann/json.hpp>

#include <string>

namespace xopd {

/// Reads and parses a JSON file. Throws xopd::Error naming the file on a missing file or bad JSON.
nlohmann::json readJsonFile(const std::string& path);

/// Writes text to path atomically: writes path.tmp-<pid>, flushes, fsyncs, renames over path.
void writeFileAtomic(const std::string& path, const std::string& contents);

/// Writes JSON (indented by 2) atomically.
void writeJsonFileAtomic(const std::string& path, const nlohmann::json& value);

/// Reads a whole file into a string. Throws xopd::Error naming the file when it cannot.
std::string readTextFile(const std::string& path);

}  // namespace xopd
