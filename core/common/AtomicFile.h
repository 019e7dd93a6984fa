#pragma once
// A file written at PATH.tmp-<pid> and renamed over PATH by commit(): readers see the old file or
// the whole new one, never a part. Every write is checked; a failed one throws xopd::Error naming
// the file and saying "disk full" when the device is full (ENOSPC). A file never committed is
// removed by the destructor. The one atomic writer of the program: writeFileAtomic (Json.h),
// safetensors files and LibTorch archives (TorchSave.h) use it.
//
//   AtomicFile f("/run/checkpoints/.tmp-step-000012/optimizer.pt");
//   f.write(data, n);  ...  f.commit();
//
// Torch-free. Threading: one thread per object.

#include <cstddef>
#include <string>

namespace xopd {

/// Text for a failed I/O call's errno: strerror, with "disk full" first for ENOSPC and EDQUOT.
std::string ioErrorText(int error_number);

class AtomicFile {
public:
    /// Creates PATH.tmp-<pid>. Throws xopd::Error naming it when it cannot be created.
    explicit AtomicFile(std::string path);
    ~AtomicFile();
    AtomicFile(const AtomicFile&) = delete;
    AtomicFile& operator=(const AtomicFile&) = delete;

    /// Appends n bytes. Throws xopd::Error naming the file on a failed or short write.
    void write(const void* data, size_t n);
    /// Sets the permission bits of the file (fchmod, not masked by the umask), e.g. 0755 for a
    /// script: the file appears under PATH with them. Throws xopd::Error naming the file.
    void setPermissions(unsigned mode);
    /// fsyncs and renames the file over PATH. Throws xopd::Error naming the file on failure.
    void commit();

private:
    std::string path_;
    std::string tmp_;
    int fd_ = -1;
    bool committed_ = false;
};

}  // namespace xopd
