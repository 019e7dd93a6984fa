#pragma once
// The safetensors header: parsing and full validation of the format (model-formats.md §9) over a
// byte span, without LibTorch. The mmap-backed SafetensorsFile, `xopd inspect` and the libFuzzer
// target all go through parseSafetensorsHeader(), so every check lives in one place.
//
//   layout: [u64 LE N][N bytes UTF-8 JSON object, space padded][data buffer]
//   entry : "name": {"dtype": "BF16", "shape": [..], "data_offsets": [BEGIN, END]}
//
// Threading: free functions and plain values; safe from any thread.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace xopd {

/// Element types of the safetensors format (names as written in the header).
enum class SafetensorsDtype {
    Bool = 1, F4, F6_E2M3, F6_E3M2, U8, I8, F8_E5M2, F8_E4M3, F8_E8M0, I16, U16, F16, BF16, I32, U32,
    F32, C64, F64, I64, U64
};

/// Header spelling of a dtype ("BF16").
const char* dtypeName(SafetensorsDtype dtype);
/// Parses a header spelling; nullopt when unknown.
std::optional<SafetensorsDtype> dtypeFromName(const std::string& name);
/// Size of one element in bits (4 for F4, 6 for F6_*, 16 for BF16, ...).
int dtypeBits(SafetensorsDtype dtype);
/// Order used by the reference writer: tensors are sorted by descending rank, then by name.
int dtypeSortRank(SafetensorsDtype dtype);

/// One tensor entry of the header. Offsets are relative to the start of the data buffer.
struct TensorInfo {
    /// Tensor name as in the header ("model.layers.0.self_attn.q_proj.weight").
    std::string name;
    /// Element type.
    SafetensorsDtype dtype = SafetensorsDtype::F32;
    /// Shape; empty = scalar; a zero dimension = empty tensor.
    std::vector<int64_t> shape;
    /// First byte, relative to the data buffer.
    uint64_t begin = 0;
    /// One past the last byte, relative to the data buffer.
    uint64_t end = 0;

    /// Number of elements (product of the shape; 1 for a scalar).
    int64_t numel() const;
    /// end - begin.
    uint64_t byteSize() const { return end - begin; }
};

/// A validated header.
struct SafetensorsHeader {
    /// N: the length of the JSON header in bytes (without the 8-byte length prefix).
    uint64_t header_size = 0;
    /// File offset of the data buffer: 8 + N.
    uint64_t data_offset = 0;
    /// Size of the data buffer in bytes (file size - 8 - N).
    uint64_t data_size = 0;
    /// `__metadata__` (string -> string), empty when absent.
    std::map<std::string, std::string> metadata;
    /// Entries in header (file) order.
    std::vector<TensorInfo> tensors;

    /// Index into tensors by name; -1 when absent.
    int64_t find(const std::string& name) const;
};

/// The reference reader's limit on N (MAX_HEADER_SIZE).
inline constexpr uint64_t kMaxSafetensorsHeaderSize = 100'000'000;

/// Parses and validates a whole safetensors file given as bytes [data, data + size).
/// `source` names the file in error messages. Checks: size >= 8; N <= 100,000,000; header inside
/// the file; UTF-8 JSON object starting with '{' (trailing whitespace allowed); no duplicate keys;
/// `__metadata__` string -> string; each entry has exactly dtype/shape/data_offsets; known dtype;
/// non-negative shape; END >= BEGIN; END - BEGIN == numel x element size (whole bytes); offsets
/// cover the data buffer exactly (sorted: first 0, no holes, no overlaps, last END == buffer size).
/// Throws xopd::Error naming `source` (and the tensor, when one is at fault).
SafetensorsHeader parseSafetensorsHeader(const uint8_t* data, size_t size, const std::string& source);

}  // namespace xopd
