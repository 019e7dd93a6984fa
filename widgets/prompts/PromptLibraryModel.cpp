#include "widgets/prompts/PromptLibraryModel.h"

#include "core/audio/AudioFile.h"
#include "core/audio/Loudness.h"
#include "core/common/Error.h"
#include "core/data/PromptSet.h"

#include <QDir>
#include <QDirIterator>
#include <QFileInfo>
#include <QSet>

#include <algorithm>
#include <cmath>

namespace xopd::widgets {

namespace {
bool isAudioFile(const QString& path) {
    static const QStringList ext = {"wav", "flac", "ogg", "oga", "aiff", "aif", "mp3", "opus"};
    return ext.contains(QFileInfo(path).suffix().toLower());
}
double measureLufs(const QString& path) {
    const auto clip = audio::readAudioFile(path.toStdString());
    return audio::measureLoudness(clip).integrated_lufs;
}
}  // namespace

PromptLibraryModel::PromptLibraryModel(QObject* parent) : QAbstractTableModel(parent) {}

int PromptLibraryModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : int(entries_.size()); }
int PromptLibraryModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant PromptLibraryModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= int(entries_.size()) || index.column() >= ColumnCount) return {};
    const PromptEntry& e = entries_[size_t(index.row())];
    if (role == Qt::DisplayRole || role == Qt::EditRole || role == SortRole) {
        const bool sort = role == SortRole;
        switch (index.column()) {
            case Name: return e.id;
            case Duration: return sort ? QVariant(e.durationS) : QVariant(QString::number(e.durationS, 'f', 2) + " s");
            case Format: return sort ? QVariant(e.sampleRate) : QVariant(QString("%1 Hz · %2 ch").arg(e.sampleRate).arg(e.channels));
            case Source: return e.source;
            case Split: return e.split;
            case Loudness:
                if (sort) return std::isfinite(e.lufs) ? e.lufs : -1000.0;
                return std::isnan(e.lufs) ? QString("–") : (std::isinf(e.lufs) ? QString("silence") : QString::number(e.lufs, 'f', 1) + " LUFS");
            case Transcript: return e.transcript;
            case Tags: return e.tags.join(", ");
        }
    }
    if (role == Qt::ToolTipRole) return e.path;
    if (role == Qt::TextAlignmentRole && (index.column() == Duration || index.column() == Loudness))
        return int(Qt::AlignRight | Qt::AlignVCenter);
    return {};
}

QVariant PromptLibraryModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (role != Qt::DisplayRole || orientation != Qt::Horizontal) return {};
    static const char* names[] = {"Name", "Duration", "Rate / channels", "Source", "Split", "Loudness", "Transcript", "Tags"};
    return section >= 0 && section < ColumnCount ? QString(names[section]) : QVariant();
}

Qt::ItemFlags PromptLibraryModel::flags(const QModelIndex& index) const {
    if (!index.isValid()) return Qt::ItemIsDropEnabled;
    Qt::ItemFlags f = Qt::ItemIsEnabled | Qt::ItemIsSelectable;
    if (index.column() == Transcript || index.column() == Tags || index.column() == Split) f |= Qt::ItemIsEditable;
    return f;
}

bool PromptLibraryModel::setData(const QModelIndex& index, const QVariant& value, int role) {
    if (!index.isValid() || role != Qt::EditRole || index.row() >= int(entries_.size())) return false;
    PromptEntry& e = entries_[size_t(index.row())];
    if (e.kit) rememberKitOriginal(e);
    switch (index.column()) {
        case Transcript: e.transcript = value.toString().trimmed(); break;
        case Tags: {
            QStringList tags;
            for (const QString& t : value.toString().split(',', Qt::SkipEmptyParts)) tags << t.trimmed();
            e.tags = tags;
            break;
        }
        case Split: {
            const std::string s = value.toString().trimmed().toStdString();
            const auto& known = data::knownSplits();
            if (std::find(known.begin(), known.end(), s) == known.end()) return false;
            e.split = QString::fromStdString(s);
            break;
        }
        default: return false;
    }
    e.edited = true;
    emit dataChanged(index, index, {Qt::DisplayRole, Qt::EditRole});
    return true;
}

bool PromptLibraryModel::removeRows(int row, int count, const QModelIndex& parent) {
    if (parent.isValid() || row < 0 || count <= 0 || row + count > int(entries_.size())) return false;
    // A kit prompt is read from the kit at every start: removing it is remembered by id.
    for (int r = row; r < row + count; ++r) {
        const PromptEntry& e = entries_[size_t(r)];
        if (!e.kit) continue;
        const std::string id = e.id.toStdString();
        if (!isRemovedKitPrompt(id)) kitRemovedIds_.push_back(id);
        keepRemovedKitRow(e);
    }
    beginRemoveRows({}, row, row + count - 1);
    entries_.erase(entries_.begin() + row, entries_.begin() + row + count);
    endRemoveRows();
    return true;
}

bool PromptLibraryModel::isRemovedKitPrompt(const std::string& id) const {
    return std::find(kitRemovedIds_.begin(), kitRemovedIds_.end(), id) != kitRemovedIds_.end();
}

void PromptLibraryModel::keepRemovedKitRow(const PromptEntry& e) {
    for (const auto& kept : kitRemovedRows_)
        if (kept.id == e.id) return;
    kitRemovedRows_.push_back(e);
}

QString PromptLibraryModel::uniqueId(const QString& wanted) const {
    QString id = wanted.isEmpty() ? QString("prompt") : wanted;
    int n = 2;
    while (rowOf(id) >= 0) id = QString("%1-%2").arg(wanted).arg(n++);
    return id;
}

int PromptLibraryModel::rowOf(const QString& id) const {
    for (size_t i = 0; i < entries_.size(); ++i)
        if (entries_[i].id == id) return int(i);
    return -1;
}

int PromptLibraryModel::append(PromptEntry e) {
    const int row = int(entries_.size());
    beginInsertRows({}, row, row);
    entries_.push_back(std::move(e));
    endInsertRows();
    return row;
}

PromptEntry PromptLibraryModel::probeFile(const QString& path, const QString& source) {
    const QString abs = QFileInfo(path).absoluteFilePath();
    const auto info = audio::probeAudioFile(abs.toStdString());
    PromptEntry e;
    e.id = QFileInfo(abs).completeBaseName();
    e.path = abs;
    e.durationS = info.durationSeconds();
    e.sampleRate = info.sample_rate;
    e.channels = info.channels;
    e.source = source;
    e.lufs = measureLufs(abs);
    return e;
}

int PromptLibraryModel::addFile(const QString& path, const QString& source, const QString& transcript) {
    PromptEntry e = probeFile(path, source);
    e.id = uniqueId(e.id);
    e.transcript = transcript;
    return append(std::move(e));
}

QStringList PromptLibraryModel::addFolder(const QString& folder) {
    QStringList problems;
    QStringList files;
    QDirIterator it(folder, QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString f = it.next();
        if (isAudioFile(f)) files << f;
    }
    files.sort();
    for (const QString& f : files) {
        try {
            addFile(f);
        } catch (const std::exception& e) {
            problems << QString::fromUtf8(e.what());
        }
    }
    return problems;
}

int PromptLibraryModel::addManifest(const QString& manifestPath) {
    auto add = readManifest(manifestPath);
    const int n = int(add.size());
    addEntries(std::move(add));
    return n;
}

std::vector<PromptEntry> PromptLibraryModel::readManifest(const QString& manifestPath) {
    const auto set = data::loadPromptSet(manifestPath.toStdString());
    std::vector<PromptEntry> add;
    for (const auto& item : set.items) {
        const auto info = audio::probeAudioFile(item.audio_path);
        PromptEntry e;
        e.id = QString::fromStdString(item.id);
        e.path = QString::fromStdString(item.audio_path);
        e.durationS = info.durationSeconds();
        e.sampleRate = info.sample_rate;
        e.channels = info.channels;
        e.source = "manifest";
        e.split = QString::fromStdString(item.split);
        e.transcript = QString::fromStdString(item.transcript);
        for (const auto& t : item.tags) e.tags << QString::fromStdString(t);
        e.voice = QString::fromStdString(item.voice);
        e.lufs = measureLufs(e.path);
        add.push_back(std::move(e));
    }
    return add;
}

int PromptLibraryModel::addEntries(std::vector<PromptEntry> entries) {
    const int first = int(entries_.size());
    // Kit prompts the workspace removed stay out (kept for clearWorkspace).
    entries.erase(std::remove_if(entries.begin(), entries.end(),
                                 [&](const PromptEntry& e) {
                                     const bool removed = e.kit && isRemovedKitPrompt(e.id.toStdString());
                                     if (removed) keepRemovedKitRow(e);
                                     return removed;
                                 }),
                  entries.end());
    if (entries.empty()) return first;
    QSet<QString> taken;
    for (const auto& e : entries_) taken.insert(e.id);
    for (auto& e : entries) {
        if (e.kit)
            for (const auto& edit : kitEdits_)
                if (QString::fromStdString(edit.id) == e.id) applyKitEdit(e, edit);
        const QString wanted = e.id.isEmpty() ? QString("prompt") : e.id;
        QString id = wanted;
        for (int n = 2; taken.contains(id); ++n) id = QString("%1-%2").arg(wanted).arg(n);
        e.id = id;
        taken.insert(id);
    }
    beginInsertRows({}, first, first + int(entries.size()) - 1);
    for (auto& e : entries) entries_.push_back(std::move(e));
    endInsertRows();
    return first;
}

QStringList PromptLibraryModel::addPath(const QString& path) {
    const QFileInfo fi(path);
    try {
        if (fi.isDir()) return addFolder(path);
        if (fi.suffix().toLower() == "jsonl") {
            addManifest(path);
            return {};
        }
        addFile(path);
    } catch (const std::exception& e) {
        return {QString::fromUtf8(e.what())};
    }
    return {};
}

int PromptLibraryModel::addClip(const audio::AudioClip& clip, const QString& folder, const QString& baseName,
                                const QString& source, const QString& transcript) {
    QDir().mkpath(folder);
    const QString id = uniqueId(baseName);
    const QString path = QDir(folder).absoluteFilePath(id + ".wav");
    audio::writeAudioFile(path.toStdString(), clip, audio::AudioFileFormat::WavPcm16);
    const int row = addFile(path, source, transcript);
    return row;
}

void PromptLibraryModel::saveManifest(const QString& manifestPath) const {
    const QDir base = QFileInfo(manifestPath).absoluteDir();
    std::vector<data::PromptItem> items;
    for (const auto& e : entries_) {
        data::PromptItem item;
        item.id = e.id.toStdString();
        item.audio = base.relativeFilePath(e.path).toStdString();
        item.transcript = e.transcript.toStdString();
        XOPD_CHECK(!item.transcript.empty(), "'" << manifestPath.toStdString() << "': prompt '" << item.id
                                                 << "' has no transcript (edit it in the table first)");
        item.split = e.split.toStdString();
        for (const auto& t : e.tags) item.tags.push_back(t.toStdString());
        item.voice = e.voice.toStdString();
        items.push_back(std::move(item));
    }
    data::writePromptSet(manifestPath.toStdString(), items);
}

audio::AudioClip PromptLibraryModel::loadClip(int row) const {
    XOPD_CHECK(row >= 0 && row < int(entries_.size()), "prompt library: no row " << row);
    return audio::readAudioFile(entries_[size_t(row)].path.toStdString());
}

void PromptLibraryModel::clear() {
    beginResetModel();
    entries_.clear();
    kitEdits_.clear();
    kitOriginals_.clear();
    unavailable_.clear();
    kitRemovedIds_.clear();
    kitRemovedRows_.clear();
    endResetModel();
}

namespace {
QStringList toQt(const std::vector<std::string>& v) {
    QStringList out;
    for (const auto& s : v) out << QString::fromStdString(s);
    return out;
}
std::vector<std::string> toStd(const QStringList& v) {
    std::vector<std::string> out;
    for (const auto& s : v) out.push_back(s.toStdString());
    return out;
}
}  // namespace

void PromptLibraryModel::rememberKitOriginal(const PromptEntry& e) {
    const std::string id = e.id.toStdString();
    for (const auto& o : kitOriginals_)
        if (o.id == id) return;
    data::LibraryPrompt o;
    o.id = id;
    o.transcript = e.transcript.toStdString();
    o.split = e.split.toStdString();
    o.tags = toStd(e.tags);
    kitOriginals_.push_back(std::move(o));
}

void PromptLibraryModel::applyKitEdit(PromptEntry& e, const data::LibraryPrompt& edit) {
    rememberKitOriginal(e);
    e.transcript = QString::fromStdString(edit.transcript);
    e.split = QString::fromStdString(edit.split);
    e.tags = toQt(edit.tags);
    e.edited = true;
}

data::WorkspaceLibrary PromptLibraryModel::workspaceLibrary() const {
    data::WorkspaceLibrary lib;
    for (const auto& e : entries_) {
        data::LibraryPrompt p;
        p.id = e.id.toStdString();
        p.transcript = e.transcript.toStdString();
        p.split = e.split.toStdString();
        p.tags = toStd(e.tags);
        if (e.kit) {
            if (e.edited) lib.kit_edits.push_back(std::move(p));
            continue;
        }
        p.audio_path = e.path.toStdString();
        p.source = e.source.toStdString();
        p.voice = e.voice.toStdString();
        lib.prompts.push_back(std::move(p));
    }
    // Kept as they were: prompts whose audio was missing, and edits of kit prompts not (yet) here.
    auto taken = [&](const std::vector<data::LibraryPrompt>& list, const std::string& id) {
        return std::any_of(list.begin(), list.end(), [&](const data::LibraryPrompt& p) { return p.id == id; });
    };
    for (const auto& p : unavailable_)
        if (!taken(lib.prompts, p.id)) lib.prompts.push_back(p);
    for (const auto& edit : kitEdits_)
        if (!taken(lib.kit_edits, edit.id) && rowOf(QString::fromStdString(edit.id)) < 0) lib.kit_edits.push_back(edit);
    lib.kit_removed = kitRemovedIds_;
    return lib;
}

QStringList PromptLibraryModel::loadWorkspaceLibrary(const data::WorkspaceLibrary& library) {
    QStringList problems;
    std::vector<PromptEntry> add;
    for (const auto& p : library.prompts) {
        try {
            PromptEntry e = probeFile(QString::fromStdString(p.audio_path), QString::fromStdString(p.source));
            e.id = QString::fromStdString(p.id);
            e.transcript = QString::fromStdString(p.transcript);
            e.split = QString::fromStdString(p.split);
            e.tags = toQt(p.tags);
            e.voice = QString::fromStdString(p.voice);
            add.push_back(std::move(e));
        } catch (const std::exception& ex) {
            unavailable_.push_back(p);
            problems << QString("prompt '%1' left out of the table (kept in the workspace library): %2")
                            .arg(QString::fromStdString(p.id), QString::fromUtf8(ex.what()));
        }
    }
    addEntries(std::move(add));
    for (const auto& id : library.kit_removed)
        if (!isRemovedKitPrompt(id)) kitRemovedIds_.push_back(id);
    for (int row = int(entries_.size()) - 1; row >= 0; --row)
        if (entries_[size_t(row)].kit && isRemovedKitPrompt(entries_[size_t(row)].id.toStdString()))
            removeRows(row, 1);
    kitEdits_ = library.kit_edits;
    for (size_t row = 0; row < entries_.size(); ++row) {
        PromptEntry& e = entries_[row];
        if (!e.kit) continue;
        for (const auto& edit : kitEdits_)
            if (QString::fromStdString(edit.id) == e.id) {
                applyKitEdit(e, edit);
                emit dataChanged(index(int(row), 0), index(int(row), ColumnCount - 1));
            }
    }
    return problems;
}

void PromptLibraryModel::clearWorkspace() {
    for (int row = int(entries_.size()) - 1; row >= 0; --row)
        if (!entries_[size_t(row)].kit) removeRows(row, 1);
    // The kit prompts this workspace had removed come back.
    kitRemovedIds_.clear();
    std::vector<PromptEntry> back = std::move(kitRemovedRows_);
    kitRemovedRows_.clear();
    addEntries(std::move(back));
    for (size_t row = 0; row < entries_.size(); ++row) {
        PromptEntry& e = entries_[row];
        for (const auto& o : kitOriginals_)
            if (QString::fromStdString(o.id) == e.id) {
                e.transcript = QString::fromStdString(o.transcript);
                e.split = QString::fromStdString(o.split);
                e.tags = toQt(o.tags);
                e.edited = false;
                emit dataChanged(index(int(row), 0), index(int(row), ColumnCount - 1));
            }
    }
    kitEdits_.clear();
    kitOriginals_.clear();
    unavailable_.clear();
}

}  // namespace xopd::widgets
