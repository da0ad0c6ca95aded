// XGBoost model import: the JSON that `Booster.save_model("m.json")` writes (gbtree booster;
// objectives binary:logistic, multi:softprob, reg:squarederror; numerical splits only).
#pragma once

#include <string>

#include "aimc/ir/tree_ensemble.h"

namespace aimc::frontend {

// Error(kBadInput) naming the file and what is wrong: unreadable or malformed JSON, another
// booster (dart, gblinear), another objective, categorical splits, inconsistent arrays.
ir::TreeEnsemble load_xgboost(const std::string& path);
// The same from JSON text; `source` names it in errors.
ir::TreeEnsemble parse_xgboost(const std::string& json_text, const std::string& source);

}  // namespace aimc::frontend
