#include "core/model/checkpoint/InspectSummary.h"

#include "core/model/checkpoint/ModelBudget.h"
#include "core/model/checkpoint/TokenizerChecks.h"

#include "core/common/Error.h"
#include "core/common/Json.h"
#include "core/model/checkpoint/CheckpointLayout.h"
#include "core/model/checkpoint/ModelConfig.h"
#include "core/model/checkpoint/WeightChecks.h"
#include "core/model/checkpoint/WeightStore.h"
#include "core/text/Tokenizer.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <iomanip>
#include <sstream>

namespace xopd {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

json optionalId(const std::optional<int64_t>& v) { return v ? json(*v) : json(nullptr); }

json configJson(const ModelConfig& c) {
    const TextModelConfig& t = c.text;
    json j = {{"architecture", architectureName(c.architecture)},
              {"model_type", c.model_type},
              {"architectures", c.architectures},
              {"weight_prefix", c.weight_prefix},
              {"text",
               {{"layers", t.num_hidden_layers},
                {"hidden_size", t.hidden_size},
                {"intermediate_size", t.intermediate_size},
                {"heads", t.num_attention_heads},
                {"kv_heads", t.num_key_value_heads},
                {"head_dim", t.head_dim},
                {"vocab_size", t.vocab_size},
                {"rope_theta", t.rope_theta},
                {"rms_norm_eps", t.rms_norm_eps},
                {"max_position_embeddings", t.max_position_embeddings},
                {"tie_word_embeddings", t.tie_word_embeddings},
                {"hidden_act", t.hidden_act},
                {"bos_token_id", optionalId(t.bos_token_id)},
                {"eos_token_ids", t.eos_token_ids},
                {"dtype", t.dtype}}}};
    if (t.moe.enabled()) {
        const MixtureOfExperts& m = t.moe;
        int64_t sparse = 0;
        for (int64_t i = 0; i < t.num_hidden_layers; ++i) sparse += m.isSparseLayer(i) ? 1 : 0;
        j["text"]["moe"] = {{"num_experts", m.num_experts},
                            {"num_experts_per_tok", m.num_experts_per_tok},
                            {"moe_intermediate_size", m.moe_intermediate_size},
                            {"norm_topk_prob", m.norm_topk_prob},
                            {"decoder_sparse_step", m.decoder_sparse_step},
                            {"mlp_only_layers", m.mlp_only_layers},
                            {"sparse_layers", sparse}};
    }
    if (c.audio) {
        const AudioEncoderConfig& a = *c.audio;
        j["audio"] = {{"model_type", a.model_type},   {"layers", a.encoder_layers},
                      {"d_model", a.d_model},         {"heads", a.encoder_attention_heads},
                      {"ffn_dim", a.encoder_ffn_dim}, {"num_mel_bins", a.num_mel_bins},
                      {"max_source_positions", a.max_source_positions},
                      {"n_window", a.n_window},       {"output_dim", a.output_dim},
                      {"activation", a.activation_function}};
        j["special_ids"] = {{"audio", optionalId(c.special.audio_token_id)},
                            {"audio_start", optionalId(c.special.audio_start_token_id)},
                            {"audio_end", optionalId(c.special.audio_end_token_id)}};
    }
    return j;
}

std::string readChatTemplate(const fs::path& dir, std::string* where) {
    if (fs::exists(dir / "chat_template.jinja")) {
        *where = "chat_template.jinja";
        return readTextFile((dir / "chat_template.jinja").string());
    }
    if (fs::exists(dir / "chat_template.json")) {
        const json j = readJsonFile((dir / "chat_template.json").string());
        if (j.is_object() && j.contains("chat_template") && j["chat_template"].is_string()) {
            *where = "chat_template.json";
            return j["chat_template"].get<std::string>();
        }
    }
    if (fs::exists(dir / "tokenizer_config.json")) {
        const json j = readJsonFile((dir / "tokenizer_config.json").string());
        if (j.is_object() && j.contains("chat_template")) {
            const json& t = j["chat_template"];
            *where = "tokenizer_config.json";
            if (t.is_string()) return t.get<std::string>();
            if (t.is_array()) {  // [{"name": "default", "template": "..."}, ...]
                for (const auto& e : t)
                    if (e.is_object() && e.value("name", "") == "default" && e.contains("template") &&
                        e["template"].is_string())
                        return e["template"].get<std::string>();
                for (const auto& e : t)
                    if (e.is_object() && e.contains("template") && e["template"].is_string())
                        return e["template"].get<std::string>();
            }
        }
    }
    where->clear();
    return {};
}

json tokenizerJson(const fs::path& dir) {
    json files = json::array();
    std::string kind = "none";
    if (fs::exists(dir / "tokenizer.json")) {
        files.push_back("tokenizer.json");
        kind = "tokenizer.json";
    }
    if (fs::exists(dir / "vocab.json") && fs::exists(dir / "merges.txt")) {
        files.push_back("vocab.json");
        files.push_back("merges.txt");
        if (kind == "none") kind = "vocab.json+merges.txt";
    }
    if (fs::exists(dir / "tokenizer_config.json")) files.push_back("tokenizer_config.json");
    std::string where;
    const std::string tmpl = readChatTemplate(dir, &where);
    return {{"present", kind != "none"},
            {"kind", kind},
            {"files", files},
            {"chat_template", tmpl.empty() ? "none" : chatTemplateKind(tmpl)},
            {"chat_template_file", where}};
}

std::string human(double bytes) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (bytes >= 1024 && u < 4) {
        bytes /= 1024;
        ++u;
    }
    std::ostringstream os;
    os << std::fixed << std::setprecision(u ? 2 : 0) << bytes << " " << units[u];
    return os.str();
}

std::string count(int64_t n) {
    std::ostringstream os;
    if (n >= 1'000'000'000) os << std::fixed << std::setprecision(2) << n / 1e9 << "B";
    else if (n >= 1'000'000) os << std::fixed << std::setprecision(2) << n / 1e6 << "M";
    else if (n >= 1'000) os << std::fixed << std::setprecision(1) << n / 1e3 << "K";
    else return std::to_string(n);
    return os.str() + " (" + std::to_string(n) + ")";
}

json parameterCountsJson(const ParameterCounts& p) {
    return {{"total", p.total},       {"active", p.active},         {"embedding", p.embedding},
            {"lm_head", p.lm_head},   {"attention", p.attention},   {"dense_mlp", p.dense_mlp},
            {"router", p.router},     {"experts", p.experts},       {"norms", p.norms},
            {"audio_encoder", p.audio_encoder}};
}

// A folder with a config.json and no weight files (or a config.json named directly): the config
// alone is inspected, e.g. the configs of models too large to download for sizing a run.
bool configOnly(const fs::path& path) {
    if (!fs::is_directory(path)) return path.filename() == "config.json";
    for (const auto& e : fs::directory_iterator(path))
        if (e.path().extension() == ".safetensors" || e.path().filename() == "model.safetensors.index.json") return false;
    return true;
}

}  // namespace

std::string chatTemplateKind(const std::string& t) {
    const bool audio = t.find("<|AUDIO|>") != std::string::npos || t.find("<|audio_bos|>") != std::string::npos;
    if (audio && t.find("<|vision_bos|>") != std::string::npos) return "qwen2.5-omni";
    if (audio) return "qwen2-audio";
    if (t.find("<|im_start|>") != std::string::npos) return "chatml";
    return "other";
}

json inspectCheckpoint(const std::string& path) {
    std::error_code ec;
    XOPD_CHECK(fs::exists(path, ec), "'" << path << "': no such file or folder");
    const bool folder = fs::is_directory(path);
    json report = {{"path", path}, {"kind", folder ? "folder" : "file"}, {"warnings", json::array()}};

    std::optional<ModelConfig> config;
    if (configOnly(path)) {
        const fs::path cfg = folder ? fs::path(path) / "config.json" : fs::path(path);
        XOPD_CHECK(fs::exists(cfg), "'" << cfg.string() << "': missing (a model folder needs config.json and weights)");
        config = loadModelConfig(cfg.string());
        report["kind"] = "config";
        report["config"] = configJson(*config);
        report["parameters_from_config"] = parameterCountsJson(parameterCountsOf(*config));
        report["checks"] = "config ok (no weights to check)";
        return report;
    }
    if (folder) {
        const fs::path cfg = fs::path(path) / "config.json";
        XOPD_CHECK(fs::exists(cfg), "'" << cfg.string() << "': missing (a model folder needs config.json)");
        config = loadModelConfig(cfg.string());
        report["config"] = configJson(*config);
        report["parameters_from_config"] = parameterCountsJson(parameterCountsOf(*config));
    }

    const WeightStore store = WeightStore::open(path);
    json shards = json::array();
    for (const auto& f : store.shardFiles()) {
        shards.push_back({{"file", fs::path(f).filename().string()}, {"bytes", fs::file_size(f)}});
    }
    json weights = {{"format", store.indexFile().empty() ? "single" : "sharded"},
                    {"index", store.indexFile().empty() ? "" : fs::path(store.indexFile()).filename().string()},
                    {"shards", shards},
                    {"tensors", store.size()},
                    {"data_bytes", store.dataBytes()},
                    {"dtypes", store.dtypeCounts()}};
    for (const auto& n : store.unmappedNames())
        report["warnings"].push_back("tensor '" + n + "' is in a shard but not in the index's weight_map");
    if (!store.indexMetadataJson().empty()) {
        const json meta = json::parse(store.indexMetadataJson());
        if (meta.is_object() && meta.contains("total_size") && meta["total_size"].is_number_unsigned() &&
            meta["total_size"].get<uint64_t>() != store.dataBytes())
            report["warnings"].push_back("index metadata total_size " + meta["total_size"].dump() +
                                         " differs from the tensor data size " + std::to_string(store.dataBytes()));
    }

    const int64_t total = store.parameterCount();
    json params = {{"total", total}};
    if (config) {
        auto has = [&](const std::string& n) { return store.has(n); };
        const CheckpointLayout layout = resolveCheckpointLayout(*config, has, path);
        auto shape = [&](const std::string& n) -> std::optional<std::vector<int64_t>> {
            if (!store.has(n)) return std::nullopt;
            return store.location(n).info.shape;
        };
        validateCheckpointShapes(*config, layout, shape, path);
        validateNoUnknownModelTensors(store, *config, layout, path);
        const auto unused = unusedTensorNames(store, layout);
        if (!unused.empty()) {
            std::string names;
            for (size_t i = 0; i < unused.size() && i < 3; ++i) names += (i ? ", '" : "'") + unused[i] + "'";
            report["warnings"].push_back(std::to_string(unused.size()) + " tensor(s) are not used by the model: " + names +
                                         (unused.size() > 3 ? ", ..." : ""));
        }
        validateCheckpointValues(store, layout, WeightScan::Full, path);  // what a load checks, on every value
        report["layout"] = {{"decoder_prefix", layout.decoder_prefix},
                            {"embed_tokens", layout.embed_tokens},
                            {"lm_head", layout.lm_head},
                            {"lm_head_tied", layout.lm_head_tied},
                            {"audio_tower_prefix", layout.audio_tower_prefix},
                            {"projector_prefix", layout.projector_prefix}};
        int64_t llm = store.parameterCount(layout.decoder_prefix);
        if (!layout.lm_head_tied) llm += store.location(layout.lm_head).info.numel();
        const int64_t tower = layout.audio_tower_prefix.empty() ? 0 : store.parameterCount(layout.audio_tower_prefix);
        const int64_t projector = layout.projector_prefix.empty() ? 0 : store.parameterCount(layout.projector_prefix);
        params["llm"] = llm;
        params["audio_tower"] = tower;
        params["projector"] = projector;
        params["other"] = total - llm - tower - projector;
        if (layout.lm_head_tied && !config->text.tie_word_embeddings)
            report["warnings"].push_back("no lm_head tensor although tie_word_embeddings is false: using " +
                                         layout.embed_tokens);
        report["tokenizer"] = tokenizerJson(fs::path(path));
        // The tokenizer the way generate and the trainer load it: the same checks, the same errors.
        if (report["tokenizer"]["present"].get<bool>()) {
            validateEosIds(config->text.eos_token_ids, config->text.vocab_size, text::Tokenizer::fromFile(path), path);
        }
    }
    weights["parameters"] = params;
    report["weights"] = weights;
    report["checks"] = "ok";
    return report;
}

namespace {

ModelConfig configAt(const std::string& path) {
    return loadModelConfig(fs::is_directory(path) ? (fs::path(path) / "config.json").string() : path);
}

json memoryJson(const MemoryNeed& m) {
    return {{"weights", m.weights},     {"trainable_parameters", m.trainable_parameters},
            {"gradients", m.gradients}, {"optimizer", m.optimizer},
            {"kv_cache", m.kv_cache},   {"activations", m.activations},
            {"total", m.total()}};
}

const char* trainingName(Training t) {
    return t == Training::Full ? "full" : t == Training::Lora ? "lora" : t == Training::Frozen ? "frozen" : "invalid";
}

}  // namespace

json memoryReport(const std::string& student_path, const std::string& teacher_path, const MemoryOptions& o) {
    json r = {{"batch", o.batch}, {"sequence_length", o.sequence_length}, {"weight_bytes", o.weight_bytes}};
    const ModelConfig student = configAt(student_path);
    r["student"] = memoryJson(memoryNeedOf(student, o));
    r["student"]["path"] = student_path;
    r["student"]["training"] = trainingName(o.training);
    r["student"]["parameters"] = parameterCountsJson(parameterCountsOf(student));
    int64_t total = r["student"]["total"].get<int64_t>();
    if (!teacher_path.empty()) {
        MemoryOptions t = o;
        t.training = Training::Frozen;
        const ModelConfig teacher = configAt(teacher_path);
        r["teacher"] = memoryJson(memoryNeedOf(teacher, t));
        r["teacher"]["path"] = teacher_path;
        r["teacher"]["training"] = "frozen";
        r["teacher"]["parameters"] = parameterCountsJson(parameterCountsOf(teacher));
        total += r["teacher"]["total"].get<int64_t>();
    }
    r["total"] = total;
    return r;
}

std::string formatMemoryReport(const json& r) {
    std::ostringstream os;
    os << "memory at batch " << r["batch"] << " x " << r["sequence_length"] << " tokens, " << r["weight_bytes"]
       << "-byte weights (activations are an estimate: see ModelBudget.h)\n";
    for (const char* who : {"student", "teacher"}) {
        if (!r.contains(who)) continue;
        const json& m = r[who];
        os << who << " (" << m["training"].get<std::string>() << "): " << m["path"].get<std::string>() << "\n"
           << "  parameters " << count(m["parameters"]["total"].get<int64_t>()) << ", active per token "
           << count(m["parameters"]["active"].get<int64_t>()) << "\n";
        for (const char* part : {"weights", "gradients", "optimizer", "kv_cache", "activations", "total"})
            os << "  " << std::left << std::setw(12) << part << human(m[part].get<double>()) << "\n";
    }
    os << "pair total: " << human(r["total"].get<double>()) << "\n";
    return os.str();
}

std::string formatInspectReport(const json& r) {
    std::ostringstream os;
    os << "path: " << r.value("path", "") << " (" << r.value("kind", "") << ")\n";
    if (r.contains("config")) {
        const json& c = r["config"];
        const json& t = c["text"];
        os << "architecture: " << c["architecture"].get<std::string>() << "  model_type: "
           << c["model_type"].get<std::string>();
        if (!c["architectures"].empty()) os << "  (" << c["architectures"][0].get<std::string>() << ")";
        os << "\n";
        if (t.contains("moe")) {
            const json& m = t["moe"];
            os << "experts: " << m["num_experts"] << " per sparse layer, " << m["num_experts_per_tok"]
               << " per token, width " << m["moe_intermediate_size"] << ", " << m["sparse_layers"] << " sparse layers"
               << (m["norm_topk_prob"].get<bool>() ? ", top-k renormalised" : "") << "\n";
        }
        os << "llm: layers " << t["layers"] << ", hidden " << t["hidden_size"] << ", heads " << t["heads"]
           << ", kv heads " << t["kv_heads"] << ", head dim " << t["head_dim"] << ", intermediate "
           << t["intermediate_size"] << ", vocab " << t["vocab_size"] << "\n";
        os << "     rope_theta " << t["rope_theta"] << ", rms_norm_eps " << t["rms_norm_eps"] << ", max positions "
           << t["max_position_embeddings"] << ", tied embeddings " << (t["tie_word_embeddings"].get<bool>() ? "yes" : "no")
           << ", eos " << t["eos_token_ids"].dump() << "\n";
        if (c.contains("audio")) {
            const json& a = c["audio"];
            os << "audio encoder: layers " << a["layers"] << ", d_model " << a["d_model"] << ", heads " << a["heads"]
               << ", ffn " << a["ffn_dim"] << ", mel bins " << a["num_mel_bins"] << ", max source positions "
               << a["max_source_positions"];
            if (a["n_window"].get<int64_t>() > 0) os << ", n_window " << a["n_window"];
            if (a["output_dim"].get<int64_t>() > 0) os << ", output dim " << a["output_dim"];
            os << ", " << a["activation"].get<std::string>() << "\n";
            os << "audio token id: " << c["special_ids"]["audio"].dump() << "\n";
        }
    }
    if (r.contains("parameters_from_config")) {
        const json& p = r["parameters_from_config"];
        os << "parameters (from config): " << count(p["total"].get<int64_t>()) << ", active per token "
           << count(p["active"].get<int64_t>()) << "\n";
    }
    if (!r.contains("weights")) {
        os << "weights: none (config only)\n";
        os << "checks: " << r.value("checks", "") << "\n";
        return os.str();
    }
    const json& w = r["weights"];
    os << "weights: " << w["format"].get<std::string>() << ", " << w["shards"].size() << " file(s), " << w["tensors"]
       << " tensors, " << human(w["data_bytes"].get<double>()) << "\n";
    for (const auto& s : w["shards"])
        os << "  " << s["file"].get<std::string>() << "  " << human(s["bytes"].get<double>()) << "\n";
    os << "dtypes:";
    for (auto it = w["dtypes"].begin(); it != w["dtypes"].end(); ++it) os << " " << it.key() << " x" << it.value();
    os << "\n";
    const json& p = w["parameters"];
    os << "parameters: " << count(p["total"].get<int64_t>()) << "\n";
    if (p.contains("llm")) {
        os << "  llm: " << count(p["llm"].get<int64_t>()) << "\n";
        if (p["audio_tower"].get<int64_t>() > 0) os << "  audio tower: " << count(p["audio_tower"].get<int64_t>()) << "\n";
        if (p["projector"].get<int64_t>() > 0) os << "  projector: " << count(p["projector"].get<int64_t>()) << "\n";
        if (p["other"].get<int64_t>() > 0) os << "  other: " << count(p["other"].get<int64_t>()) << "\n";
    }
    if (r.contains("layout")) {
        const json& l = r["layout"];
        os << "layout: decoder '" << l["decoder_prefix"].get<std::string>() << "', lm_head '"
           << l["lm_head"].get<std::string>() << "'" << (l["lm_head_tied"].get<bool>() ? " (tied)" : "");
        if (!l["audio_tower_prefix"].get<std::string>().empty())
            os << ", audio tower '" << l["audio_tower_prefix"].get<std::string>() << "'";
        if (!l["projector_prefix"].get<std::string>().empty())
            os << ", projector '" << l["projector_prefix"].get<std::string>() << "'";
        os << "\n";
    }
    if (r.contains("tokenizer")) {
        const json& t = r["tokenizer"];
        os << "tokenizer: " << t["kind"].get<std::string>() << ", chat template: " << t["chat_template"].get<std::string>();
        if (!t["chat_template_file"].get<std::string>().empty())
            os << " (" << t["chat_template_file"].get<std::string>() << ")";
        os << "\n";
    }
    for (const auto& m : r["warnings"]) os << "warning: " << m.get<std::string>() << "\n";
    os << "checks: " << r.value("checks", "") << "\n";
    return os.str();
}

}  // namespace xopd
