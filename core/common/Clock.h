#pragma once
// Wall-clock time as the run folder records it: seconds since the Unix epoch, and the UTC
// timestamp "2026-12-06T01:53:26Z" of run.json and log.txt. Torch-free. Threading: pure functions.

#include <string>

namespace xopd {

/// Seconds since the Unix epoch (system clock).
double nowUnixSeconds();

/// The current time in UTC as "YYYY-MM-DDTHH:MM:SSZ".
std::string utcTimestamp();

}  // namespace xopd
