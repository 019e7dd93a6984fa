#include "core/common/Json.h"

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
    const std::string tmp = path + ".tmp-" + std::to_string(::getpid());
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    XOPD_CHECK(fd >= 0, "'" << tmp << "': cannot create (" << std::strerror(errno) << ")");
    size_t done = 0;
    while (done < contents.size()) {
        const ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            const int err = errno;
            ::close(fd);
            ::unlink(tmp.c_str());
            XOPD_FAIL("'" << tmp << "': write failed (" << std::strerror(err) << ")");
        }
        done += static_cast<size_t>(n);
    }
    const bool synced = ::fsync(fd) == 0;
    ::close(fd);
    if (!synced || ::rename(tmp.c_str(), path.c_str()) != 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        XOPD_FAIL("'" << path << "': cannot write (" << std::strerror(err) << ")");
    }
}

void writeJsonFileAtomic(const std::string& path, const nlohmann::json& value) {
    writeFileAtomic(path, value.dump(2) + "\n");
}

}  // namespace xopd
