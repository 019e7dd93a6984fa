#include "core/common/Json.h"

#include "core/common/AtomicFile.h"
#include "core/common/Error.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace xopd {

std::string readTextFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    XOPD_CHECK(in, "'" << path << "': cannot open (" << std::strerror(errno) << ")");
    std::ostringstream os;
    os << in.rdbuf();
    return os.str();
}

nlohmann::json readJsonFile(const std::string& path) {
    const std::string text = readTextFile(path);
    try {
        return nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {  // parse_error, and out_of_range for 1e400
        XOPD_FAIL("'" << path << "': not valid JSON (" << e.what() << ")");
    }
}

void writeFileAtomic(const std::string& path, const std::string& contents) {
    AtomicFile f(path);
    f.write(contents.data(), contents.size());
    f.commit();
}

void writeJsonFileAtomic(const std::string& path, const nlohmann::json& value) {
    writeFileAtomic(path, value.dump(2) + "\n");
}

}  // namespace xopd
