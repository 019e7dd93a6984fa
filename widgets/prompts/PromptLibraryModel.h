#pragma once
// The prompt library: every spoken prompt the workbench knows (imported files and folders, JSONL
// manifests of core/data/PromptSet.h, recordings, synthesized speech) as a QAbstractTableModel
// (name, duration, rate/channels, source, split, loudness, transcript, tags). Transcript, split and
// tags are editable. Views sort and filter it through a QSortFilterProxyModel. GUI thread only.
//
// Import errors throw xopd::Error naming the file (the widget shows them); a failing file in a
// folder import is skipped and reported in the returned list of problems.
//
// Persistence: workspaceLibrary() / loadWorkspaceLibrary() convert to and from the library a
// workspace keeps (core/data/WorkspaceLibrary.h); LibraryKeeper writes it after each change. The
// demo kit's prompts (PromptEntry::kit) are read from the kit each start, so only their edits are
// kept.

#include "core/audio/AudioClip.h"
#include "core/data/WorkspaceLibrary.h"

#include <QAbstractTableModel>
#include <QStringList>

#include <vector>

namespace xopd::widgets {

/// One prompt of the library.
struct PromptEntry {
    QString id;          ///< unique id (manifest id, else file base name, made unique)
    QString path;        ///< absolute audio path
    double durationS = 0;
    int sampleRate = 0;  ///< native rate of the file
    int channels = 0;
    QString source;      ///< "imported", "manifest", "recorded", "synthesized"
    QString split = "train";
    double lufs = qQNaN();  ///< integrated loudness (BS.1770); NaN until measured, −inf for silence
    QString transcript;
    QStringList tags;
    QString voice;
    bool kit = false;     ///< a demo-kit prompt: read from the kit each start; only edits are kept
    bool edited = false;  ///< transcript, split or tags changed in the table (kit prompts)
};

class PromptLibraryModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Name = 0, Duration, Format, Source, Split, Loudness, Transcript, Tags, ColumnCount };
    /// Role returning the PromptEntry index (int) of a row; and a sortable raw value.
    static constexpr int SortRole = Qt::UserRole + 1;

    explicit PromptLibraryModel(QObject* parent = nullptr);

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    Qt::ItemFlags flags(const QModelIndex& index) const override;
    bool setData(const QModelIndex& index, const QVariant& value, int role = Qt::EditRole) override;
    bool removeRows(int row, int count, const QModelIndex& parent = {}) override;

    const PromptEntry& entry(int row) const { return entries_[size_t(row)]; }
    const std::vector<PromptEntry>& entries() const { return entries_; }

    /// Adds one audio file (header probed, loudness measured). Throws xopd::Error.
    int addFile(const QString& path, const QString& source = "imported", const QString& transcript = {});
    /// Adds every audio file under a folder (recursively). Returns one problem line per skipped file.
    QStringList addFolder(const QString& folder);
    /// Adds every item of a JSONL manifest. Throws xopd::Error on a bad manifest.
    int addManifest(const QString& manifestPath);
    /// Reads a manifest into entries (headers probed, loudness measured) without touching any
    /// model: safe on a worker thread (QtConcurrent), then addEntries() on the GUI thread.
    static std::vector<PromptEntry> readManifest(const QString& manifestPath);
    /// Appends entries in one row insertion (ids made unique). Returns the first new row.
    int addEntries(std::vector<PromptEntry> entries);
    /// Adds a file, folder or manifest by looking at what `path` is. Returns problems.
    QStringList addPath(const QString& path);
    /// Writes a clip as WAV into `folder` and adds it (source "recorded" or "synthesized").
    int addClip(const audio::AudioClip& clip, const QString& folder, const QString& baseName, const QString& source,
                const QString& transcript = {});
    /// Writes the library as a JSONL manifest (core/data format; audio paths relative to it).
    void saveManifest(const QString& manifestPath) const;
    /// Loads the audio of a row (native rate). Throws xopd::Error.
    audio::AudioClip loadClip(int row) const;
    /// Row of an id, −1 when absent.
    int rowOf(const QString& id) const;
    void clear();

    /// A file's entry (header probed, loudness measured) without adding it. Throws xopd::Error.
    static PromptEntry probeFile(const QString& path, const QString& source);
    /// What the workspace keeps: every prompt that is not the kit's (plus those whose audio was
    /// missing when loaded, so they are not lost), the edits of kit prompts and the ids of the kit
    /// prompts removed from the table.
    data::WorkspaceLibrary workspaceLibrary() const;
    /// Adds a workspace's prompts and applies its kit edits and removals (to the kit rows present
    /// and to those added later). A prompt whose audio cannot be read is left out of the table but kept for
    /// workspaceLibrary(); one problem line each is returned.
    QStringList loadWorkspaceLibrary(const data::WorkspaceLibrary& library);
    /// Removes every prompt that is not the kit's and undoes the kit edits and removals (switching
    /// workspace).
    void clearWorkspace();

private:
    QString uniqueId(const QString& wanted) const;
    int append(PromptEntry e);
    /// Applies a kit edit to `e` (remembering the kit's own values).
    void applyKitEdit(PromptEntry& e, const data::LibraryPrompt& edit);
    void rememberKitOriginal(const PromptEntry& e);
    /// Whether the kit prompt `id` was removed from the table (and stays out).
    bool isRemovedKitPrompt(const std::string& id) const;
    /// Keeps a removed kit row (once per id) for clearWorkspace.
    void keepRemovedKitRow(const PromptEntry& e);
    std::vector<PromptEntry> entries_;
    std::vector<data::LibraryPrompt> kitEdits_;     ///< edits waiting for (or applied to) kit rows
    std::vector<data::LibraryPrompt> kitOriginals_; ///< the kit's values of edited kit rows
    std::vector<data::LibraryPrompt> unavailable_;  ///< kept prompts whose audio was missing
    std::vector<std::string> kitRemovedIds_;         ///< kit prompts removed from the table (kept out)
    std::vector<PromptEntry> kitRemovedRows_;        ///< those rows, to bring back on clearWorkspace
};

}  // namespace xopd::widgets
