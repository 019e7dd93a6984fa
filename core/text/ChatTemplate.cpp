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
    {ChatTemplateKind::Qwen3, "qwen3"},
    {ChatTemplateKind::Qwen3Thinking, "qwen3-thinking"},
    {ChatTemplateKind::Qwen3Instruct2507, "qwen3-instruct-2507"},
    {ChatTemplateKind::Qwen3Omni, "qwen3-omni"},
};

/// Templates without a default system message (Qwen3's and plain ChatML).
bool noDefaultSystem(ChatTemplateKind k) {
    return k == ChatTemplateKind::ChatMl || k == ChatTemplateKind::Qwen3 || k == ChatTemplateKind::Qwen3Thinking ||
           k == ChatTemplateKind::Qwen3Instruct2507 || k == ChatTemplateKind::Qwen3Omni;
}

bool contains(const std::string& s, const char* what) { return s.find(what) != std::string::npos; }

void appendAudio(std::string& out, int tokens, const char* start = "<|audio_bos|>", const char* pad = "<|AUDIO|>",
                 const char* end = "<|audio_eos|>") {
    XOPD_CHECK(tokens >= 1, "chat template: an audio item needs at least 1 audio token (got " << tokens << ")");
    out += start;
    out.reserve(out.size() + static_cast<size_t>(tokens) * std::char_traits<char>::length(pad) + 32);
    for (int i = 0; i < tokens; ++i) out += pad;
    out += end;
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
    const bool audioOk = chatTemplateHasAudio(kind);
    std::string defaultSystem = options.default_system;
    if (defaultSystem.empty() && !noDefaultSystem(kind))
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
            } else if (kind == ChatTemplateKind::Qwen3Omni) {
                appendAudio(out, c.audio_tokens, "<|audio_start|>", "<|audio_pad|>", "<|audio_end|>");
            } else {
                appendAudio(out, c.audio_tokens);
            }
        }
        out += "<|im_end|>\n";
    }
    if (options.add_generation_prompt) {
        out += "<|im_start|>assistant\n";
        if (kind == ChatTemplateKind::Qwen3) out += "<think>\n\n</think>\n\n";  // enable_thinking=False
    }
    return out;
}

std::string expandAudioPlaceholders(const std::string& prompt, const std::string& placeholder,
                                    const std::vector<int>& tokens_per_clip) {
    XOPD_CHECK(!placeholder.empty(), "raw prompt: the model has no audio placeholder token");
    std::vector<size_t> at;
    for (size_t p = prompt.find(placeholder); p != std::string::npos; p = prompt.find(placeholder, p + placeholder.size()))
        at.push_back(p);
    if (at.empty()) return prompt;
    XOPD_CHECK(at.size() == tokens_per_clip.size(), "raw prompt: " << at.size() << " " << placeholder << " placeholder(s) but "
                                                                    << tokens_per_clip.size()
                                                                    << " audio clip(s); give one placeholder per --audio");
    std::string out;
    size_t from = 0;
    for (size_t i = 0; i < at.size(); ++i) {
        XOPD_CHECK(tokens_per_clip[i] >= 1, "raw prompt: audio clip " << i + 1 << " has no audio tokens");
        out.append(prompt, from, at[i] - from);
        for (int k = 0; k < tokens_per_clip[i]; ++k) out += placeholder;
        from = at[i] + placeholder.size();
    }
    out.append(prompt, from, std::string::npos);
    return out;
}

bool chatTemplateHasAudio(ChatTemplateKind kind) {
    return kind == ChatTemplateKind::Qwen2AudioInstruct || kind == ChatTemplateKind::Qwen25Omni ||
           kind == ChatTemplateKind::Qwen3Omni;
}

ChatTemplateKind chatTemplateOfModelType(const std::string& model_type) {
    if (model_type == "qwen2_audio") return ChatTemplateKind::Qwen2AudioInstruct;
    if (model_type == "qwen2_5_omni" || model_type == "qwen2_5_omni_thinker") return ChatTemplateKind::Qwen25Omni;
    if (model_type == "qwen3_omni_moe" || model_type == "qwen3_omni_moe_thinker") return ChatTemplateKind::Qwen3Omni;
    if (model_type == "qwen2") return ChatTemplateKind::Qwen2Instruct;
    // Without its template a Qwen3 folder cannot tell hybrid from Instruct-2507; both render one
    // user turn the same without the think block.
    if (model_type == "qwen3" || model_type == "qwen3_moe") return ChatTemplateKind::ChatMl;
    return ChatTemplateKind::Invalid;
}

ChatTemplateKind detectChatTemplate(const std::string& jinja, const std::string& model_type) {
    if (!jinja.empty()) {
        if (contains(jinja, "<|AUDIO|>")) {
            // Omni's template numbers audio only with add_audio_id and also has vision items.
            if (contains(jinja, "add_audio_id") || contains(jinja, "<|vision_bos|>")) return ChatTemplateKind::Qwen25Omni;
            return ChatTemplateKind::Qwen2AudioInstruct;
        }
        // Qwen3-Omni: audio items as <|audio_start|><|audio_pad|><|audio_end|>; hybrid Qwen3: the
        // enable_thinking switch (the Instruct-2507 template has none: plain ChatML below).
        if (contains(jinja, "<|audio_start|>") || contains(jinja, "<|audio_pad|>")) return ChatTemplateKind::Qwen3Omni;
        if (contains(jinja, "enable_thinking")) return ChatTemplateKind::Qwen3;
        if (contains(jinja, "You are Qwen, created by Alibaba Cloud")) return ChatTemplateKind::Qwen25Instruct;
        if (contains(jinja, "<|im_start|>")) {
            if (contains(jinja, kHelpful)) return ChatTemplateKind::Qwen2Instruct;
            return ChatTemplateKind::ChatMl;
        }
    }
    return chatTemplateOfModelType(model_type);
}

ChatTemplateKind detectChatTemplateInFolder(const std::string& folder, std::string* warning) {
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
    const ChatTemplateKind found = detectChatTemplate(jinja, modelType);
    const ChatTemplateKind byType = chatTemplateOfModelType(modelType);
    if (chatTemplateHasAudio(byType) && !chatTemplateHasAudio(found)) {  // e.g. a text template in an Omni folder
        if (warning)
            *warning = "'" + folder + "': its chat template (" + chatTemplateName(found) + ") has no audio input; using " +
                       chatTemplateName(byType) + ", the template of model_type '" + modelType + "'";
        return byType;
    }
    return found;
}

}  // namespace xopd::text
