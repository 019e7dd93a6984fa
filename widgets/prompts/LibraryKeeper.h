#pragma once
// Keeps the prompt library of a workspace on disk: open() reads WORKSPACE/prompts/library.json
// (core/data/WorkspaceLibrary.h) into the PromptLibraryModel, and every later change of the model
// (a recording, an import, a transcript, split or tag typed in the table, a removal) writes it again,
// atomically, a moment later (changes in one burst are written once). flush() writes at once (the
// window calls it when it closes).
//
// A file that cannot be read is never overwritten: open() throws xopd::Error naming it, and
// saving stays off for that workspace until it is opened again (the user fixes or moves the file).
// A failed write (a full disk) emits failed() with the file's name. GUI thread only.

#include <QObject>
#include <QString>
#include <QStringList>

class QTimer;

namespace xopd::widgets {

class PromptLibraryModel;

class LibraryKeeper : public QObject {
    Q_OBJECT
public:
    explicit LibraryKeeper(PromptLibraryModel* model, QObject* parent = nullptr);

    /// Writes the current workspace's library (if any change is pending), removes its prompts from
    /// the model, and reads `workspace`'s. Returns one problem line per prompt whose audio is
    /// missing (kept in the file, left out of the table). Throws xopd::Error naming the file when
    /// it cannot be read; saving is then off until the next open().
    QStringList open(const QString& workspace);
    /// WORKSPACE/prompts/library.json ("" before open()).
    QString path() const { return path_; }
    /// False after open() met an unreadable file.
    bool saving() const { return saving_; }
    /// Writes now when a change is pending. Returns false (and emits failed) when the write fails.
    bool flush();

signals:
    /// The library file was written.
    void saved(const QString& path);
    /// A write failed (message names the file).
    void failed(const QString& message);

private:
    void changed();

    PromptLibraryModel* model_;
    QTimer* timer_;
    QString path_;
    bool saving_ = false;
    bool dirty_ = false;
    bool loading_ = false;
};

}  // namespace xopd::widgets
