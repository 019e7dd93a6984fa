#include "core/text/Tokenizer.h"

#include "core/common/Error.h"
#include "core/text/BpeModel.h"
#include "core/text/Nfc.h"
#include "core/text/RegexSplitter.h"
#include "core/text/Utf8.h"

#include <algorithm>
#include <array>
#include <map>
#include <mutex>
#include <unordered_map>

namespace xopd::text {

namespace {
// Pieces longer than this are not cached (rare, and they would bloat the cache).
constexpr size_t kMaxCachedPiece = 64;
// The cache is cleared when it grows past this many pieces.
constexpr size_t kMaxCacheEntries = 1 << 18;
}  // namespace

struct Tokenizer::Impl {
    std::string source;
    bool nfc = true;
    BpeModel bpe;
    RegexSplitter splitter;

    // Added tokens by id, plus the matcher: candidates per first byte, longest first.
    std::map<int32_t, AddedToken> added;
    std::array<std::vector<const AddedToken*>, 256> byFirstByte;
    std::vector<std::string> addedText;   // id -> text ("" when not added)
    std::vector<char> addedSpecial;       // id -> special flag
    int32_t size = 0;

    mutable std::mutex cacheMutex;
    mutable std::unordered_map<std::string, std::vector<int32_t>> cache;

    // Files may be built by hand: the ids are checked before any table is sized by them.
    static const TokenizerFiles& checked(const TokenizerFiles& f) {
        checkTokenIds(f);
        return f;
    }

    explicit Impl(const TokenizerFiles& f)
        : source(checked(f).source), nfc(f.nfc), bpe(f), splitter(f.pattern, f.source) {
        for (const AddedToken& t : f.added) added[t.id] = t;  // ids and texts are unique (checked)
        rebuild();
    }

    /// Rebuilds the matcher and the id tables from `added`, whose ids passed checkTokenIds().
    void rebuild() {
        for (auto& v : byFirstByte) v.clear();
        for (const auto& [id, t] : added) byFirstByte[static_cast<uint8_t>(t.content[0])].push_back(&t);
        for (auto& v : byFirstByte)
            std::stable_sort(v.begin(), v.end(), [](const AddedToken* a, const AddedToken* b) {
                return a->content.size() > b->content.size();
            });
        size = static_cast<int32_t>(bpe.tokens().size());
        if (!added.empty()) size = std::max(size, added.rbegin()->first + 1);
        addedText.assign(size, std::string());
        addedSpecial.assign(size, 0);
        for (const auto& [id, t] : added) {
            addedText[id] = t.content;
            addedSpecial[id] = t.special ? 1 : 0;
        }
        std::lock_guard<std::mutex> lock(cacheMutex);
        cache.clear();
    }

    /// Leftmost added-token match at or after pos: {position, token}, or {npos, nullptr}.
    std::pair<size_t, const AddedToken*> nextAdded(std::string_view text, size_t pos) const {
        for (size_t i = pos; i < text.size(); ++i) {
            const auto& cands = byFirstByte[static_cast<uint8_t>(text[i])];
            for (const AddedToken* t : cands)
                if (text.compare(i, t->content.size(), t->content) == 0) return {i, t};
        }
        return {std::string_view::npos, nullptr};
    }

    void encodePiece(std::string_view piece, std::vector<int32_t>& out) const {
        if (piece.size() == 1 || piece.size() > kMaxCachedPiece) {
            bpe.encodePiece(piece, out);
            return;
        }
        std::string key(piece);
        {
            std::lock_guard<std::mutex> lock(cacheMutex);
            const auto it = cache.find(key);
            if (it != cache.end()) {
                out.insert(out.end(), it->second.begin(), it->second.end());
                return;
            }
        }
        const size_t start = out.size();
        bpe.encodePiece(piece, out);
        std::vector<int32_t> ids(out.begin() + static_cast<std::ptrdiff_t>(start), out.end());
        std::lock_guard<std::mutex> lock(cacheMutex);
        if (cache.size() >= kMaxCacheEntries) cache.clear();
        cache.emplace(std::move(key), std::move(ids));
    }

    void encodeSegment(std::string_view segment, std::vector<int32_t>& out) const {
        if (segment.empty()) return;
        std::string normalized;
        if (nfc && !isNfc(segment)) {
            normalized = toNfc(segment);
            segment = normalized;
        }
        std::vector<std::string_view> pieces;
        pieces.reserve(segment.size() / 4 + 1);
        splitter.split(segment, pieces);
        for (std::string_view p : pieces) encodePiece(p, out);
    }

    void checkId(int32_t id) const {
        XOPD_CHECK(id >= 0 && id < size &&
                       (!addedText[id].empty() ||
                        (static_cast<size_t>(id) < bpe.tokens().size() && !bpe.tokens()[id].empty())),
                   "token id " << id << " is not in the vocabulary of '" << source << "' (size " << size << ")");
    }
};

Tokenizer Tokenizer::fromFile(const std::string& fileOrDir) { return Tokenizer(readTokenizerFiles(fileOrDir)); }

Tokenizer::Tokenizer(const TokenizerFiles& files) : impl_(std::make_unique<Impl>(files)) {}
Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;

std::vector<int32_t> Tokenizer::encode(std::string_view text, const EncodeOptions& options) const {
    const size_t bad = firstInvalidUtf8(text);
    XOPD_CHECK(bad == std::string_view::npos,
               "tokenizer: text is not valid UTF-8 (ill-formed sequence at byte " << bad << " of " << text.size() << ")");
    std::vector<int32_t> out;
    out.reserve(text.size() / 3 + 4);
    size_t pos = 0;
    if (options.parse_added_tokens && !impl_->added.empty()) {
        while (pos < text.size()) {
            const auto [at, token] = impl_->nextAdded(text, pos);
            if (!token) break;
            impl_->encodeSegment(text.substr(pos, at - pos), out);
            out.push_back(token->id);
            pos = at + token->content.size();
        }
    }
    impl_->encodeSegment(text.substr(pos), out);
    return out;
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids, const DecodeOptions& options) const {
    std::string bytes;
    bytes.reserve(ids.size() * 4);
    for (const int32_t id : ids) {
        impl_->checkId(id);
        if (!impl_->addedText[id].empty()) {
            if (options.skip_special && impl_->addedSpecial[id]) continue;
            bytes += impl_->addedText[id];
        } else {
            bytes += impl_->bpe.tokenBytes()[id];
        }
    }
    if (firstInvalidUtf8(bytes) == std::string::npos) return bytes;
    return replaceInvalidUtf8(bytes);
}

const std::string& Tokenizer::tokenBytes(int32_t id) const {
    impl_->checkId(id);
    if (!impl_->addedText[id].empty()) return impl_->addedText[id];
    return impl_->bpe.tokenBytes()[id];
}

std::optional<int32_t> Tokenizer::tokenToId(std::string_view token) const {
    for (const auto& [id, t] : impl_->added)
        if (t.content == token) return id;
    const int32_t id = impl_->bpe.tokenId(std::string(token));
    if (id >= 0) return id;
    return std::nullopt;
}

std::string Tokenizer::idToToken(int32_t id) const {
    impl_->checkId(id);
    if (!impl_->addedText[id].empty()) return impl_->addedText[id];
    return impl_->bpe.tokens()[id];
}

int32_t Tokenizer::size() const { return impl_->size; }
size_t Tokenizer::mergeCount() const { return impl_->bpe.mergeCount(); }

std::vector<AddedToken> Tokenizer::addedTokens() const {
    std::vector<AddedToken> out;
    for (const auto& [id, t] : impl_->added) out.push_back(t);
    return out;
}

bool Tokenizer::isSpecial(int32_t id) const {
    return id >= 0 && id < impl_->size && impl_->addedSpecial[id] != 0;
}

void Tokenizer::setAddedToken(const AddedToken& token) {
    std::map<int32_t, AddedToken> next = impl_->added;
    for (auto it = next.begin(); it != next.end();) {
        if (it->second.content == token.content)
            it = next.erase(it);
        else
            ++it;
    }
    next[token.id] = token;
    std::vector<AddedToken> list;
    list.reserve(next.size());
    for (const auto& [id, t] : next) list.push_back(t);
    checkTokenIds(impl_->bpe.vocab(), list, impl_->source, impl_->source);
    impl_->added = std::move(next);
    impl_->rebuild();
}

const std::string& Tokenizer::source() const { return impl_->source; }
const std::string& Tokenizer::pattern() const { return impl_->splitter.pattern(); }

}  // namespace xopd::text
