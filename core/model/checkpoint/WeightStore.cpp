#include "core/model/checkpoint/WeightStore.h"

#include "core/common/Error.h"
#include "core/common/Json.h"
#include "core/common/Tensors.h"
#include "core/model/checkpoint/SafetensorsFile.h"

#include <filesystem>

namespace xopd {

namespace fs = std::filesystem;

struct WeightStore::State {
    std::string source = "<memory>";
    std::string index_file;
    std::string index_metadata;
    std::vector<std::string> shard_files;
    std::vector<std::shared_ptr<SafetensorsFile>> shards;
    std::vector<std::string> unmapped;
    struct Entry {
        WeightLocation location;
        int shard = -1;         // index into shards, -1 for in-memory
        torch::Tensor memory;   // in-memory tensor
    };
    std::map<std::string, Entry> entries;
};

WeightStore::WeightStore() : state_(std::make_shared<State>()) {}

WeightStore WeightStore::open(const std::string& path) {
    std::error_code ec;
    XOPD_CHECK(fs::exists(path, ec), "'" << path << "': no such file or folder");
    auto openSingle = [](const std::string& source, const std::string& file) {
        auto s = std::make_shared<State>();
        s->source = source;
        s->shard_files.push_back(file);
        s->shards.push_back(SafetensorsFile::open(file));
        for (const auto& t : s->shards[0]->header().tensors) s->entries[t.name] = {{t, file}, 0, {}};
        return s;
    };
    std::string index;
    if (fs::is_directory(path)) {
        const fs::path dir(path);
        if (fs::exists(dir / "model.safetensors.index.json")) {
            index = (dir / "model.safetensors.index.json").string();
        } else if (fs::exists(dir / "model.safetensors")) {
            WeightStore w;
            w.state_ = openSingle(path, (dir / "model.safetensors").string());
            return w;
        } else {
            XOPD_FAIL("'" << path << "': no model.safetensors or model.safetensors.index.json in this folder");
        }
    } else if (path.size() >= 5 && path.compare(path.size() - 5, 5, ".json") == 0) {
        index = path;
    } else {
        WeightStore w;
        w.state_ = openSingle(path, path);
        return w;
    }

    auto s = std::make_shared<State>();
    s->source = path;
    s->index_file = index;
    const nlohmann::json j = readJsonFile(index);
    XOPD_CHECK(j.is_object() && j.contains("weight_map") && j["weight_map"].is_object(),
               "'" << index << "': not a safetensors index (no \"weight_map\" object)");
    if (j.contains("metadata")) s->index_metadata = j["metadata"].dump();
    XOPD_CHECK(!j["weight_map"].empty(), "'" << index << "': the weight_map is empty");
    const fs::path dir = fs::path(index).parent_path();
    std::map<std::string, int> shard_of_file;
    for (auto it = j["weight_map"].begin(); it != j["weight_map"].end(); ++it) {
        XOPD_CHECK(it->is_string(), "'" << index << "': weight_map entry '" << it.key() << "' is not a file name");
        const std::string file = it->get<std::string>();
        XOPD_CHECK(!file.empty() && file.find('/') == std::string::npos && file != "." && file != "..",
                   "'" << index << "': weight_map entry '" << it.key() << "' names '" << file
                       << "', which is not a file name in the same folder");
        if (!shard_of_file.count(file)) {
            const std::string shard_path = (dir / file).string();
            XOPD_CHECK(fs::exists(shard_path), "'" << index << "': shard '" << file << "' (holding '" << it.key()
                                                   << "') is missing: " << shard_path);
            shard_of_file[file] = static_cast<int>(s->shards.size());
            s->shard_files.push_back(shard_path);
            s->shards.push_back(SafetensorsFile::open(shard_path));
        }
        const int shard = shard_of_file[file];
        const auto& sf = *s->shards[static_cast<size_t>(shard)];
        XOPD_CHECK(sf.has(it.key()), "'" << index << "': tensor '" << it.key() << "' is mapped to '" << file
                                         << "' but that shard has no such tensor");
        s->entries[it.key()] = {{sf.info(it.key()), sf.path()}, shard, {}};
    }
    // Tensors a shard holds but the index does not list: kept (HF loads whole shards) and reported.
    for (size_t i = 0; i < s->shards.size(); ++i) {
        for (const auto& t : s->shards[i]->header().tensors) {
            auto found = s->entries.find(t.name);
            if (found == s->entries.end()) {
                s->entries[t.name] = {{t, s->shards[i]->path()}, static_cast<int>(i), {}};
                s->unmapped.push_back(t.name);
            } else if (found->second.shard != static_cast<int>(i)) {
                XOPD_FAIL("'" << index << "': tensor '" << t.name << "' is held by two shards: '"
                              << found->second.location.file << "' and '" << s->shards[i]->path() << "'");
            }
        }
    }
    WeightStore w;
    w.state_ = s;
    return w;
}

WeightStore WeightStore::fromTensors(const std::vector<std::pair<std::string, torch::Tensor>>& tensors) {
    auto s = std::make_shared<State>();
    for (const auto& [name, t] : tensors) {
        XOPD_CHECK(!s->entries.count(name), "<memory>: tensor '" << name << "' given twice");
        XOPD_CHECK(t.defined(), "<memory>: tensor '" << name << "' is undefined");
        TensorInfo info;
        info.name = name;
        info.dtype = safetensorsDtype(t.scalar_type());
        info.shape = t.sizes().vec();
        info.end = static_cast<uint64_t>(t.numel()) * t.element_size();
        s->entries[name] = {{info, ""}, -1, t};
    }
    WeightStore w;
    w.state_ = s;
    return w;
}

bool WeightStore::has(const std::string& name) const { return state_->entries.count(name) > 0; }

const WeightLocation& WeightStore::location(const std::string& name) const {
    auto it = state_->entries.find(name);
    XOPD_CHECK(it != state_->entries.end(), "'" << state_->source << "': no tensor named '" << name << "'");
    return it->second.location;
}

torch::Tensor WeightStore::get(const std::string& name) const {
    auto it = state_->entries.find(name);
    XOPD_CHECK(it != state_->entries.end(), "'" << state_->source << "': no tensor named '" << name << "'");
    const auto& e = it->second;
    if (e.shard < 0) return e.memory;
    return state_->shards[static_cast<size_t>(e.shard)]->tensor(name);
}

std::vector<std::string> WeightStore::names() const {
    std::vector<std::string> out;
    out.reserve(state_->entries.size());
    for (const auto& [name, e] : state_->entries) out.push_back(name);
    return out;
}

std::vector<std::string> WeightStore::namesWithPrefix(const std::string& prefix) const {
    std::vector<std::string> out;
    for (auto it = state_->entries.lower_bound(prefix); it != state_->entries.end(); ++it) {
        if (it->first.compare(0, prefix.size(), prefix) != 0) break;
        out.push_back(it->first);
    }
    return out;
}

bool WeightStore::hasPrefix(const std::string& prefix) const {
    auto it = state_->entries.lower_bound(prefix);
    return it != state_->entries.end() && it->first.compare(0, prefix.size(), prefix) == 0;
}

size_t WeightStore::size() const { return state_->entries.size(); }

int64_t WeightStore::parameterCount(const std::string& prefix) const {
    int64_t n = 0;
    for (auto it = state_->entries.lower_bound(prefix); it != state_->entries.end(); ++it) {
        if (it->first.compare(0, prefix.size(), prefix) != 0) break;
        n += it->second.location.info.numel();
    }
    return n;
}

uint64_t WeightStore::dataBytes() const {
    uint64_t n = 0;
    for (const auto& [name, e] : state_->entries) n += e.location.info.byteSize();
    return n;
}

const std::string& WeightStore::source() const { return state_->source; }
const std::vector<std::string>& WeightStore::shardFiles() const { return state_->shard_files; }
const std::string& WeightStore::indexFile() const { return state_->index_file; }
const std::string& WeightStore::indexMetadataJson() const { return state_->index_metadata; }
const std::vector<std::string>& WeightStore::unmappedNames() const { return state_->unmapped; }

std::map<std::string, int64_t> WeightStore::dtypeCounts() const {
    std::map<std::string, int64_t> out;
    for (const auto& [name, e] : state_->entries) ++out[dtypeName(e.location.info.dtype)];
    return out;
}

}  // namespace xopd
