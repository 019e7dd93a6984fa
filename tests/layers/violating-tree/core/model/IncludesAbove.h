#pragma once
// Fixture: a model header including eval (above it). check-core-layers must reject this tree.
#include "core/eval/Evaluator.h"
