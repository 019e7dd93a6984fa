// libFuzzer entry point for the safetensors header parser (core/model/checkpoint/SafetensorsHeader.h).
// Any input must either parse into a header whose tensors lie inside the buffer, or throw
// xopd::Error. Anything else (another exception, a crash, an ASan/UBSan report) is a finding.
#include "core/common/Error.h"
#include "core/model/checkpoint/SafetensorsHeader.h"

#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    try {
        const xopd::SafetensorsHeader h = xopd::parseSafetensorsHeader(data, size, "fuzz-input");
        // The validator promises every tensor lies inside the data buffer: touch every byte so ASan
        // would report a read past the input.
        uint64_t sum = 0;
        for (const auto& t : h.tensors) {
            if (t.end > h.data_size || h.data_offset + t.end > size) std::abort();
            for (uint64_t i = t.begin; i < t.end; ++i) sum += data[h.data_offset + i];
            if (t.numel() < 0) std::abort();
        }
        if (h.data_offset + h.data_size != size) std::abort();
        volatile uint64_t sink = sum;
        (void)sink;
    } catch (const xopd::Error&) {
        // Rejected with a message: the expected outcome for malformed input.
    }
    return 0;
}
