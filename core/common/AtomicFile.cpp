#include "core/common/AtomicFile.h"

#include "core/common/Error.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

namespace xopd {

std::string ioErrorText(int error_number) {
    const std::string text = std::strerror(error_number);
    return error_number == ENOSPC || error_number == EDQUOT ? "disk full: " + text : text;
}

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)), tmp_(path_ + ".tmp-" + std::to_string(::getpid())) {
    fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    XOPD_CHECK(fd_ >= 0, "'" << tmp_ << "': cannot create (" << ioErrorText(errno) << ")");
}

AtomicFile::~AtomicFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(tmp_.c_str());
}

void AtomicFile::write(const void* data, size_t n) {
    const auto* p = static_cast<const uint8_t*>(data);
    while (n > 0) {
        const ssize_t w = ::write(fd_, p, std::min<size_t>(n, size_t{1} << 30));
        if (w < 0 && errno == EINTR) continue;
        // A zero-byte write of a non-empty buffer means the device took nothing: full.
        XOPD_CHECK(w > 0, "'" << tmp_ << "': write failed (" << ioErrorText(w == 0 ? ENOSPC : errno) << ")");
        p += w;
        n -= static_cast<size_t>(w);
    }
}

void AtomicFile::setPermissions(unsigned mode) {
    XOPD_CHECK(::fchmod(fd_, mode_t(mode)) == 0, "'" << tmp_ << "': cannot set permissions (" << ioErrorText(errno) << ")");
}

void AtomicFile::commit() {
    XOPD_CHECK(::fsync(fd_) == 0, "'" << tmp_ << "': fsync failed (" << ioErrorText(errno) << ")");
    const int fd = fd_;
    fd_ = -1;
    XOPD_CHECK(::close(fd) == 0, "'" << tmp_ << "': close failed (" << ioErrorText(errno) << ")");
    XOPD_CHECK(::rename(tmp_.c_str(), path_.c_str()) == 0,
               "'" << path_ << "': cannot rename into place (" << ioErrorText(errno) << ")");
    committed_ = true;
}

}  // namespace xopd
