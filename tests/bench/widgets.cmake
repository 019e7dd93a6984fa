# bench_gui_latency: GUI event-loop latency while a toy X-OPD run trains with every chart shown,
# against the idle run as the baseline (bench-widgets.sh). Needs the GUI (XOPD_GUI).
if(TARGET xopd_widgets)
  add_executable(bench_gui_latency ${CMAKE_CURRENT_LIST_DIR}/bench_gui_latency.cpp)
  target_link_libraries(bench_gui_latency PRIVATE Xopd::widgets Xopd::core xopd_options xopd_warnings)
  set_target_properties(bench_gui_latency PROPERTIES AUTOMOC OFF)
endif()
