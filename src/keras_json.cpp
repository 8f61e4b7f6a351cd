#include "keras_json.hpp"

#include <cmath>
#include <nlohmann/json.hpp>
#include <vector>

#include "activations.hpp"
#include "config.hpp"
#include "error.hpp"

namespace conv1d {
namespace {

using json = nlohmann::json;
using ordered_json = nlohmann::ordered_json;

[[noreturn]] void bad(const std::string& key, const std::string& why) {
  fail(CONV1D_ERROR_PARSE, "Conv1D config: '" + key + "' " + why);
}

// Runs a setter for one key, prefixing its error with the key.
template <class F>
void apply(const std::string& key, F f) {
  try {
    f();
  } catch (const Error& e) {
    throw Error(e.status(), "Conv1D config: '" + key + "': " + e.what());
  }
}

// Keras' standardize_tuple for rank 1: an int, or a list of one int.
int64_t one_int(const std::string& key, const json& v) {
  const json* x = &v;
  if (v.is_array()) {
    if (v.size() != 1) {
      fail(CONV1D_ERROR_INVALID_VALUE,
           "The `" + key + "` argument must be a tuple of 1 integers. Received " + key + "=" + v.dump());
    }
    x = &v[0];
  }
  if (!x->is_number_integer()) bad(key, "must be an integer or a list of one integer, got " + v.dump());
  return x->get<int64_t>();
}

bool boolean(const std::string& key, const json& v) {
  if (!v.is_boolean()) bad(key, "must be true or false, got " + v.dump());
  return v.get<bool>();
}

// A dtype string or DTypePolicy dict: the policy name (float32 for null,
// Keras' global default).
std::string dtype_policy(const json& v) {
  if (v.is_null()) return "float32";
  std::string name;
  if (v.is_string()) {
    name = v.get<std::string>();
  } else if (v.is_object() && v.contains("config") && v["config"].is_object() && v["config"].contains("name") &&
             v["config"]["name"].is_string()) {
    name = v["config"]["name"].get<std::string>();
  } else {
    bad("dtype", "must be a dtype name or a DTypePolicy object, got " + v.dump());
  }
  return name;
}

// The built-in activation a serialized activation names.
std::string activation_of(const json& v) {
  if (v.is_null()) return "linear";
  if (v.is_string()) return v.get<std::string>();
  // Some Keras versions write {"class_name": "function", "config": "relu", ...}.
  if (v.is_object() && v.contains("config") && v["config"].is_string()) return v["config"].get<std::string>();
  bad("activation", "must be an activation name, got " + v.dump());
}

// An initializer/regularizer/constraint value as the string the setters take.
std::string object_spec(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

// The channel count a build_config's input_shape gives for `first` layout.
int64_t channels_from(const json& build, bool first) {
  const json* shape = nullptr;
  if (build.is_object() && build.contains("input_shape")) shape = &build["input_shape"];
  if (!shape || !shape->is_array() || shape->size() != 3)
    bad("build_config", "needs \"input_shape\" as a list of 3 (batch, steps, channels), got " + build.dump());
  const json& c = (*shape)[first ? 1 : 2];
  if (!c.is_number_integer()) bad("build_config", "input_shape has no channel count: " + shape->dump());
  return c.get<int64_t>();
}

}  // namespace

KerasConfig parse_layer_config(const std::string& text) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    fail(CONV1D_ERROR_PARSE, std::string("Conv1D config: not JSON: ") + e.what());
  }
  if (!j.is_object()) fail(CONV1D_ERROR_PARSE, "Conv1D config: expected a JSON object, got " + j.dump());
  json build = nullptr;
  // The model-entry wrapper, else a bare get_config() dict.
  if (j.contains("class_name") && j.contains("config") && j["config"].is_object()) {
    const json& cls = j["class_name"];
    if (!cls.is_string() || (cls != "Conv1D" && cls != "Convolution1D"))
      fail(CONV1D_ERROR_UNSUPPORTED, "Conv1D config: class_name " + cls.dump() + " is not Conv1D");
    for (auto it = j.begin(); it != j.end(); ++it) {
      const std::string& k = it.key();
      if (k != "class_name" && k != "config" && k != "module" && k != "registered_name" && k != "build_config" &&
          k != "name" && k != "inbound_nodes")
        bad(k, "is not a key of a serialized layer");
    }
    if (j.contains("build_config")) build = j["build_config"];
    j = json(j["config"]);
  }
  static const std::vector<std::string> kKeys = {"name",
                                                 "trainable",
                                                 "dtype",
                                                 "filters",
                                                 "kernel_size",
                                                 "strides",
                                                 "padding",
                                                 "data_format",
                                                 "dilation_rate",
                                                 "groups",
                                                 "activation",
                                                 "use_bias",
                                                 "kernel_initializer",
                                                 "bias_initializer",
                                                 "kernel_regularizer",
                                                 "bias_regularizer",
                                                 "activity_regularizer",
                                                 "kernel_constraint",
                                                 "bias_constraint",
                                                 "lora_rank",
                                                 "lora_alpha",
                                                 "autocast",
                                                 "input_shape",
                                                 "batch_input_shape",
                                                 "batch_size",
                                                 "input_dim"};
  for (auto it = j.begin(); it != j.end(); ++it) {
    bool known = false;
    for (const std::string& k : kKeys) known |= k == it.key();
    if (!known) bad(it.key(), "is not a Conv1D argument");
  }
  if (!j.contains("filters") || !j["filters"].is_number_integer())
    bad("filters", "must be an integer, got " + (j.contains("filters") ? j["filters"].dump() : "nothing"));
  if (!j.contains("kernel_size")) bad("kernel_size", "is required");
  KerasConfig out;
  out.filters = j["filters"].get<int64_t>();
  out.kernel_size = one_int("kernel_size", j["kernel_size"]);
  out.config = std::move(j);
  out.build = std::move(build);
  return out;
}

void apply_layer_config(Layer& l, const KerasConfig& parsed) {
  const json& j = parsed.config;
  const json& build = parsed.build;
  auto get = [&j](const char* k) -> const json* {
    auto it = j.find(k);
    return it == j.end() ? nullptr : &*it;
  };
  if (const json* v = get("dtype")) apply("dtype", [&] { l.set_string(CONV1D_PARAM_DTYPE, dtype_policy(*v)); });
  if (const json* v = get("autocast")) boolean("autocast", *v);
  // In Keras' constructor order, so the first error is the one Keras raises.
  if (const json* v = get("groups"))
    apply("groups", [&] {
      if (!v->is_number_integer()) bad("groups", "must be an integer, got " + v->dump());
      l.set_int(CONV1D_PARAM_GROUPS, v->get<int64_t>());
    });
  if (const json* v = get("strides"))
    apply("strides", [&] { l.set_int(CONV1D_PARAM_STRIDES, one_int("strides", *v)); });
  if (const json* v = get("dilation_rate"))
    apply("dilation_rate", [&] { l.set_int(CONV1D_PARAM_DILATION_RATE, one_int("dilation_rate", *v)); });
  if (const json* v = get("padding"))
    apply("padding", [&] {
      if (!v->is_string()) bad("padding", "must be a string, got " + v->dump());
      l.set_string(CONV1D_PARAM_PADDING, v->get<std::string>());
    });
  if (const json* v = get("data_format"))
    apply("data_format", [&] {
      if (v->is_null()) return;  // None: keras.json's image_data_format, already the default
      if (!v->is_string()) bad("data_format", "must be a string or null, got " + v->dump());
      l.set_string(CONV1D_PARAM_DATA_FORMAT, v->get<std::string>());
    });
  if (const json* v = get("activation"))
    apply("activation", [&] { l.set_string(CONV1D_PARAM_ACTIVATION, activation_of(*v)); });
  if (const json* v = get("use_bias"))
    apply("use_bias", [&] { l.set_int(CONV1D_PARAM_USE_BIAS, boolean("use_bias", *v) ? 1 : 0); });
  const std::pair<const char*, conv1d_param> objects[] = {{"kernel_initializer", CONV1D_PARAM_KERNEL_INITIALIZER},
                                                          {"bias_initializer", CONV1D_PARAM_BIAS_INITIALIZER},
                                                          {"kernel_regularizer", CONV1D_PARAM_KERNEL_REGULARIZER},
                                                          {"bias_regularizer", CONV1D_PARAM_BIAS_REGULARIZER},
                                                          {"activity_regularizer", CONV1D_PARAM_ACTIVITY_REGULARIZER},
                                                          {"kernel_constraint", CONV1D_PARAM_KERNEL_CONSTRAINT},
                                                          {"bias_constraint", CONV1D_PARAM_BIAS_CONSTRAINT}};
  for (const auto& o : objects)
    if (const json* v = get(o.first)) apply(o.first, [&] { l.set_string(o.second, object_spec(*v)); });
  if (const json* v = get("lora_rank"))
    apply("lora_rank", [&] {
      if (v->is_null()) return;
      if (!v->is_number_integer()) bad("lora_rank", "must be an integer or null, got " + v->dump());
      l.set_int(CONV1D_PARAM_LORA_RANK, v->get<int64_t>());
    });
  if (const json* v = get("lora_alpha"))
    apply("lora_alpha", [&] {
      if (v->is_null()) return;
      if (!v->is_number()) bad("lora_alpha", "must be a number or null, got " + v->dump());
      l.set_double(CONV1D_PARAM_LORA_ALPHA, v->get<double>());
    });
  if (const json* v = get("trainable"))
    apply("trainable", [&] { l.set_int(CONV1D_PARAM_TRAINABLE, boolean("trainable", *v) ? 1 : 0); });
  if (const json* v = get("name"))
    apply("name", [&] {
      if (!v->is_string()) bad("name", "must be a string, got " + v->dump());
      l.set_string(CONV1D_PARAM_NAME, v->get<std::string>());
    });
  if (!build.is_null()) {
    const int64_t channels = channels_from(build, l.config().data_format == CONV1D_CHANNELS_FIRST);
    apply("build_config", [&] { l.build(channels); });
  }
}

std::string layer_config(const Layer& layer, bool wrapped) {
  const LayerConfig& c = layer.config();
  auto object = [](const std::string& s) { return ordered_json::parse(s); };
  ordered_json j;
  j["name"] = c.name;
  j["trainable"] = c.trainable;
  j["dtype"] = {{"module", "keras"},
                {"class_name", "DTypePolicy"},
                {"config", {{"name", policy_name(c.dtype)}}},
                {"registered_name", nullptr}};
  // Layer.get_config adds activity_regularizer here when set; BaseConv's
  // update then keeps that position.
  if (c.activity_regularizer.active()) j["activity_regularizer"] = object(c.activity_regularizer.to_json());
  j["filters"] = c.filters;
  j["kernel_size"] = {c.kernel_size};
  j["strides"] = {c.strides};
  j["padding"] = padding_name(c.padding);
  j["data_format"] = data_format_name(c.data_format);
  j["dilation_rate"] = {c.dilation_rate};
  j["groups"] = c.groups;
  j["activation"] = activation_name(c.activation);
  j["use_bias"] = c.use_bias;
  j["kernel_initializer"] = object(c.kernel_initializer.to_json());
  j["bias_initializer"] = object(c.bias_initializer.to_json());
  j["kernel_regularizer"] = object(c.kernel_regularizer.to_json());
  j["bias_regularizer"] = object(c.bias_regularizer.to_json());
  j["activity_regularizer"] = object(c.activity_regularizer.to_json());
  j["kernel_constraint"] = object(c.kernel_constraint.to_json());
  j["bias_constraint"] = object(c.bias_constraint.to_json());
  if (c.lora_rank > 0) {
    j["lora_rank"] = c.lora_rank;
    const double alpha = c.has_lora_alpha ? c.lora_alpha : static_cast<double>(c.lora_rank);
    if (alpha == std::floor(alpha) && std::fabs(alpha) < 9e15)
      j["lora_alpha"] = static_cast<int64_t>(alpha);
    else
      j["lora_alpha"] = alpha;
  }
  if (!wrapped) return j.dump();
  ordered_json w;
  w["module"] = "keras.layers";
  w["class_name"] = "Conv1D";
  w["config"] = j;
  w["registered_name"] = nullptr;
  if (layer.built()) {
    const int64_t channels = layer.get_int(CONV1D_PARAM_IN_CHANNELS);
    const bool first = c.data_format == CONV1D_CHANNELS_FIRST;
    w["build_config"] = {
        {"input_shape", first ? ordered_json{nullptr, channels, nullptr} : ordered_json{nullptr, nullptr, channels}}};
  }
  return w.dump();
}

}  // namespace conv1d
