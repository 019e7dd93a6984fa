#include "core/model/runtime/TensorMap.h"

#include "core/common/Error.h"

#include <sstream>

namespace xopd::model {

torch::Tensor requireTensor(const TensorMap& map, const std::string& name, const std::string& what) {
    auto it = map.find(name);
    XOPD_CHECK(it != map.end(), what << ": missing tensor '" << name << "'");
    return it->second;
}

torch::Tensor optionalTensor(const TensorMap& map, const std::string& name) {
    auto it = map.find(name);
    return it == map.end() ? torch::Tensor() : it->second;
}

std::string shapeString(at::IntArrayRef shape) {
    std::ostringstream os;
    os << "[";
    for (size_t i = 0; i < shape.size(); ++i) os << (i ? ", " : "") << shape[i];
    os << "]";
    return os.str();
}

torch::Tensor requireShaped(const TensorMap& map, const std::string& name, at::IntArrayRef shape,
                            const std::string& what) {
    torch::Tensor t = requireTensor(map, name, what);
    XOPD_CHECK(t.sizes() == shape, what << ": tensor '" << name << "' has shape " << shapeString(t.sizes())
                                        << ", expected " << shapeString(shape));
    return t;
}

}  // namespace xopd::model
