# Objectives/trainer half of xopd_distill.
list(APPEND XOPD_DISTILL_TRAINER_SOURCES)
