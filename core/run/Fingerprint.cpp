#include "core/run/Fingerprint.h"

#include "core/common/Error.h"

#include <openssl/evp.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <vector>

namespace fs = std::filesystem;

namespace xopd::run {

std::string sha256File(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    XOPD_CHECK(in, "'" << path << "': cannot open (" << std::strerror(errno) << ")");
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    XOPD_CHECK(ctx && EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) == 1, "sha256: cannot initialise OpenSSL");
    std::vector<char> buf(1 << 20);
    while (in) {
        in.read(buf.data(), std::streamsize(buf.size()));
        const auto n = in.gcount();
        if (n > 0) EVP_DigestUpdate(ctx.get(), buf.data(), size_t(n));
    }
    XOPD_CHECK(in.eof(), "'" << path << "': read error");
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx.get(), md, &len);
    static const char* hex = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < len; ++i) {
        out += hex[md[i] >> 4];
        out += hex[md[i] & 15];
    }
    return out;
}

nlohmann::json fingerprintPath(const std::string& path) {
    nlohmann::json j = nlohmann::json::object();
    if (path.empty() || !fs::exists(path)) {
        j["missing"] = path;
        return j;
    }
    if (fs::is_regular_file(path)) {
        j[fs::path(path).filename().string()] = sha256File(path);
        return j;
    }
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(path))
        if (e.is_regular_file()) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) j[f.filename().string()] = sha256File(f.string());
    return j;
}

}  // namespace xopd::run
