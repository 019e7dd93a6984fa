#pragma once
// Chat templates of the Qwen family, written out by hand (no Jinja engine): they render a list of
// messages to the prompt text that the model was trained on, with every <|AUDIO|> placeholder
// already expanded to the number of audio tokens of its clip (25 per second; see
// audioTokenCount()). The text is then encoded with Tokenizer::encode(), which matches the
// special tokens whole.
//
//   kind                 default system message (when messages[0] is not "system")
//   Qwen2Instruct        "You are a helpful assistant."
//   Qwen25Instruct       "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."
//   Qwen2AudioInstruct   "You are a helpful assistant."; audio items render as
//                        "Audio k: <|audio_bos|><|AUDIO|>…<|audio_eos|>\n" (k from 1 over the chat)
//   Qwen25Omni           "You are a helpful assistant." (the hub template's default; pass
//                        kOmniSpeechSystemPrompt as a system message for speech output); audio
//                        items render as "<|audio_bos|><|AUDIO|>…<|audio_eos|>"
//   ChatMl               no default system message (Qwen3-style ChatML, no thinking blocks)
//   Qwen3                hybrid Qwen3 with thinking off: no default system message; the generation
//                        prompt ends with the empty think block "<think>\n\n</think>\n\n" that its
//                        template writes for enable_thinking=False (docs/models/qwen3-chat-templates.md)
//   Qwen3Thinking        hybrid Qwen3 with thinking on: plain generation prompt (the model thinks)
//   Qwen3Instruct2507    Qwen3-*-Instruct-2507: no system message, no think block ever
//   Qwen3Omni            Qwen3-Omni thinker: no default system message, no think block; audio items
//                        render as "<|audio_start|><|audio_pad|>…<|audio_end|>"
//
// Every message renders as "<|im_start|>{role}\n{content}<|im_end|>\n"; add_generation_prompt
// appends "<|im_start|>assistant\n". Pure functions, thread-safe. No LibTorch, no Qt.

#include <cstdint>
#include <string>
#include <vector>

namespace xopd::text {

/// Which hand-written template to use. Zero is invalid.
enum class ChatTemplateKind {
    Invalid = 0,
    Qwen2Instruct,
    Qwen25Instruct,
    Qwen2AudioInstruct,
    Qwen25Omni,
    ChatMl,
    Qwen3,
    Qwen3Thinking,
    Qwen3Instruct2507,
    Qwen3Omni,
};

/// Stable name of a kind ("qwen2-instruct", "qwen2.5-instruct", "qwen2-audio-instruct",
/// "qwen2.5-omni", "chatml", "qwen3", "qwen3-thinking", "qwen3-instruct-2507", "qwen3-omni", "invalid").
const char* chatTemplateName(ChatTemplateKind kind);
/// Inverse of chatTemplateName(); Invalid for an unknown name.
ChatTemplateKind chatTemplateFromName(const std::string& name);

/// One part of a message: text, or one audio clip standing for `audio_tokens` <|AUDIO|> tokens.
struct ChatContent {
    enum class Type { Text = 1, Audio = 2 };
    /// Text or Audio.
    Type type = Type::Text;
    /// The text of a Text item.
    std::string text;
    /// Number of audio tokens of an Audio item (audioTokenCount() of its mel frames); >= 1.
    int audio_tokens = 0;

    static ChatContent makeText(std::string t) { return {Type::Text, std::move(t), 0}; }
    static ChatContent makeAudio(int tokens) { return {Type::Audio, std::string(), tokens}; }
};

/// One chat message.
struct ChatMessage {
    /// "system", "user" or "assistant" (any role is rendered as given).
    std::string role;
    /// Its parts in order; a plain string message is one Text part.
    std::vector<ChatContent> content;

    static ChatMessage text(std::string role, std::string text) {
        return {std::move(role), {ChatContent::makeText(std::move(text))}};
    }
};

/// Options of renderChat().
struct ChatRenderOptions {
    /// Append "<|im_start|>assistant\n" so the model answers next.
    bool add_generation_prompt = true;
    /// Replace the template's default system message (empty: the template's own).
    std::string default_system;
};

/// The Qwen2.5-Omni system prompt that its processor expects for speech output.
extern const char* const kOmniSpeechSystemPrompt;

/// Stop tokens of every template here: <|im_end|> 151645 and <|endoftext|> 151643.
std::vector<int32_t> chatStopTokenIds(ChatTemplateKind kind);

/// Number of <|AUDIO|> tokens for a clip with `mel_frames` valid mel frames (100 per second):
/// T1 = (L-1)/2 + 1, n = (T1-2)/2 + 1, i.e. 25 per second. Throws xopd::Error for L < 1.
int audioTokenCount(int64_t mel_frames);

/// Renders messages. Throws xopd::Error for an Invalid kind, an Audio item in a template without
/// audio (Qwen2Instruct, Qwen25Instruct, ChatMl) or an Audio item with fewer than 1 token.
std::string renderChat(ChatTemplateKind kind, const std::vector<ChatMessage>& messages,
                       const ChatRenderOptions& options = {});

/// A raw prompt (no template) that holds the model's audio placeholder (`<|AUDIO|>`,
/// `<|audio_pad|>`) once per clip gets each occurrence replaced by tokens_per_clip[i] copies, where
/// it stands, as Hugging Face processors do (so any prompt layout can be given exactly). Throws
/// xopd::Error with both counts when the placeholders and the clips differ in number. A prompt with
/// no placeholder is returned unchanged.
std::string expandAudioPlaceholders(const std::string& prompt, const std::string& placeholder,
                                    const std::vector<int>& tokens_per_clip);

/// Detects the template from a chat_template (Jinja source from tokenizer_config.json) and, when
/// that is empty or unknown, from config.json's model_type. Invalid when neither decides.
ChatTemplateKind detectChatTemplate(const std::string& jinja_source, const std::string& model_type);

/// The template a model_type implies when its folder says nothing (Invalid for an unknown type).
ChatTemplateKind chatTemplateOfModelType(const std::string& model_type);

/// True when the template renders audio items.
bool chatTemplateHasAudio(ChatTemplateKind kind);

/// Detects the template of a model folder: chat_template of tokenizer_config.json,
/// chat_template.json or chat_template.jinja, then model_type of config.json. Invalid when none.
/// A speech model (model_type with audio) whose folder template has no audio input falls back to
/// its model type's template, and `warning` (when given) says so, instead of refusing audio later.
/// Throws xopd::Error naming a file that exists but is not valid JSON.
ChatTemplateKind detectChatTemplateInFolder(const std::string& folder, std::string* warning = nullptr);

}  // namespace xopd::text
