# Tests of the workbench main window (widgets/main), included by tests/widgets/CMakeLists.txt.
# The end-to-end test trains the built-in toy models for real (core RunController), so it takes
# tens of seconds on two cores; offscreen platform from xopd_add_qtest.
xopd_add_qtest(test_main_window SOURCES test_main_window.cpp LIBS Xopd::widgets LABELS gui TIMEOUT 900
               ENV JACK_NO_START_SERVER=1)
# The Ask screen answering with a run checkpoint: builds a quick demo kit and a one-step run with
# the CLI (seconds), then loads the checkpoint as the student.
xopd_add_qtest(test_ask_checkpoint SOURCES test_ask_checkpoint.cpp LIBS Xopd::widgets LABELS gui TIMEOUT 900
               ENV JACK_NO_START_SERVER=1)
# The window first (issue 16): a missing demo kit built in the background from the window's
# banner, cancelled (nothing left) and, quick-sized (seconds), taken in without a restart.
xopd_add_qtest(test_demo_kit_build SOURCES test_demo_kit_build.cpp LIBS Xopd::widgets LABELS gui TIMEOUT 600
               ENV JACK_NO_START_SERVER=1)
# Push-to-talk on the Ask screen through a virtual ALSA microphone: hold to record (live
# waveform), release to trim and ask; the answers stream token by token (toy models).
xopd_add_qtest(test_push_to_talk SOURCES test_push_to_talk.cpp LIBS Xopd::widgets LABELS gui TIMEOUT 300
               ENV JACK_NO_START_SERVER=1)
