# Objectives/trainer half of xopd_distill (paths relative to core/distill/): config, the policy
# interface and its toy implementation, loss terms, data order, lr schedule and the trainer step.
list(APPEND XOPD_DISTILL_TRAINER_SOURCES
  DistillConfig.cpp
  Knobs.cpp
  RunEstimate.cpp
  DataOrder.cpp
  LrSchedule.cpp
  Objectives.cpp
  RolloutScoring.cpp
  ToyPolicy.cpp
  RunModels.cpp
  Lora.cpp
  SpeechLmPolicy.cpp
  RemoteTeacher.cpp
  DataParallel.cpp
  Trainer.cpp)
