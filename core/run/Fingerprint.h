#pragma once
// sha256 fingerprints of model folders and data files, recorded in run.json so a run says exactly
// which weights and prompts it used. OpenSSL libcrypto does the hashing. Torch-free.

#include <nlohmann/json.hpp>

#include <string>

namespace xopd::run {

/// Lower-case hex sha256 of a file. Throws xopd::Error naming the file when it cannot be read.
std::string sha256File(const std::string& path);

/// {"<file name>": "<sha256>", ...} for every regular file directly inside `folder` (sorted), or
/// {"<name>": sha} for a single file. Missing path → {"missing": path}.
nlohmann::json fingerprintPath(const std::string& path);

}  // namespace xopd::run
