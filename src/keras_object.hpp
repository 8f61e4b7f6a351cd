// Reading a Keras object identifier: a registered name ("l2", "MaxNorm") or
// a serialized object {"class_name": ..., "config": {...}} with or without
// "module"/"registered_name", as keras.saving.deserialize_keras_object takes.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace conv1d {

struct KerasObject {
  std::string class_name;  // the identifier as given (a name or the JSON's class_name)
  nlohmann::json config;   // the JSON's "config" object; empty for a bare name
  bool is_json = false;
};

// `kind` names the object family in messages ("Regularizer", "Constraint").
// Malformed JSON or a wrongly typed field throws Error(CONV1D_ERROR_PARSE).
KerasObject parse_keras_object(const std::string& spec, const char* kind);

// Throws Error(CONV1D_ERROR_PARSE) naming the first key of `obj.config` that
// is not in `allowed` (Keras raises a TypeError for an unexpected argument).
void check_config_keys(const KerasObject& obj, const std::string& cls, const std::vector<std::string>& allowed,
                       const char* kind);

// Python's repr of a shape tuple: (), (5,), (3, 4).
std::string shape_repr(const std::vector<int64_t>& shape);

}  // namespace conv1d
