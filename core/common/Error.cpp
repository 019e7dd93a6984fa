#include "core/common/Error.h"

namespace xopd {

void throwError(const std::string& message) { throw Error(message); }

}  // namespace xopd
