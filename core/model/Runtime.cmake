# Runtime half of xopd_model: decoder, audio towers, speech LM, generation, scoring, alignment.
list(APPEND XOPD_MODEL_RUNTIME_SOURCES
  runtime/TensorMap.cpp
  runtime/RuntimeConfig.cpp
  runtime/Linear.cpp
  runtime/Attention.cpp
  runtime/KvCache.cpp
  runtime/SparseMoe.cpp
  runtime/Qwen2Decoder.cpp
  runtime/AudioEncoder.cpp
  runtime/Qwen2AudioTower.cpp
  runtime/OmniAudioTower.cpp
  runtime/AutAudioTower.cpp
  runtime/SpeechLm.cpp
  runtime/PromptBatch.cpp
  runtime/ModelInputs.cpp
  runtime/Generation.cpp
  runtime/Scoring.cpp
  runtime/VocabAlignment.cpp
  runtime/VocabMask.cpp
  runtime/TinyModels.cpp)
