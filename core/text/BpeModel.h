#pragma once
// The BPE model proper: the vocabulary, the merge table and the merge loop over one
// pre-tokenized piece. Works on token ids, not strings: each byte starts as the id of its
// byte-level symbol, and a merge table keyed by the pair of ids gives (rank, merged id).
// Immutable after construction; encodePiece() is thread-safe.

#include "core/text/TokenizerFiles.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace xopd::text {

class BpeModel {
public:
    /// Builds the tables. files must have passed checkTokenIds() (the tables are sized by the
    /// largest id). Throws xopd::Error naming files.source when a byte symbol is missing from the
    /// vocabulary or a merge names a token that is not in it.
    explicit BpeModel(const TokenizerFiles& files);

    /// Appends the ids of the raw bytes of one piece: repeatedly merges the adjacent pair with
    /// the lowest rank (ties: left-most) until no pair is in the table.
    void encodePiece(std::string_view bytes, std::vector<int32_t>& out) const;

    /// Id of the single-byte token of b.
    int32_t byteId(uint8_t b) const { return byteIds_[b]; }
    /// Token string -> id (vocabulary only, no added tokens); -1 when absent.
    int32_t tokenId(const std::string& token) const;
    /// Token string -> id of the whole vocabulary.
    const std::unordered_map<std::string, int32_t>& vocab() const { return vocab_; }
    /// The vocabulary: token string per id ("" for ids not in it), and the raw bytes per id.
    const std::vector<std::string>& tokens() const { return tokens_; }
    const std::vector<std::string>& tokenBytes() const { return bytes_; }
    /// Number of entries in the merge table.
    size_t mergeCount() const { return merges_.size(); }

private:
    struct Merge {
        int32_t rank;
        int32_t merged;
    };
    static uint64_t key(int32_t a, int32_t b) {
        return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
    }
    const Merge* find(int32_t a, int32_t b) const {
        const auto it = merges_.find(key(a, b));
        return it == merges_.end() ? nullptr : &it->second;
    }
    void mergeSmall(std::vector<int32_t>& ids) const;
    void mergeLarge(std::vector<int32_t>& ids) const;

    int32_t byteIds_[256];
    std::unordered_map<uint64_t, Merge> merges_;
    std::unordered_map<std::string, int32_t> vocab_;
    std::vector<std::string> tokens_;
    std::vector<std::string> bytes_;
};

}  // namespace xopd::text
