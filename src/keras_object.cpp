#include "keras_object.hpp"

#include <algorithm>

#include "error.hpp"

namespace conv1d {

using json = nlohmann::json;

KerasObject parse_keras_object(const std::string& spec, const char* kind) {
  KerasObject obj;
  obj.config = json::object();
  const size_t first = spec.find_first_not_of(" \t\r\n");
  if (first == std::string::npos || spec[first] != '{') {
    obj.class_name = spec;
    return obj;
  }
  json j;
  try {
    j = json::parse(spec);
  } catch (const json::exception& e) {
    fail(CONV1D_ERROR_PARSE, std::string(kind) + " JSON: " + e.what());
  }
  auto it = j.find("class_name");
  if (it == j.end() || !it->is_string())
    fail(CONV1D_ERROR_PARSE, std::string(kind) + " JSON needs a string \"class_name\": " + j.dump());
  obj.class_name = it->get<std::string>();
  for (const char* k : {"module", "registered_name"}) {
    auto m = j.find(k);
    if (m != j.end() && !m->is_null() && !m->is_string())
      fail(CONV1D_ERROR_PARSE, std::string(kind) + " JSON: \"" + k + "\" must be a string or null");
  }
  // Keras reads `config["config"] or {}`; other top-level keys it ignores.
  auto c = j.find("config");
  if (c != j.end() && !c->is_null()) {
    if (!c->is_object())
      fail(CONV1D_ERROR_PARSE, std::string(kind) + " JSON: \"config\" must be an object, got " + c->dump());
    obj.config = *c;
  }
  obj.is_json = true;
  return obj;
}

void check_config_keys(const KerasObject& obj, const std::string& cls, const std::vector<std::string>& allowed,
                       const char* kind) {
  for (auto it = obj.config.begin(); it != obj.config.end(); ++it) {
    if (std::find(allowed.begin(), allowed.end(), it.key()) == allowed.end())
      fail(CONV1D_ERROR_PARSE, std::string(kind) + " " + cls + ": unexpected config key '" + it.key() + "'");
  }
}

std::string shape_repr(const std::vector<int64_t>& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) s += ", ";
    s += std::to_string(shape[i]);
  }
  if (shape.size() == 1) s += ",";
  return s + ")";
}

}  // namespace conv1d
