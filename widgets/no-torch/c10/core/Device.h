// Found first on xopd_widgets' include path (widgets/CMakeLists.txt) so that a widget, or a core
// header a widget includes, that pulls in LibTorch fails to compile here rather than linking fine.
#error "widgets/ must not include LibTorch (<c10/core/Device.h>): call the core through its torch-free headers"
