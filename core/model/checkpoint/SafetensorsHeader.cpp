#include "core/model/checkpoint/SafetensorsHeader.h"

#include "core/common/Error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <set>

namespace xopd {

namespace {

struct DtypeEntry {
    SafetensorsDtype dtype;
    const char* name;
    int bits;
};

// nlohmann::json keeps objects in a std::map (sorted by key); the header's entry order is part of the
// file layout (names() reports it, writers are compared against it), so keep insertion order.
using Json = nlohmann::ordered_json;

// Declaration order of the reference implementation's Dtype enum (its derived Ord is the sort key).
constexpr DtypeEntry kDtypes[] = {
    {SafetensorsDtype::Bool, "BOOL", 8},        {SafetensorsDtype::F4, "F4", 4},
    {SafetensorsDtype::F6_E2M3, "F6_E2M3", 6},  {SafetensorsDtype::F6_E3M2, "F6_E3M2", 6},
    {SafetensorsDtype::U8, "U8", 8},            {SafetensorsDtype::I8, "I8", 8},
    {SafetensorsDtype::F8_E5M2, "F8_E5M2", 8},  {SafetensorsDtype::F8_E4M3, "F8_E4M3", 8},
    {SafetensorsDtype::F8_E8M0, "F8_E8M0", 8},  {SafetensorsDtype::I16, "I16", 16},
    {SafetensorsDtype::U16, "U16", 16},         {SafetensorsDtype::F16, "F16", 16},
    {SafetensorsDtype::BF16, "BF16", 16},       {SafetensorsDtype::I32, "I32", 32},
    {SafetensorsDtype::U32, "U32", 32},         {SafetensorsDtype::F32, "F32", 32},
    {SafetensorsDtype::C64, "C64", 64},         {SafetensorsDtype::F64, "F64", 64},
    {SafetensorsDtype::I64, "I64", 64},         {SafetensorsDtype::U64, "U64", 64},
};

const DtypeEntry& entryOf(SafetensorsDtype dtype) {
    for (const auto& e : kDtypes)
        if (e.dtype == dtype) return e;
    XOPD_FAIL("internal error: unknown SafetensorsDtype " << static_cast<int>(dtype));
}

// Nesting deeper than an entry's shape array (object > entry > array) is never valid; the limit
// keeps hostile headers from building deep trees.
constexpr int kMaxJsonDepth = 4;

// Parses the header JSON rejecting duplicate keys at any level (nlohmann keeps the last one).
Json parseStrictJson(const char* begin, const char* end, const std::string& source) {
    std::vector<std::set<std::string>> keys;  // one set per open object
    std::string duplicate;
    bool too_deep = false;
    auto callback = [&](int depth, Json::parse_event_t event, Json& parsed) {
        using E = Json::parse_event_t;
        if (depth > kMaxJsonDepth) too_deep = true;
        switch (event) {
            case E::object_start: keys.emplace_back(); break;
            case E::object_end:
                if (!keys.empty()) keys.pop_back();
                break;
            case E::key:
                if (!keys.empty() && parsed.is_string()) {
                    const auto& k = parsed.get_ref<const std::string&>();
                    if (!keys.back().insert(k).second && duplicate.empty()) duplicate = k;
                }
                break;
            default: break;
        }
        return !too_deep && duplicate.empty();  // stop building once invalid
    };
    Json j;
    try {
        j = Json::parse(begin, end, callback, /*allow_exceptions=*/true);
    } catch (const Json::exception& e) {
        if (!duplicate.empty() || too_deep) {
            // fall through to the clearer messages below
        } else {
            XOPD_FAIL("'" << source << "': safetensors header is not valid JSON (" << e.what() << ")");
        }
    }
    XOPD_CHECK(duplicate.empty(), "'" << source << "': safetensors header has the key '" << duplicate
                                      << "' more than once (duplicate names are not allowed)");
    XOPD_CHECK(!too_deep, "'" << source << "': safetensors header is nested deeper than " << kMaxJsonDepth
                              << " levels (not a valid header)");
    return j;
}

uint64_t readU64Le(const uint8_t* p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}

bool mulOverflows(uint64_t a, uint64_t b, uint64_t* out) { return __builtin_mul_overflow(a, b, out); }

uint64_t jsonUnsigned(const Json& v, const std::string& source, const std::string& tensor,
                      const char* what) {
    XOPD_CHECK(v.is_number_integer(), "'" << source << "': tensor '" << tensor << "': " << what
                                          << " must hold integers, got " << v.dump());
    XOPD_CHECK(v.is_number_unsigned() || v.get<int64_t>() >= 0,
               "'" << source << "': tensor '" << tensor << "': " << what << " has the negative value " << v.dump());
    return v.get<uint64_t>();
}

TensorInfo parseEntry(const std::string& name, const Json& e, const std::string& source) {
    XOPD_CHECK(e.is_object(), "'" << source << "': tensor '" << name << "': entry must be an object, got "
                                  << e.type_name());
    for (auto it = e.begin(); it != e.end(); ++it) {
        const auto& k = it.key();
        XOPD_CHECK(k == "dtype" || k == "shape" || k == "data_offsets",
                   "'" << source << "': tensor '" << name << "': unexpected key '" << k << "'");
    }
    XOPD_CHECK(e.contains("dtype") && e.contains("shape") && e.contains("data_offsets"),
               "'" << source << "': tensor '" << name << "': entry needs dtype, shape and data_offsets");
    TensorInfo t;
    t.name = name;
    const auto& dt = e["dtype"];
    XOPD_CHECK(dt.is_string(), "'" << source << "': tensor '" << name << "': dtype must be a string");
    const auto dtype = dtypeFromName(dt.get<std::string>());
    XOPD_CHECK(dtype, "'" << source << "': tensor '" << name << "': unknown dtype '" << dt.get<std::string>() << "'");
    t.dtype = *dtype;

    const auto& shape = e["shape"];
    XOPD_CHECK(shape.is_array(), "'" << source << "': tensor '" << name << "': shape must be an array");
    uint64_t numel = 1;
    for (const auto& d : shape) {
        const uint64_t n = jsonUnsigned(d, source, name, "shape");
        XOPD_CHECK(n <= static_cast<uint64_t>(INT64_MAX) && !mulOverflows(numel, n, &numel),
                   "'" << source << "': tensor '" << name << "': shape " << shape.dump() << " overflows");
        t.shape.push_back(static_cast<int64_t>(n));
    }
    const auto& off = e["data_offsets"];
    XOPD_CHECK(off.is_array() && off.size() == 2,
               "'" << source << "': tensor '" << name << "': data_offsets must be [BEGIN, END]");
    t.begin = jsonUnsigned(off[0], source, name, "data_offsets");
    t.end = jsonUnsigned(off[1], source, name, "data_offsets");
    XOPD_CHECK(t.end >= t.begin, "'" << source << "': tensor '" << name << "': data_offsets [" << t.begin << ", "
                                     << t.end << "] end before begin");
    uint64_t bits = 0;
    XOPD_CHECK(!mulOverflows(numel, static_cast<uint64_t>(dtypeBits(t.dtype)), &bits) &&
                   numel <= static_cast<uint64_t>(INT64_MAX),
               "'" << source << "': tensor '" << name << "': shape " << shape.dump() << " overflows");
    XOPD_CHECK(bits % 8 == 0, "'" << source << "': tensor '" << name << "': " << numel << " x " << dtypeBits(t.dtype)
                                  << "-bit elements is not a whole number of bytes");
    XOPD_CHECK(bits / 8 == t.byteSize(), "'" << source << "': tensor '" << name << "': shape " << shape.dump()
                                             << " of " << dtypeName(t.dtype) << " needs " << bits / 8
                                             << " bytes but data_offsets [" << t.begin << ", " << t.end << "] hold "
                                             << t.byteSize());
    return t;
}

}  // namespace

const char* dtypeName(SafetensorsDtype dtype) { return entryOf(dtype).name; }

std::optional<SafetensorsDtype> dtypeFromName(const std::string& name) {
    for (const auto& e : kDtypes)
        if (name == e.name) return e.dtype;
    return std::nullopt;
}

int dtypeBits(SafetensorsDtype dtype) { return entryOf(dtype).bits; }

int dtypeSortRank(SafetensorsDtype dtype) {
    for (size_t i = 0; i < std::size(kDtypes); ++i)
        if (kDtypes[i].dtype == dtype) return static_cast<int>(i);
    return -1;
}

int64_t TensorInfo::numel() const {
    int64_t n = 1;
    for (auto d : shape) n *= d;
    return n;
}

int64_t SafetensorsHeader::find(const std::string& name) const {
    for (size_t i = 0; i < tensors.size(); ++i)
        if (tensors[i].name == name) return static_cast<int64_t>(i);
    return -1;
}

SafetensorsHeader parseSafetensorsHeader(const uint8_t* data, size_t size, const std::string& source) {
    XOPD_CHECK(size >= 8, "'" << source << "': not a safetensors file: " << size
                              << " bytes, shorter than the 8-byte header length");
    SafetensorsHeader h;
    h.header_size = readU64Le(data);
    XOPD_CHECK(h.header_size <= kMaxSafetensorsHeaderSize,
               "'" << source << "': safetensors header length " << h.header_size << " exceeds the limit of "
                   << kMaxSafetensorsHeaderSize << " bytes (corrupt or not a safetensors file)");
    XOPD_CHECK(h.header_size <= size - 8, "'" << source << "': safetensors header length " << h.header_size
                                              << " runs past the end of the file (" << size
                                              << " bytes; truncated?)");
    h.data_offset = 8 + h.header_size;
    h.data_size = size - h.data_offset;
    const char* text = reinterpret_cast<const char*>(data + 8);
    XOPD_CHECK(h.header_size > 0 && text[0] == '{',
               "'" << source << "': safetensors header must be a JSON object starting with '{'");

    const Json j = parseStrictJson(text, text + h.header_size, source);
    XOPD_CHECK(j.is_object(), "'" << source << "': safetensors header is not a JSON object");

    for (auto it = j.begin(); it != j.end(); ++it) {
        if (it.key() == "__metadata__") {
            XOPD_CHECK(it->is_object(), "'" << source << "': __metadata__ must be an object of strings");
            for (auto m = it->begin(); m != it->end(); ++m) {
                XOPD_CHECK(m->is_string(), "'" << source << "': __metadata__ value of '" << m.key()
                                               << "' must be a string, got " << m->type_name());
                h.metadata[m.key()] = m->get<std::string>();
            }
            continue;
        }
        h.tensors.push_back(parseEntry(it.key(), *it, source));
    }

    // Coverage: sorted by offsets, the entries tile the data buffer exactly.
    std::vector<const TensorInfo*> order;
    order.reserve(h.tensors.size());
    for (const auto& t : h.tensors) order.push_back(&t);
    std::sort(order.begin(), order.end(), [](const TensorInfo* a, const TensorInfo* b) {
        return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
    });
    uint64_t expected = 0;
    const TensorInfo* previous = nullptr;
    for (const TensorInfo* t : order) {
        if (t->begin < expected) {
            XOPD_FAIL("'" << source << "': tensor '" << t->name << "': data_offsets [" << t->begin << ", " << t->end
                          << "] overlap tensor '" << previous->name << "' which ends at " << expected);
        }
        if (t->begin > expected) {
            XOPD_FAIL("'" << source << "': tensor '" << t->name << "': data_offsets [" << t->begin << ", " << t->end
                          << "] leave a hole of " << (t->begin - expected) << " bytes after "
                          << (previous ? "tensor '" + previous->name + "'" : std::string("the start of the data")));
        }
        expected = t->end;
        previous = t;
    }
    if (expected != h.data_size) {
        if (expected > h.data_size) {
            XOPD_FAIL("'" << source << "': tensor '" << previous->name << "': data ends at byte " << expected
                          << " of the data buffer, past its end (" << h.data_size << " bytes; truncated file?)");
        }
        XOPD_FAIL("'" << source << "': the tensors cover " << expected << " bytes but the data buffer holds "
                      << h.data_size << " (trailing bytes not described by the header)");
    }
    return h;
}

}  // namespace xopd
