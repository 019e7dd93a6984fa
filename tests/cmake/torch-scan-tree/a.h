#pragma once
#include "b.h"
#include "d.h"
