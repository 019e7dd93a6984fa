// TorchSave.h is header-only (templates); this file keeps the header compiled on its own.
#include "core/common/TorchSave.h"
