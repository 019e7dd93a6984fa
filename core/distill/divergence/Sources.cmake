# Divergence half of xopd_distill (paths relative to core/distill/).
list(APPEND XOPD_DISTILL_DIVERGENCE_SOURCES)
