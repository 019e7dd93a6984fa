#include "core/run/TfRecordWriter.h"

#include "core/common/AtomicFile.h"
#include "core/common/Error.h"

#include <isa-l/crc.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>

namespace xopd::run {
namespace {

void putLittleEndian(std::string& out, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out.push_back(char((v >> (8 * i)) & 0xff));
}

}  // namespace

uint32_t crc32c(const void* data, size_t n) {
    // ISA-L's crc32_iscsi neither inverts its seed nor its result; CRC32C does both. It takes an int
    // length, so long buffers go in pieces.
    auto* p = static_cast<unsigned char*>(const_cast<void*>(data));
    uint32_t crc = 0xffffffffu;
    while (n > 0) {
        const int chunk = int(std::min<size_t>(n, size_t(INT_MAX)));
        crc = crc32_iscsi(p, chunk, crc);
        p += chunk;
        n -= size_t(chunk);
    }
    return ~crc;
}

uint32_t maskedCrc32c(const void* data, size_t n) {
    const uint32_t crc = crc32c(data, n);
    return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

std::string tfRecordFrame(const std::string& data) {
    std::string out;
    out.reserve(data.size() + 16);
    putLittleEndian(out, uint64_t(data.size()), 8);
    putLittleEndian(out, maskedCrc32c(out.data(), 8), 4);
    out += data;
    putLittleEndian(out, maskedCrc32c(data.data(), data.size()), 4);
    return out;
}

TfRecordWriter::TfRecordWriter(std::string path, bool staging) : path_(std::move(path)), staging_(staging) {
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
    XOPD_CHECK(fd_ >= 0, "'" << path_ << "': cannot create (" << ioErrorText(errno) << ")");
}

TfRecordWriter::~TfRecordWriter() {
    if (fd_ < 0) return;
    ::close(fd_);
    if (staging_) ::unlink(path_.c_str());
}

void TfRecordWriter::append(const std::string& data) {
    XOPD_CHECK(fd_ >= 0, "'" << path_ << "': already closed");
    const std::string frame = tfRecordFrame(data);
    const char* p = frame.data();
    size_t n = frame.size();
    while (n > 0) {
        const ssize_t w = ::write(fd_, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            const int err = w == 0 ? ENOSPC : errno;
            // Cut the torn record off: the file keeps only whole records.
            if (::ftruncate(fd_, off_t(size_)) != 0) {
                // nothing more to do: the error below names the file
            }
            XOPD_FAIL("'" << path_ << "': write failed (" << ioErrorText(err) << ")");
        }
        p += w;
        n -= size_t(w);
    }
    size_ += int64_t(frame.size());
}

void TfRecordWriter::commitAs(const std::string& final_path) {
    XOPD_CHECK(fd_ >= 0, "'" << path_ << "': already closed");
    XOPD_CHECK(::fsync(fd_) == 0, "'" << path_ << "': fsync failed (" << ioErrorText(errno) << ")");
    const int fd = fd_;
    fd_ = -1;
    XOPD_CHECK(::close(fd) == 0, "'" << path_ << "': close failed (" << ioErrorText(errno) << ")");
    XOPD_CHECK(::rename(path_.c_str(), final_path.c_str()) == 0,
               "'" << final_path << "': cannot rename into place (" << ioErrorText(errno) << ")");
    path_ = final_path;
}

}  // namespace xopd::run
