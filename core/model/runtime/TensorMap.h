#pragma once
// A plain name -> tensor map: the hand-off between checkpoint loading and the runtime. The
// runtime's builders (Qwen2Decoder::fromTensors, the audio towers) read their weights from it by
// Hugging Face tensor name, so any source that can produce such a map (a safetensors folder, a
// tiny random model built in memory, a LoRA merge) can feed them.
//
// Threading: plain value type; not synchronised.

#include "core/common/Tensors.h"

#include <string>
#include <unordered_map>
#include <vector>

namespace xopd::model {

using TensorMap = std::unordered_map<std::string, torch::Tensor>;

/// Returns map[name]; throws xopd::Error naming `what` (a file or model) and the missing tensor.
torch::Tensor requireTensor(const TensorMap& map, const std::string& name, const std::string& what);

/// Returns map[name] or an undefined tensor when absent.
torch::Tensor optionalTensor(const TensorMap& map, const std::string& name);

/// Like requireTensor, and checks the shape; the error names the tensor, the expected and the
/// actual shape.
torch::Tensor requireShaped(const TensorMap& map, const std::string& name, at::IntArrayRef shape,
                            const std::string& what);

/// "[a, b, c]" for error messages.
std::string shapeString(at::IntArrayRef shape);

}  // namespace xopd::model
