// CLI commands of the text group (see Commands.h):
//   xopd tokenize   --tokenizer FILE_OR_DIR (--text TEXT | --text-file FILE) [--chat [--template NAME]]
//   xopd detokenize --tokenizer FILE_OR_DIR (--ids JSON | --ids-file FILE) [--skip-special]
// tokenize prints a JSON array of ids; detokenize prints the text followed by one newline.
#include "app/cli/Commands.h"
#include "core/common/Error.h"
#include "core/common/Json.h"
#include "core/text/ChatTemplate.h"
#include "core/text/Tokenizer.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <iostream>
#include <memory>

namespace xopd::cli {

namespace {

struct TokenizeArgs {
    std::string tokenizer;
    std::string text;
    std::string textFile;
    bool chat = false;
    std::string templateName;
};

struct DetokenizeArgs {
    std::string tokenizer;
    std::string ids;
    std::string idsFile;
    bool skipSpecial = false;
};

/// The chat template for --chat: --template, else detected from the tokenizer's folder, else
/// qwen2-instruct (with a note on stderr).
text::ChatTemplateKind chooseTemplate(const TokenizeArgs& a) {
    if (!a.templateName.empty()) {
        const auto kind = text::chatTemplateFromName(a.templateName);
        XOPD_CHECK(kind != text::ChatTemplateKind::Invalid,
                   "--template '" << a.templateName << "' is not one of qwen2-instruct, qwen2.5-instruct, "
                                  << "qwen2-audio-instruct, qwen2.5-omni, chatml");
        return kind;
    }
    namespace fs = std::filesystem;
    fs::path dir(a.tokenizer);
    if (!fs::is_directory(dir)) dir = dir.parent_path().empty() ? fs::path(".") : dir.parent_path();
    const auto kind = text::detectChatTemplateInFolder(dir.string());
    if (kind != text::ChatTemplateKind::Invalid) return kind;
    std::cerr << "xopd: note: no chat template found next to '" << a.tokenizer << "'; using qwen2-instruct\n";
    return text::ChatTemplateKind::Qwen2Instruct;
}

int runTokenize(const TokenizeArgs& a) {
    const text::Tokenizer tok = text::Tokenizer::fromFile(a.tokenizer);
    std::string input = a.textFile.empty() ? a.text : readTextFile(a.textFile);
    if (a.chat) {
        const auto kind = chooseTemplate(a);
        input = text::renderChat(kind, {text::ChatMessage::text("user", input)});
    }
    std::vector<int32_t> ids;
    try {
        ids = tok.encode(input);
    } catch (const Error& e) {
        XOPD_FAIL((a.textFile.empty() ? std::string("--text") : "'" + a.textFile + "'") << ": " << e.what());
    }
    std::cout << nlohmann::json(ids).dump() << "\n";
    return 0;
}

int runDetokenize(const DetokenizeArgs& a) {
    const text::Tokenizer tok = text::Tokenizer::fromFile(a.tokenizer);
    const std::string where = a.idsFile.empty() ? std::string("--ids") : "'" + a.idsFile + "'";
    const std::string json = a.idsFile.empty() ? a.ids : readTextFile(a.idsFile);
    nlohmann::json doc;
    try {
        doc = nlohmann::json::parse(json);
    } catch (const nlohmann::json::exception& e) {
        XOPD_FAIL(where << ": not valid JSON (" << e.what() << ")");
    }
    XOPD_CHECK(doc.is_array(), where << ": expected a JSON array of token ids");
    std::vector<int32_t> ids;
    ids.reserve(doc.size());
    for (size_t i = 0; i < doc.size(); ++i) {
        XOPD_CHECK(doc[i].is_number_integer() && doc[i].get<int64_t>() >= 0 && doc[i].get<int64_t>() < (int64_t(1) << 31),
                   where << ": element " << i << " (" << doc[i].dump() << ") is not a token id");
        ids.push_back(doc[i].get<int32_t>());
    }
    text::DecodeOptions opts;
    opts.skip_special = a.skipSpecial;
    std::cout << tok.decode(ids, opts) << "\n";
    return 0;
}

}  // namespace

void addTextCommands(CLI::App& app, Action& run) {
    auto ta = std::make_shared<TokenizeArgs>();
    auto* tokenize = app.add_subcommand("tokenize", "Encode text with a tokenizer.json (or vocab.json + merges.txt); "
                                                    "prints a JSON array of token ids");
    tokenize->add_option("--tokenizer", ta->tokenizer, "tokenizer.json, or a folder with it or vocab.json + merges.txt")
        ->required();
    auto* textOpt = tokenize->add_option("--text", ta->text, "the text to encode (UTF-8)");
    auto* fileOpt = tokenize->add_option("--text-file", ta->textFile, "file whose whole contents are encoded");
    textOpt->excludes(fileOpt);
    tokenize->add_flag("--chat", ta->chat, "wrap the text as one user message with the chat template and "
                                           "the generation prompt");
    tokenize->add_option("--template", ta->templateName,
                         "chat template for --chat: qwen2-instruct, qwen2.5-instruct, qwen2-audio-instruct, "
                         "qwen2.5-omni, chatml (default: detected from the tokenizer's folder)");
    tokenize->callback([&run, ta, textOpt, fileOpt] {
        if (textOpt->count() == 0 && fileOpt->count() == 0) throw CLI::RequiredError("--text or --text-file");
        run = [ta] { return runTokenize(*ta); };
    });

    auto da = std::make_shared<DetokenizeArgs>();
    auto* detok = app.add_subcommand("detokenize", "Decode a JSON array of token ids to text");
    detok->add_option("--tokenizer", da->tokenizer, "tokenizer.json, or a folder with it or vocab.json + merges.txt")
        ->required();
    auto* idsOpt = detok->add_option("--ids", da->ids, "JSON array of ids, e.g. [9707,1879]");
    auto* idsFileOpt = detok->add_option("--ids-file", da->idsFile, "file holding a JSON array of ids");
    idsOpt->excludes(idsFileOpt);
    detok->add_flag("--skip-special", da->skipSpecial, "drop special tokens (<|im_end|>, <|endoftext|>, ...)");
    detok->callback([&run, da, idsOpt, idsFileOpt] {
        if (idsOpt->count() == 0 && idsFileOpt->count() == 0) throw CLI::RequiredError("--ids or --ids-file");
        run = [da] { return runDetokenize(*da); };
    });
}

}  // namespace xopd::cli
