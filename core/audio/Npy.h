#pragma once
// Minimal NumPy .npy (format version 1.0) writer and reader for float32 arrays in C order, so
// features can be checked with `numpy.load`. Torch-free. Thread-safe (no shared state).

#include <cstdint>
#include <string>
#include <vector>

namespace xopd::audio {

/// A float32 array read from a .npy file.
struct NpyArray {
    /// Shape, outermost first.
    std::vector<std::int64_t> shape;
    /// Values in C (row-major) order.
    std::vector<float> values;
};

/// Writes values with the given shape as '<f4' C-order NPY v1.0, atomically (temp + rename).
/// Throws xopd::Error when the shape does not match the value count or the write fails.
void writeNpyFloat32(const std::string& path, const std::vector<float>& values,
                     const std::vector<std::int64_t>& shape);

/// Reads a C-order '<f4' or '<f8' (converted to float32) NPY v1.x/2.x file. Throws xopd::Error
/// naming the file on anything else.
NpyArray readNpyFloat32(const std::string& path);

}  // namespace xopd::audio
