# Checkpoint half of xopd_model: safetensors reader/writer, sharded index, configs.
# SafetensorsHeader.cpp, ModelConfig.cpp, DecoderLayout.cpp and CheckpointLayout.cpp need no LibTorch (the fuzzer and
# torch-free tools compile them on their own); the rest uses it.
list(APPEND XOPD_MODEL_CHECKPOINT_SOURCES
  checkpoint/SafetensorsHeader.cpp
  checkpoint/MappedFile.cpp
  checkpoint/SafetensorsFile.cpp
  checkpoint/SafetensorsWriter.cpp
  checkpoint/WeightStore.cpp
  checkpoint/ModelConfig.cpp
  checkpoint/DecoderLayout.cpp
  checkpoint/CheckpointLayout.cpp
  checkpoint/WeightChecks.cpp
  checkpoint/InspectSummary.cpp
  checkpoint/ModelBudget.cpp
  checkpoint/TokenizerChecks.cpp)
