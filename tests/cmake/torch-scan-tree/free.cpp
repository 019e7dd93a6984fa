#include "plain.h"
#include <vector>
