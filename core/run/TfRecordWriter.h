#pragma once
// TFRecord files, the framing of TensorBoard's event files: each record is
//   uint64 length (little-endian) · uint32 masked CRC32C of those 8 bytes · data · uint32 masked CRC32C of data
// with mask(crc) = ((crc >> 15) | (crc << 17)) + 0xa282ead8 (tensorflow/core/lib/hash/crc32c.h).
// CRC32C (Castagnoli) comes from Intel's ISA-L (Debian's libisal: crc32_iscsi).
//
// TfRecordWriter appends records to a new file, one write() per record, so a crash leaves whole
// records followed at most by one torn record, which TensorBoard's reader skips; a failed write
// is cut back off the file. Torch-free; one thread per object. Every error is an xopd::Error naming
// the file.

#include <cstddef>
#include <cstdint>
#include <string>

namespace xopd::run {

/// CRC32C (Castagnoli, the iSCSI polynomial) of n bytes.
uint32_t crc32c(const void* data, size_t n);
/// TFRecord's masked CRC32C of n bytes.
uint32_t maskedCrc32c(const void* data, size_t n);
/// One TFRecord: length, its masked CRC, data, the data's masked CRC.
std::string tfRecordFrame(const std::string& data);

class TfRecordWriter {
public:
    /// Creates PATH, which must not exist yet (an event file is never appended to by two writers).
    /// A staging file (staging = true) is removed by the destructor unless commitAs() renamed it.
    explicit TfRecordWriter(std::string path, bool staging = false);
    ~TfRecordWriter();
    TfRecordWriter(const TfRecordWriter&) = delete;
    TfRecordWriter& operator=(const TfRecordWriter&) = delete;

    /// Appends one record and hands it to the OS (no user-space buffer: nothing to flush).
    void append(const std::string& data);
    /// fsyncs, closes and renames the file to final_path (an export, staged under a temporary name).
    void commitAs(const std::string& final_path);
    /// Path of the file being written.
    const std::string& path() const { return path_; }

private:
    std::string path_;
    int fd_ = -1;
    int64_t size_ = 0;  ///< bytes of whole records written
    bool staging_ = false;
};

}  // namespace xopd::run
