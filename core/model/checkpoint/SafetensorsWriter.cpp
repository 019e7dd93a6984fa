#include "core/model/checkpoint/SafetensorsWriter.h"

#include "core/common/AtomicFile.h"
#include "core/common/Error.h"
#include "core/common/Json.h"
#include "core/common/Tensors.h"
#include "core/model/checkpoint/SafetensorsFile.h"

#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <set>

namespace xopd {

namespace {

struct Prepared {
    std::string name;
    torch::Tensor tensor;  // CPU, contiguous
    SafetensorsDtype dtype;
    uint64_t bytes;
};

std::vector<Prepared> prepare(const NamedTensors& tensors, const std::string& where) {
    std::vector<Prepared> out;
    out.reserve(tensors.size());
    std::set<std::string> seen;
    for (const auto& [name, t] : tensors) {
        XOPD_CHECK(!name.empty(), "'" << where << "': empty tensor name");
        XOPD_CHECK(name != "__metadata__", "'" << where << "': '__metadata__' cannot be a tensor name");
        XOPD_CHECK(seen.insert(name).second, "'" << where << "': tensor '" << name << "' given twice");
        XOPD_CHECK(t.defined(), "'" << where << "': tensor '" << name << "' is undefined");
        SafetensorsDtype dtype;
        try {
            dtype = safetensorsDtype(t.scalar_type());
        } catch (const Error& e) {
            XOPD_FAIL("'" << where << "': tensor '" << name << "': " << e.what());
        }
        torch::Tensor c = t.detach().to(torch::kCPU).contiguous();
        out.push_back({name, c, dtype, static_cast<uint64_t>(c.numel()) * c.element_size()});
    }
    // The reference writer's order: descending dtype, then name.
    std::sort(out.begin(), out.end(), [](const Prepared& a, const Prepared& b) {
        const int ra = dtypeSortRank(a.dtype), rb = dtypeSortRank(b.dtype);
        return ra != rb ? ra > rb : a.name < b.name;
    });
    return out;
}

std::string headerJson(const std::vector<Prepared>& sorted, const std::map<std::string, std::string>& metadata) {
    std::string s = "{";
    bool first = true;
    if (!metadata.empty()) {
        s += "\"__metadata__\":" + nlohmann::json(metadata).dump();
        first = false;
    }
    uint64_t offset = 0;
    for (const auto& p : sorted) {
        if (!first) s += ",";
        first = false;
        s += nlohmann::json(p.name).dump();
        s += ":{\"dtype\":\"";
        s += dtypeName(p.dtype);
        s += "\",\"shape\":[";
        for (int64_t d = 0; d < p.tensor.dim(); ++d) {
            if (d) s += ",";
            s += std::to_string(p.tensor.size(d));
        }
        s += "],\"data_offsets\":[" + std::to_string(offset) + "," + std::to_string(offset + p.bytes) + "]}";
        offset += p.bytes;
    }
    s += "}";
    return s;
}

void writePrepared(const std::string& path, const std::vector<Prepared>& sorted,
                   const std::map<std::string, std::string>& metadata) {
    std::string header = headerJson(sorted, metadata);
    header.append((8 - header.size() % 8) % 8, ' ');
    uint8_t len[8];
    uint64_t n = header.size();
    for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(n >> (8 * i));
    AtomicFile f(path);
    f.write(len, 8);
    f.write(header.data(), header.size());
    for (const auto& p : sorted)
        if (p.bytes) f.write(p.tensor.data_ptr(), p.bytes);
    f.commit();
}

std::string shardName(size_t i, size_t n) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "model-%05zu-of-%05zu.safetensors", i + 1, n);
    return buf;
}

}  // namespace

void writeSafetensors(const std::string& path, const NamedTensors& tensors,
                      const std::map<std::string, std::string>& metadata) {
    writePrepared(path, prepare(tensors, path), metadata);
}

std::vector<std::string> writeCheckpointWeights(const std::string& folder, const NamedTensors& tensors,
                                                const SafetensorsWriteOptions& options) {
    namespace fs = std::filesystem;
    XOPD_CHECK(fs::is_directory(folder), "'" << folder << "': not a folder");
    std::vector<Prepared> all = prepare(tensors, folder);
    uint64_t total = 0;
    for (const auto& p : all) total += p.bytes;
    const fs::path dir(folder);
    const std::string index_name = "model.safetensors.index.json";

    if (options.max_shard_bytes == 0 || total <= options.max_shard_bytes) {
        writePrepared((dir / "model.safetensors").string(), all, options.metadata);
        std::error_code ec;
        fs::remove(dir / index_name, ec);  // a stale index would shadow the single file
        return {"model.safetensors"};
    }

    // Greedy split in name order (like huggingface_hub's split_torch_state_dict_into_shards).
    std::vector<Prepared> by_name = all;
    std::sort(by_name.begin(), by_name.end(), [](const Prepared& a, const Prepared& b) { return a.name < b.name; });
    std::vector<std::vector<Prepared>> shards(1);
    uint64_t current = 0;
    for (auto& p : by_name) {
        if (!shards.back().empty() && current + p.bytes > options.max_shard_bytes) {
            shards.emplace_back();
            current = 0;
        }
        shards.back().push_back(p);
        current += p.bytes;
    }
    std::vector<std::string> written;
    nlohmann::json weight_map = nlohmann::json::object();
    for (size_t i = 0; i < shards.size(); ++i) {
        auto& shard = shards[i];
        std::sort(shard.begin(), shard.end(), [](const Prepared& a, const Prepared& b) {
            const int ra = dtypeSortRank(a.dtype), rb = dtypeSortRank(b.dtype);
            return ra != rb ? ra > rb : a.name < b.name;
        });
        const std::string name = shardName(i, shards.size());
        writePrepared((dir / name).string(), shard, options.metadata);
        for (const auto& p : shard) weight_map[p.name] = name;
        written.push_back(name);
    }
    nlohmann::json index = {{"metadata", {{"total_size", total}}}, {"weight_map", weight_map}};
    writeJsonFileAtomic((dir / index_name).string(), index);
    std::error_code ec;
    fs::remove(dir / "model.safetensors", ec);  // a stale single file would be ambiguous
    written.push_back(index_name);
    return written;
}

}  // namespace xopd
