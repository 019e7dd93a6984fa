#include "widgets/main/AskWorker.h"

#include "core/session/CheckpointAsk.h"
#include "widgets/main/UserMessage.h"

#include <exception>
#include <stdexcept>

namespace xopd::widgets {

AskWorker::AskWorker() {
    qRegisterMetaType<xopd::session::AskAnswer>("xopd::session::AskAnswer");
    qRegisterMetaType<std::vector<xopd::data::PromptItem>>("std::vector<xopd::data::PromptItem>");
}

AskWorker::~AskWorker() = default;

void AskWorker::configure(const distill::DistillConfig& config) {
    service_.reset();
    config_ = config;
    configured_ = true;
    configError_.clear();
}

void AskWorker::configureCheckpoint(const QString& runDir, const QString& checkpointDir,
                                    const distill::DistillConfig& machine) {
    service_.reset();
    configured_ = false;
    try {
        config_ = session::checkpointAskConfig(runDir.toStdString(), checkpointDir.toStdString(), machine);
        configured_ = true;
        configError_.clear();
    } catch (const std::exception& e) {
        configError_ = userMessage(QString::fromUtf8(e.what()));
        emit failed(configError_);
    }
}

void AskWorker::requireConfigured() const {
    if (configured_) return;
    throw std::runtime_error(configError_.isEmpty() ? "no models chosen (open the Models and run set-up screen)"
                                                    : configError_.toStdString());
}

void AskWorker::load() {
    try {
        requireConfigured();
        if (!service_) service_ = std::make_unique<session::AskService>(config_);
        service_->load();
        emit loaded(QString::fromStdString(service_->describe()), service_->prompts());
    } catch (const std::exception& e) {
        service_.reset();
        emit failed(userMessage(QString::fromUtf8(e.what())));
    }
}

void AskWorker::ask(const session::AskRequest& request) {
    try {
        requireConfigured();
        const bool fresh = !service_ || !service_->loaded();
        if (!service_) service_ = std::make_unique<session::AskService>(config_);
        // ask() checks the request before it loads the models, so a missing clip is reported at once.
        session::AskRequest streamed = request;
        streamed.on_text = [this](session::AskPart part, const std::string& text) {
            emit partial(int(part), QString::fromStdString(text));
        };
        const session::AskAnswer a = service_->ask(streamed);
        if (fresh) emit loaded(QString::fromStdString(service_->describe()), service_->prompts());
        emit answered(a);
    } catch (const std::exception& e) {
        emit failed(userMessage(QString::fromUtf8(e.what())));
    }
}

}  // namespace xopd::widgets
