#pragma once
// SpscRingBuffer: a lock-free single-producer / single-consumer ring buffer for real-time audio.
// The API is split into a writer half and a reader half (after Audacity's RingBuffer): the
// producer thread only ever holds the Writer, the consumer thread only the Reader. Neither half
// locks or allocates, so either may be used from a PortAudio callback.
//
//   SpscRingBuffer<float> ring(1 << 16);
//   auto w = ring.writer();   // give to the producer thread (e.g. the capture callback)
//   auto r = ring.reader();   // give to the consumer thread
//   w.write(block, n);  ...   r.read(out, r.readAvailable());
//
// Threading: exactly one thread may use the Writer and one the Reader at a time; both may run
// concurrently. Lifetime: the halves refer to the buffer, which must outlive them. T must be
// trivially copyable.

#include <atomic>
#include <cstddef>
#include <type_traits>
#include <vector>

namespace xopd::audio {

template <typename T>
class SpscRingBuffer {
    static_assert(std::is_trivially_copyable<T>::value, "SpscRingBuffer holds trivially copyable values");

public:
    /// Holds up to `capacity` items. Allocates once, here.
    explicit SpscRingBuffer(std::size_t capacity) : buffer_(capacity + 1) {}
    SpscRingBuffer(const SpscRingBuffer&) = delete;
    SpscRingBuffer& operator=(const SpscRingBuffer&) = delete;

    /// Items the buffer can hold.
    std::size_t capacity() const { return buffer_.size() - 1; }

    /// The producer's half.
    class Writer {
    public:
        /// Free slots now (a lower bound: the reader may free more meanwhile).
        std::size_t writeAvailable() const { return ring_->freeSlots(); }
        /// Copies up to n items in; returns how many fit. Never blocks.
        std::size_t write(const T* items, std::size_t n) { return ring_->push(items, n); }

    private:
        friend class SpscRingBuffer;
        explicit Writer(SpscRingBuffer* ring) : ring_(ring) {}
        SpscRingBuffer* ring_;
    };

    /// The consumer's half.
    class Reader {
    public:
        /// Items ready now (a lower bound: the writer may add more meanwhile).
        std::size_t readAvailable() const { return ring_->usedSlots(); }
        /// Copies up to n items out; returns how many were read. Never blocks.
        std::size_t read(T* out, std::size_t n) { return ring_->pop(out, n); }
        /// Drops every item ready now.
        void discardAll() { ring_->dropAll(); }

    private:
        friend class SpscRingBuffer;
        explicit Reader(SpscRingBuffer* ring) : ring_(ring) {}
        SpscRingBuffer* ring_;
    };

    /// A writer half; hand it to the one producer thread.
    Writer writer() { return Writer(this); }
    /// A reader half; hand it to the one consumer thread.
    Reader reader() { return Reader(this); }

private:
    std::size_t usedSlots() const {
        const std::size_t w = write_.load(std::memory_order_acquire), r = read_.load(std::memory_order_acquire);
        return w >= r ? w - r : w + buffer_.size() - r;
    }
    std::size_t freeSlots() const { return capacity() - usedSlots(); }

    std::size_t push(const T* items, std::size_t n) {
        const std::size_t w = write_.load(std::memory_order_relaxed);  // only this thread writes it
        const std::size_t r = read_.load(std::memory_order_acquire);
        const std::size_t size = buffer_.size();
        const std::size_t used = w >= r ? w - r : w + size - r;
        if (n > size - 1 - used) n = size - 1 - used;
        const std::size_t first = n < size - w ? n : size - w;
        for (std::size_t i = 0; i < first; ++i) buffer_[w + i] = items[i];
        for (std::size_t i = first; i < n; ++i) buffer_[i - first] = items[i];
        write_.store((w + n) % size, std::memory_order_release);
        return n;
    }

    std::size_t pop(T* out, std::size_t n) {
        const std::size_t r = read_.load(std::memory_order_relaxed);  // only this thread writes it
        const std::size_t w = write_.load(std::memory_order_acquire);
        const std::size_t size = buffer_.size();
        const std::size_t used = w >= r ? w - r : w + size - r;
        if (n > used) n = used;
        const std::size_t first = n < size - r ? n : size - r;
        for (std::size_t i = 0; i < first; ++i) out[i] = buffer_[r + i];
        for (std::size_t i = first; i < n; ++i) out[i] = buffer_[i - first];
        read_.store((r + n) % size, std::memory_order_release);
        return n;
    }

    void dropAll() { read_.store(write_.load(std::memory_order_acquire), std::memory_order_release); }

    std::vector<T> buffer_;  // one slot stays empty to tell full from empty
    alignas(64) std::atomic<std::size_t> write_{0};
    alignas(64) std::atomic<std::size_t> read_{0};
};

}  // namespace xopd::audio
