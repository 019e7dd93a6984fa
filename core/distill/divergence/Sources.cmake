# Divergence half of xopd_distill (paths relative to core/distill/): the divergence API, its
# ATen reference and the per-device dispatch table that kernels/ registers CUDA entries into.
list(APPEND XOPD_DISTILL_DIVERGENCE_SOURCES
  divergence/Divergence.cpp
  divergence/DivergenceBackend.cpp
  divergence/ReferenceDivergence.cpp)
