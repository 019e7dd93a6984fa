#include "core/text/ChatTemplate.h"

#include "core/common/Error.h"
#include "core/common/Json.h"

#include <filesystem>

namespace xopd::text {

const char* const kOmniSpeechSystemPrompt =
    "You are Qwen, a virtual human developed by the Qwen Team, Alibaba Group, capable of perceiving "
    "auditory and visual inputs, as well as generating text and speech.";

namespace {

constexpr const char* kHelpful = "You are a helpful assistant.";
constexpr const char* kQwen25System = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.";
constexpr int32_t kImEnd = 151645;
constexpr int32_t kEndOfText = 151643;

struct KindName {
    ChatTemplateKind kind;
    const char* name;
};
constexpr KindName kNames[] = {
    {ChatTemplateKind::Qwen2Instruct, "qwen2-instruct"},
    {ChatTemplateKind::Qwen25Instruct, "qwen2.5-instruct"},
    {ChatTemplateKind::Qwen2AudioInstruct, "qwen2-audio-instruct"},
    {ChatTemplateKind::Qwen25Omni, "qwen2.5-omni"},
    {ChatTemplateKind::ChatMl, "chatml"},
};

bool contains(const std::string& s, const char* what) { return s.find(what) != std::string::npos; }

void appendAudio(std::string& out, int tokens) {
    XOPD_CHECK(tokens >= 1, "chat template: an audio item needs at least 1 audio token (got " << tokens << ")");
    out += "<|audio_bos|>";
    out.reserve(out.size() + static_cast<size_t>(tokens) * 9 + 16);
    for (int i = 0; i < tokens; ++i) out += "<|AUDIO|>";
    out += "<|audio_eos|>";
}

}  // namespace

const char* chatTemplateName(ChatTemplateKind kind) {
    for (const KindName& k : kNames)
        if (k.kind == kind) return k.name;
    return "invalid";
}

ChatTemplateKind chatTemplateFromName(const std::string& name) {
    for (const KindName& k : kNames)
        if (name == k.name) return k.kind;
    return ChatTemplateKind::Invalid;
}

std::vector<int32_t> chatStopTokenIds(ChatTemplateKind kind) {
    XOPD_CHECK(kind != ChatTemplateKind::Invalid, "chat template: no template kind given");
    return {kImEnd, kEndOfText};
}

int audioTokenCount(int64_t mel_frames) {
    XOPD_CHECK(mel_frames >= 1, "audio token count: a clip needs at least 1 mel frame (got " << mel_frames << ")");
    const int64_t t1 = (mel_frames - 1) / 2 + 1;
    return static_cast<int>((t1 - 2) / 2 + 1);
}

std::string renderChat(ChatTemplateKind kind, const std::vector<ChatMessage>& messages,
                       const ChatRenderOptions& options) {
    XOPD_CHECK(kind != ChatTemplateKind::Invalid, "chat template: no template kind given");
    const bool audioOk = kind == ChatTemplateKind::Qwen2AudioInstruct || kind == ChatTemplateKind::Qwen25Omni;
    std::string defaultSystem = options.default_system;
    if (defaultSystem.empty() && kind != ChatTemplateKind::ChatMl)
        defaultSystem = kind == ChatTemplateKind::Qwen25Instruct ? kQwen25System : kHelpful;

    std::string out;
    if ((messages.empty() || messages[0].role != "system") && !defaultSystem.empty())
        out += "<|im_start|>system\n" + defaultSystem + "<|im_end|>\n";
    int audioIndex = 0;
    for (const ChatMessage& m : messages) {
        out += "<|im_start|>";
        out += m.role;
        out += "\n";
        for (const ChatContent& c : m.content) {
            if (c.type == ChatContent::Type::Text) {
                out += c.text;
                continue;
            }
            XOPD_CHECK(c.type == ChatContent::Type::Audio, "chat template: content item of unknown type");
            XOPD_CHECK(audioOk, "chat template " << chatTemplateName(kind) << " has no audio input (message role '"
                                                 << m.role << "')");
            ++audioIndex;
            if (kind == ChatTemplateKind::Qwen2AudioInstruct) {
                out += "Audio " + std::to_string(audioIndex) + ": ";
                appendAudio(out, c.audio_tokens);
                out += "\n";
            } else {
                appendAudio(out, c.audio_tokens);
            }
        }
        out += "<|im_end|>\n";
    }
    if (options.add_generation_prompt) out += "<|im_start|>assistant\n";
    return out;
}

ChatTemplateKind detectChatTemplate(const std::string& jinja, const std::string& model_type) {
    if (!jinja.empty()) {
        if (contains(jinja, "<|AUDIO|>")) {
            // Omni's template numbers audio only with add_audio_id and also has vision items.
            if (contains(jinja, "add_audio_id") || contains(jinja, "<|vision_bos|>")) return ChatTemplateKind::Qwen25Omni;
            return ChatTemplateKind::Qwen2AudioInstruct;
        }
        if (contains(jinja, "You are Qwen, created by Alibaba Cloud")) return ChatTemplateKind::Qwen25Instruct;
        if (contains(jinja, "<|im_start|>")) {
            if (contains(jinja, kHelpful)) return ChatTemplateKind::Qwen2Instruct;
            return ChatTemplateKind::ChatMl;
        }
    }
    if (model_type == "qwen2_audio") return ChatTemplateKind::Qwen2AudioInstruct;
    if (model_type == "qwen2_5_omni" || model_type == "qwen2_5_omni_thinker") return ChatTemplateKind::Qwen25Omni;
    if (model_type == "qwen2") return ChatTemplateKind::Qwen2Instruct;
    if (model_type == "qwen3") return ChatTemplateKind::ChatMl;
    return ChatTemplateKind::Invalid;
}

ChatTemplateKind detectChatTemplateInFolder(const std::string& folder) {
    namespace fs = std::filesystem;
    const fs::path dir(folder);
    std::string jinja;
    auto templateOf = [](const nlohmann::json& doc) -> std::string {
        if (!doc.contains("chat_template")) return {};
        const auto& t = doc["chat_template"];
        if (t.is_string()) return t.get<std::string>();
        if (t.is_array())  // [{"name": "default", "template": "..."}, ...]
            for (const auto& e : t)
                if (e.is_object() && e.value("name", "") == "default" && e.contains("template") && e["template"].is_string())
                    return e["template"].get<std::string>();
        return {};
    };
    if (fs::exists(dir / "tokenizer_config.json")) jinja = templateOf(readJsonFile((dir / "tokenizer_config.json").string()));
    if (jinja.empty() && fs::exists(dir / "chat_template.json"))
        jinja = templateOf(readJsonFile((dir / "chat_template.json").string()));
    if (jinja.empty() && fs::exists(dir / "chat_template.jinja")) jinja = readTextFile((dir / "chat_template.jinja").string());
    std::string modelType;
    if (fs::exists(dir / "config.json")) {
        const auto config = readJsonFile((dir / "config.json").string());
        modelType = config.value("model_type", "");
    }
    return detectChatTemplate(jinja, modelType);
}

}  // namespace xopd::text
