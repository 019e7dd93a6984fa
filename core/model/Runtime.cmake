# Runtime half of xopd_model: decoder, audio towers, speech LM, generation, scoring, alignment.
list(APPEND XOPD_MODEL_RUNTIME_SOURCES)
