# Checkpoint half of xopd_model: safetensors reader/writer, sharded index, configs.
list(APPEND XOPD_MODEL_CHECKPOINT_SOURCES)
