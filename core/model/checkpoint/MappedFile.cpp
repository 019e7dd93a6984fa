#include "core/model/checkpoint/MappedFile.h"

#include "core/common/Error.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace xopd {

std::shared_ptr<MappedFile> MappedFile::open(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    XOPD_CHECK(fd >= 0, "'" << path << "': cannot open (" << std::strerror(errno) << ")");
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        const int err = errno;
        ::close(fd);
        XOPD_FAIL("'" << path << "': not a regular file" << (err ? std::string(" (") + std::strerror(err) + ")" : ""));
    }
    std::shared_ptr<MappedFile> f(new MappedFile());
    f->path_ = path;
    f->size_ = static_cast<size_t>(st.st_size);
    if (f->size_ > 0) {
        // Private + writable: copy-on-write, so tensor views may be modified in place without
        // touching the file; untouched pages stay shared with the page cache.
        void* p = ::mmap(nullptr, f->size_, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            const int err = errno;
            ::close(fd);
            XOPD_FAIL("'" << path << "': cannot map " << f->size_ << " bytes (" << std::strerror(err) << ")");
        }
        f->data_ = static_cast<uint8_t*>(p);
    }
    ::close(fd);
    return f;
}

MappedFile::~MappedFile() {
    if (data_) ::munmap(data_, size_);
}

}  // namespace xopd
