#pragma once
// The Ask screen's engine object (lesson 3): owns a core session::AskService and lives on its own
// QThread, so loading models and generating never run on the GUI thread. Commands arrive as
// queued calls (QMetaObject::invokeMethod from the widget); results leave as queued signals. Every
// slot catches xopd::Error (and any std::exception) and emits failed(). Create it without a
// parent, moveToThread(), and delete it with deleteLater() before the thread quits.

#include "core/session/AskService.h"

#include <QMetaType>
#include <QObject>
#include <QString>

#include <memory>
#include <vector>

Q_DECLARE_METATYPE(xopd::session::AskAnswer)
Q_DECLARE_METATYPE(std::vector<xopd::data::PromptItem>)

namespace xopd::widgets {

class AskWorker : public QObject {
    Q_OBJECT
public:
    AskWorker();
    ~AskWorker() override;

    /// Worker thread: replaces the models' config (drops loaded models).
    void configure(const distill::DistillConfig& config);
    /// Worker thread: the student becomes a run checkpoint (checkpointAskConfig: the run's config
    /// with the checkpoint folder as student; device and dtype from `machine`). Drops loaded
    /// models; emits failed() (and keeps no models) when the checkpoint cannot be asked.
    void configureCheckpoint(const QString& runDir, const QString& checkpointDir, const distill::DistillConfig& machine);
    /// Worker thread: loads the models; emits loaded() or failed().
    void load();
    /// Worker thread: asks both models; emits partial() as each answer grows (token by token), then
    /// answered() or failed().
    void ask(const session::AskRequest& request);

signals:
    /// An answer so far: `part` is a session::AskPart, `text` the answer's text up to its latest token.
    void partial(int part, const QString& text);
    void loaded(const QString& description, const std::vector<xopd::data::PromptItem>& prompts);
    void answered(const xopd::session::AskAnswer& answer);
    void failed(const QString& message);

private:
    /// Throws, with why there is nothing to ask, when no usable configuration is set.
    void requireConfigured() const;

    std::unique_ptr<session::AskService> service_;
    distill::DistillConfig config_;
    bool configured_ = false;
    QString configError_;  ///< why the last configuration cannot be asked ("" = none)
};

}  // namespace xopd::widgets
