#include "core/common/SystemMemory.h"

#include <unistd.h>

#include <fstream>
#include <string>

namespace xopd {

uint64_t physicalMemoryBytes() {
    const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
    return pages > 0 && page > 0 ? uint64_t(pages) * uint64_t(page) : 0;
}

uint64_t availableMemoryBytes() {
    std::ifstream meminfo("/proc/meminfo");
    std::string key, unit;
    uint64_t value = 0;
    while (meminfo >> key >> value >> unit)
        if (key == "MemAvailable:") return value * 1024;  // reported in kB
    return physicalMemoryBytes();
}

}  // namespace xopd
