#pragma once
// LibTorch archives (torch::save) written through AtomicFile. torch::save to a path lets a failed
// write surface as a c10::Error thrown from a destructor of LibTorch's stream writer, which ends
// the process ("terminate called … unexpected pos") on a full disk. Here LibTorch writes into a
// sink that never fails towards it: the first failed write is kept, and once LibTorch is done it
// is thrown as an xopd::Error naming the file ("disk full: …"), with nothing left behind.
//
//   saveTorchArchive(optimizer, folder + "/optimizer.pt");
//
// Threading: one thread per call.

#include "core/common/AtomicFile.h"
#include "core/common/Error.h"
#include "core/common/Tensors.h"

#include <torch/serialize.h>

#include <exception>
#include <functional>
#include <string>

namespace xopd {

namespace detail {

/// The byte sink LibTorch writes into: swallows errors, remembers the first.
class CheckedArchiveSink {
public:
    explicit CheckedArchiveSink(const std::string& path) : file_(path) {}
    size_t operator()(const void* data, size_t n) {
        if (!failure_) {
            try {
                file_.write(data, n);
            } catch (...) {
                failure_ = std::current_exception();
            }
        }
        return n;  // LibTorch must never see a short write (see the file comment)
    }
    /// Rethrows the first failed write, else commits the file.
    void finish() {
        if (failure_) std::rethrow_exception(failure_);
        file_.commit();
    }

private:
    AtomicFile file_;
    std::exception_ptr failure_;
};

}  // namespace detail

/// torch::save(value) into `path` atomically; anything torch::save takes (tensors, vectors of
/// tensors, optimizers, modules). Throws xopd::Error naming the file when a write fails.
template <typename Value>
void saveTorchArchive(const Value& value, const std::string& path) {
    detail::CheckedArchiveSink sink(path);
    const std::function<size_t(const void*, size_t)> write = [&sink](const void* data, size_t n) { return sink(data, n); };
    torch::save(value, write);
    sink.finish();
}

}  // namespace xopd
