#pragma once
// What `xopd inspect` and the model loader both check about the values of a checkpoint's weights,
// so that inspect's "checks: ok" means the load will accept them: every tensor the model uses (the
// decoder, its head, the audio tower and projector) is stored in a dtype the runtime computes in
// (F32, F16, BF16), and holds no NaN or infinity. inspect scans every value; a load looks at the
// first values of each tensor (a full scan of a 30B model would double its load time).
//
//   validateCheckpointValues(store, layout, WeightScan::Full, "/models/qwen3");
//
// Threading: reads the store only.

#include "core/model/checkpoint/CheckpointLayout.h"
#include "core/model/checkpoint/WeightStore.h"

#include <string>
#include <vector>

namespace xopd {

/// How many values validateCheckpointValues looks at.
enum class WeightScan {
    Invalid = 0,
    Sampled,  ///< the first 65,536 values of each tensor (a load)
    Full,     ///< every value (inspect)
};

/// Throws xopd::Error naming `source`, the tensor and what is wrong with it: an integer or
/// unsupported dtype, or a NaN / infinity (with the count found).
void validateCheckpointValues(const WeightStore& store, const CheckpointLayout& layout, WeightScan scan,
                              const std::string& source);

/// Throws xopd::Error naming `source` and the tensor when the decoder's part of the checkpoint holds
/// a tensor its config's family does not have (e.g. q_norm in a checkpoint whose config says qwen2:
/// loaded anyway, it would be ignored and the model would answer garbage), or the audio encoder's
/// part one its encoder does not have.
void validateNoUnknownModelTensors(const WeightStore& store, const ModelConfig& config, const CheckpointLayout& layout,
                                   const std::string& source);

/// Tensors outside every part the model uses (decoder, head, audio tower, projector) and outside the
/// parts it deliberately skips (Omni's talker, code2wav / token2wav, vision): `inspect` warns about them.
std::vector<std::string> unusedTensorNames(const WeightStore& store, const CheckpointLayout& layout);

}  // namespace xopd
