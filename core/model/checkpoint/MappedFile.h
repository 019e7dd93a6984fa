#pragma once
// A read-only view of a whole file through mmap (MAP_PRIVATE, copy-on-write): pages are read on
// first touch, so opening a multi-gigabyte shard costs nothing until its tensors are used. Writes
// through the mapping stay private to the process and never reach the file.
//
// Lifetime: the mapping lives as long as the object; hold it in a shared_ptr and capture that in
// every tensor's deleter (SafetensorsFile does). Threading: immutable after open; safe to share.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace xopd {

class MappedFile {
public:
    /// Maps the whole file. Throws xopd::Error naming the file when it cannot be opened or mapped.
    /// An empty file is valid (data() == nullptr, size() == 0).
    static std::shared_ptr<MappedFile> open(const std::string& path);
    ~MappedFile();
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    /// First byte of the file (writable copy-on-write view), nullptr for an empty file.
    uint8_t* data() const { return data_; }
    /// Size of the file in bytes.
    size_t size() const { return size_; }
    /// The path it was opened with.
    const std::string& path() const { return path_; }

private:
    MappedFile() = default;
    uint8_t* data_ = nullptr;
    size_t size_ = 0;
    std::string path_;
};

}  // namespace xopd
