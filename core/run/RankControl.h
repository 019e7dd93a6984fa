#pragma once
// Commands of a data-parallel run reach every rank at the same step boundary: before each step
// rank 0 (the rank the GUI and CLI talk to, and the one that writes the run folder) broadcasts its
// pending pause / stop / cancel flags and hot edits, and every rank acts on rank 0's copy. While
// paused, rank 0 repeats the broadcast about once a second, so the other ranks wait inside a
// collective that never reaches its timeout.
//
// Threading: the run's worker thread; a collective (all ranks call it once per loop turn).

#include "core/dist/Group.h"

#include <deque>
#include <string>
#include <utility>

namespace xopd::run {

/// One loop turn's commands.
struct ControlMessage {
    bool stop = false;
    bool cancel = false;
    bool pause = false;
    /// Hot edits in order (knob name, value); names from distill::hotKnobs().
    std::deque<std::pair<std::string, double>> knobs;
};

/// At most this many hot edits travel per turn; the rest wait for the next turn.
inline constexpr size_t kKnobsPerTurn = 16;

/// Rank 0 passes its commands (at most kKnobsPerTurn knobs) and gets them back; every other rank
/// gets rank 0's, whatever it passed.
ControlMessage exchangeControl(dist::Group& group, const ControlMessage& mine);

}  // namespace xopd::run
