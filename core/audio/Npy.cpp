#include "core/audio/Npy.h"

#include "core/common/Error.h"
#include "core/common/Json.h"

#include <cstring>
#include <fstream>
#include <sstream>

namespace xopd::audio {

void writeNpyFloat32(const std::string& path, const std::vector<float>& values,
                     const std::vector<std::int64_t>& shape) {
    std::int64_t count = 1;
    std::ostringstream dims;
    for (size_t i = 0; i < shape.size(); ++i) {
        XOPD_CHECK(shape[i] >= 0, "'" << path << "': negative dimension in shape");
        count *= shape[i];
        dims << shape[i] << (shape.size() == 1 || i + 1 < shape.size() ? "," : "");
        if (i + 1 < shape.size()) dims << ' ';
    }
    XOPD_CHECK(count == static_cast<std::int64_t>(values.size()),
               "'" << path << "': shape holds " << count << " values but " << values.size() << " were given");
    std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims.str() + "), }";
    // Magic (6) + version (2) + header length (2) + header + '\n' is a multiple of 64.
    const size_t unpadded = 10 + header.size() + 1;
    header.append((64 - unpadded % 64) % 64, ' ');
    header.push_back('\n');
    std::string out("\x93NUMPY\x01\x00", 8);
    out.push_back(static_cast<char>(header.size() & 0xff));
    out.push_back(static_cast<char>(header.size() >> 8));
    out += header;
    const size_t at = out.size();
    out.resize(at + values.size() * sizeof(float));
    static_assert(sizeof(float) == 4, "float32");
    if (!values.empty()) std::memcpy(out.data() + at, values.data(), values.size() * sizeof(float));  // little endian hosts
    writeFileAtomic(path, out);
}

NpyArray readNpyFloat32(const std::string& path) {
    const std::string bytes = readTextFile(path);
    XOPD_CHECK(bytes.size() >= 10 && bytes.compare(0, 6, "\x93NUMPY") == 0, "'" << path << "': not an .npy file");
    const int major = static_cast<unsigned char>(bytes[6]);
    size_t header_len = 0, start = 0;
    if (major == 1) {
        header_len = static_cast<unsigned char>(bytes[8]) | static_cast<unsigned char>(bytes[9]) << 8;
        start = 10;
    } else {
        XOPD_CHECK(major == 2 || major == 3, "'" << path << "': unsupported .npy version " << major);
        XOPD_CHECK(bytes.size() >= 12, "'" << path << "': truncated .npy header");
        for (int i = 0; i < 4; ++i) header_len |= size_t(static_cast<unsigned char>(bytes[8 + i])) << (8 * i);
        start = 12;
    }
    XOPD_CHECK(start + header_len <= bytes.size(), "'" << path << "': truncated .npy header");
    const std::string header = bytes.substr(start, header_len);
    const bool f4 = header.find("'<f4'") != std::string::npos, f8 = header.find("'<f8'") != std::string::npos;
    XOPD_CHECK(f4 || f8, "'" << path << "': only little-endian float32/float64 .npy files are supported");
    XOPD_CHECK(header.find("'fortran_order': False") != std::string::npos,
               "'" << path << "': Fortran-order .npy files are not supported");
    const auto open = header.find('('), close = header.find(')');
    XOPD_CHECK(open != std::string::npos && close != std::string::npos && open < close,
               "'" << path << "': .npy header has no shape");
    NpyArray a;
    std::int64_t count = 1;
    std::istringstream dims(header.substr(open + 1, close - open - 1));
    std::string tok;
    while (std::getline(dims, tok, ',')) {
        if (tok.find_first_not_of(' ') == std::string::npos) continue;
        a.shape.push_back(std::stoll(tok));
        count *= a.shape.back();
    }
    const size_t width = f4 ? 4 : 8;
    const size_t data_at = start + header_len;
    XOPD_CHECK(bytes.size() - data_at == size_t(count) * width,
               "'" << path << "': .npy data size does not match its shape");
    a.values.resize(static_cast<size_t>(count));
    for (std::int64_t i = 0; i < count; ++i) {
        if (f4) {
            std::memcpy(&a.values[size_t(i)], bytes.data() + data_at + size_t(i) * 4, 4);
        } else {
            double d;
            std::memcpy(&d, bytes.data() + data_at + size_t(i) * 8, 8);
            a.values[size_t(i)] = static_cast<float>(d);
        }
    }
    return a;
}

}  // namespace xopd::audio
