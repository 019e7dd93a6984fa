// Fixture: a core source including Qt. check-core-layers must reject this tree.
#include <QString>
