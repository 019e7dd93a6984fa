#include "core/session/RunSetup.h"

#include "core/common/Error.h"
#include "core/common/TorchErrors.h"
#include "core/model/checkpoint/InspectSummary.h"
#include "core/model/checkpoint/ModelConfig.h"
#include "core/model/runtime/RuntimeConfig.h"
#include "core/model/runtime/VocabAlignment.h"
#include "core/text/Tokenizer.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <exception>
#include <iomanip>
#include <memory>
#include <sstream>

namespace xopd::session {

using namespace distill;  // the policies, scorer and config this service drives

ModelFolderInfo inspectModelFolder(const std::string& folder) {
    return withTorchErrors("'" + folder + "'", [&]() -> ModelFolderInfo {
        ModelFolderInfo info;
        info.folder = folder;
        try {
            const nlohmann::json report = inspectCheckpoint(folder);
            info.summary = formatInspectReport(report);
            if (report.contains("config") && report["config"].contains("model_type"))
                info.model_type = report["config"]["model_type"].get<std::string>();
            if (report.contains("weights")) {
                const auto& w = report["weights"];
                if (w.contains("data_bytes")) info.data_bytes = w["data_bytes"].get<int64_t>();
                if (w.contains("parameters")) {
                    info.parameters = w["parameters"].value("total", int64_t(0));
                    info.has_audio = w["parameters"].value("audio_tower", int64_t(0)) > 0;
                }
            }
            info.ok = true;
        } catch (const std::exception& e) {
            info.error = e.what();
        }
        return info;
    });
}

namespace {

struct Side {
    model::VocabSide side;
    std::shared_ptr<text::Tokenizer> tokenizer;
};

Side sideOf(const std::string& name, const std::string& folder) {
    Side s;
    const auto cfg = model::runtimeConfigFrom(loadModelConfig(folder));
    s.side = model::vocabSide(name + " '" + folder + "'", cfg);
    s.tokenizer = std::make_shared<text::Tokenizer>(text::Tokenizer::fromFile(folder));
    s.side.tokenizer_size = s.tokenizer->size();
    auto tok = s.tokenizer;
    s.side.token_text = [tok](int64_t id) { return tok->idToToken(int32_t(id)); };
    return s;
}

}  // namespace

std::string compatibilityReport(const std::string& teacher_folder, const std::string& student_folder) {
    return withTorchErrors("compatibility of '" + teacher_folder + "' and '" + student_folder + "'", [&]() -> std::string {
        const Side t = sideOf("teacher", teacher_folder);
        const Side s = sideOf("student", student_folder);
        return model::checkCompatibility(t.side, s.side).text();
    });
}


}  // namespace xopd::session
