// Layer-local include for Status/Result (defined in the public header, which has no deps).
#pragma once
#include "omnicoder/status.h"
