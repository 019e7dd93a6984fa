#include "widgets/prompts/LibraryKeeper.h"

#include "core/data/WorkspaceLibrary.h"
#include "widgets/prompts/PromptLibraryModel.h"

#include <QTimer>

#include <exception>

namespace xopd::widgets {

LibraryKeeper::LibraryKeeper(PromptLibraryModel* model, QObject* parent)
    : QObject(parent), model_(model), timer_(new QTimer(this)) {
    timer_->setSingleShot(true);
    timer_->setInterval(300);  // a burst of changes (an import, a paste) is written once
    connect(timer_, &QTimer::timeout, this, &LibraryKeeper::flush);
    connect(model_, &QAbstractItemModel::dataChanged, this, &LibraryKeeper::changed);
    connect(model_, &QAbstractItemModel::rowsInserted, this, &LibraryKeeper::changed);
    connect(model_, &QAbstractItemModel::rowsRemoved, this, &LibraryKeeper::changed);
    connect(model_, &QAbstractItemModel::modelReset, this, &LibraryKeeper::changed);
}

void LibraryKeeper::changed() {
    if (loading_ || !saving_) return;
    dirty_ = true;
    timer_->start();
}

QStringList LibraryKeeper::open(const QString& workspace) {
    flush();
    loading_ = true;
    saving_ = false;
    dirty_ = false;
    timer_->stop();
    model_->clearWorkspace();
    path_ = QString::fromStdString(data::workspaceLibraryPath(workspace.toStdString()));
    QStringList problems;
    try {
        problems = model_->loadWorkspaceLibrary(data::readWorkspaceLibrary(path_.toStdString()));
    } catch (...) {
        loading_ = false;
        throw;  // saving stays off: the unreadable file is left as it is
    }
    loading_ = false;
    saving_ = true;
    return problems;
}

bool LibraryKeeper::flush() {
    timer_->stop();
    if (!saving_ || !dirty_) return true;
    try {
        data::writeWorkspaceLibrary(path_.toStdString(), model_->workspaceLibrary());
    } catch (const std::exception& e) {
        emit failed(QString::fromUtf8(e.what()));
        return false;
    }
    dirty_ = false;
    emit saved(path_);
    return true;
}

}  // namespace xopd::widgets
