// Whole-layer Keras JSON: conv1d_create_from_config and conv1d_get_config
// against the spec's get_config() example (section 9), older Keras forms,
// the model-entry wrapper, and errors that name the key.
#include <conv1d/conv1d.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "keras_spec_config.hpp"

namespace {

using ordered_json = nlohmann::ordered_json;

const char* const kSpecExample = test_util::kKerasSpecConfig;

struct Owned {
  conv1d_layer* p = nullptr;
  ~Owned() { conv1d_destroy(p); }
};

conv1d_status create(const std::string& json, Owned& out) { return conv1d_create_from_config(json.c_str(), &out.p); }

std::string config_of(const conv1d_layer* l, int wrapped = 0) {
  size_t need = 0;
  REQUIRE(conv1d_get_config(l, wrapped, nullptr, 0, &need) == CONV1D_ERROR_BUFFER_TOO_SMALL);
  std::string s(need, '\0');
  REQUIRE(conv1d_get_config(l, wrapped, &s[0], need, nullptr) == CONV1D_OK);
  s.resize(need - 1);
  return s;
}

// Equal values with equal key order (ordered_json compares in order).
void require_same_json(const std::string& got, const std::string& want) {
  INFO("got  " << got << "\nwant " << ordered_json::parse(want).dump());
  REQUIRE(ordered_json::parse(got) == ordered_json::parse(want));
}

}  // namespace

TEST_CASE("the spec's get_config example round-trips exactly", "[config]") {
  Owned l;
  REQUIRE(create(kSpecExample, l) == CONV1D_OK);
  require_same_json(config_of(l.p), kSpecExample);
  int64_t v = 0;
  REQUIRE(conv1d_get_int(l.p, CONV1D_PARAM_FILTERS, &v) == CONV1D_OK);
  CHECK(v == 32);
  REQUIRE(conv1d_get_int(l.p, CONV1D_PARAM_ACTIVATION, &v) == CONV1D_OK);
  CHECK(v == CONV1D_ACTIVATION_RELU);
  // A layer made with the setters serializes the same way.
  conv1d_layer* m = nullptr;
  REQUIRE(conv1d_create(32, 3, &m) == CONV1D_OK);
  REQUIRE(conv1d_set_string(m, CONV1D_PARAM_ACTIVATION, "relu") == CONV1D_OK);
  require_same_json(config_of(m), kSpecExample);
  conv1d_destroy(m);
}

TEST_CASE("older Keras 3 forms are read and written back in the 3.15 form", "[config]") {
  ordered_json old = ordered_json::parse(kSpecExample);
  old["dtype"] = "float32";                                                        // Keras 3.0-3.3
  old["kernel_initializer"]["config"] = ordered_json::parse(R"({"seed": null})");  // before 3.15
  old["kernel_size"] = 3;                                                          // a plain int also works
  Owned l;
  REQUIRE(create(old.dump(), l) == CONV1D_OK);
  require_same_json(config_of(l.p), kSpecExample);
  // Keras' function dict for an activation.
  old["activation"] = ordered_json::parse(
      R"({"module": "keras.activations", "class_name": "function", "config": "relu", "registered_name": "function"})");
  Owned l2;
  REQUIRE(create(old.dump(), l2) == CONV1D_OK);
  require_same_json(config_of(l2.p), kSpecExample);
}

TEST_CASE("every argument round-trips, and the model entry builds the layer", "[config]") {
  const std::string entry = R"({
    "module": "keras.layers", "class_name": "Conv1D", "registered_name": null,
    "config": {
      "name": "encoder_conv", "trainable": false,
      "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": null},
      "activity_regularizer": {"module": "keras.regularizers", "class_name": "L2", "config": {"l2": 0.001}, "registered_name": null},
      "filters": 8, "kernel_size": [5], "strides": [1], "padding": "causal", "data_format": "channels_first",
      "dilation_rate": [2], "groups": 2, "activation": "gelu", "use_bias": false,
      "kernel_initializer": {"module": "keras.initializers", "class_name": "VarianceScaling",
        "config": {"seed": 3, "scale": 2.0, "mode": "fan_out", "distribution": "uniform", "input_axes": null, "output_axes": null},
        "registered_name": null},
      "bias_initializer": {"module": "keras.initializers", "class_name": "Zeros", "config": {}, "registered_name": null},
      "kernel_regularizer": {"module": "keras.regularizers", "class_name": "L1L2", "config": {"l1": 0.01, "l2": 0.02}, "registered_name": null},
      "bias_regularizer": null,
      "activity_regularizer": {"module": "keras.regularizers", "class_name": "L2", "config": {"l2": 0.001}, "registered_name": null},
      "kernel_constraint": null,
      "bias_constraint": {"module": "keras.constraints", "class_name": "NonNeg", "config": {}, "registered_name": null},
      "lora_rank": 2, "lora_alpha": 4
    },
    "build_config": {"input_shape": [null, 6, 100]}
  })";
  Owned l;
  const conv1d_status s = create(entry, l);
  INFO(conv1d_last_error_message());
  REQUIRE(s == CONV1D_OK);
  int64_t channels = 0, rank = 0;
  REQUIRE(conv1d_get_int(l.p, CONV1D_PARAM_IN_CHANNELS, &channels) == CONV1D_OK);
  CHECK(channels == 6);  // channels_first: axis 1
  REQUIRE(conv1d_get_int(l.p, CONV1D_PARAM_LORA_RANK, &rank) == CONV1D_OK);
  CHECK(rank == 2);
  size_t a_len = 0;
  REQUIRE(conv1d_weight_size(l.p, CONV1D_WEIGHT_LORA_A, &a_len) == CONV1D_OK);
  CHECK(a_len == 5 * 3 * 2);  // LoRA enabled at build
  ordered_json want = ordered_json::parse(entry);
  want["build_config"]["input_shape"] = ordered_json::parse("[null, 6, null]");  // steps are not kept
  // Keys in Keras' order: module, class_name, config, registered_name, build_config.
  ordered_json ordered;
  for (const char* k : {"module", "class_name", "config", "registered_name", "build_config"}) ordered[k] = want[k];
  require_same_json(config_of(l.p, 1), ordered.dump());
  require_same_json(config_of(l.p, 0), ordered["config"].dump());
}

TEST_CASE("config errors name the key and create nothing", "[config][errors]") {
  auto fails = [](const std::string& json, conv1d_status status, const std::string& needle) {
    conv1d_layer* l = reinterpret_cast<conv1d_layer*>(0x1);
    const conv1d_status s = conv1d_create_from_config(json.c_str(), &l);
    INFO(json << " -> " << conv1d_last_error_message());
    CHECK(s == status);
    CHECK(std::string(conv1d_last_error_message()).find(needle) != std::string::npos);
    CHECK(l == reinterpret_cast<conv1d_layer*>(0x1));  // *out untouched
  };
  ordered_json base = ordered_json::parse(kSpecExample);
  auto with = [&](const char* key, const char* value) {
    ordered_json j = base;
    j[key] = ordered_json::parse(value);
    return j.dump();
  };
  fails(with("foo", "1"), CONV1D_ERROR_PARSE, "'foo'");
  fails(with("padding", "\"full\""), CONV1D_ERROR_UNKNOWN_NAME, "'padding'");
  fails(with("kernel_size", "[3, 3]"), CONV1D_ERROR_INVALID_VALUE, "must be a tuple of 1 integers");
  fails(with("filters", "0"), CONV1D_ERROR_INVALID_SIZE, "filters");
  fails(with("groups", "5"), CONV1D_ERROR_GROUPS_MISMATCH, "'groups'");
  fails(with("use_bias", "1"), CONV1D_ERROR_PARSE, "'use_bias'");
  fails(with("activation", "\"swishy\""), CONV1D_ERROR_UNKNOWN_NAME, "'activation'");
  fails(with("kernel_regularizer", "\"l1_l2\""), CONV1D_ERROR_UNKNOWN_NAME, "'kernel_regularizer'");
  fails(with("kernel_initializer", R"({"class_name": "GlorotUniform", "config": {"sede": 1}})"), CONV1D_ERROR_PARSE,
        "'sede'");
  fails(with("dtype", "\"mixed_float16\""), CONV1D_ERROR_UNSUPPORTED, "mixed_float16");
  fails(R"({"class_name": "Conv2D", "config": {"filters": 2, "kernel_size": [3]}})", CONV1D_ERROR_UNSUPPORTED,
        "Conv2D");
  fails(
      R"({"class_name": "Conv1D", "config": {"filters": 2, "kernel_size": [3]}, "build_config": {"input_shape": [null, 10]}})",
      CONV1D_ERROR_PARSE, "build_config");
  fails("[1, 2]", CONV1D_ERROR_PARSE, "object");
  fails("{\"filters\": ", CONV1D_ERROR_PARSE, "not JSON");
  CHECK(conv1d_create_from_config(nullptr, nullptr) == CONV1D_ERROR_NULL_POINTER);
}

TEST_CASE("dtype policies: read as a name or DTypePolicy, written back as the policy", "[config][dtype]") {
  for (const char* policy : {"float32", "float64", "bfloat16", "mixed_bfloat16"}) {
    INFO(policy);
    ordered_json j = ordered_json::parse(kSpecExample);
    j["dtype"] = policy;  // Keras 3.0-3.3 wrote the name
    Owned l;
    REQUIRE(create(j.dump(), l) == CONV1D_OK);
    const ordered_json out = ordered_json::parse(config_of(l.p));
    CHECK(out["dtype"]["class_name"] == "DTypePolicy");
    CHECK(out["dtype"]["config"]["name"] == policy);
    // The DTypePolicy dict reads back to the same layer and the same JSON.
    Owned again;
    REQUIRE(create(out.dump(), again) == CONV1D_OK);
    CHECK(config_of(again.p) == out.dump());
    int64_t compute = -1;
    REQUIRE(conv1d_get_int(again.p, CONV1D_PARAM_DTYPE, &compute) == CONV1D_OK);
    const std::string name = policy;
    CHECK(compute == (name == "float32"   ? CONV1D_DTYPE_FLOAT32
                      : name == "float64" ? CONV1D_DTYPE_FLOAT64
                                          : CONV1D_DTYPE_BFLOAT16));
  }
  ordered_json j = ordered_json::parse(kSpecExample);
  j["dtype"] = nullptr;  // None: Keras' default policy
  Owned l;
  REQUIRE(create(j.dump(), l) == CONV1D_OK);
  CHECK(ordered_json::parse(config_of(l.p))["dtype"]["config"]["name"] == "float32");
  j["dtype"] = "float33";
  Owned bad;
  CHECK(create(j.dump(), bad) == CONV1D_ERROR_UNKNOWN_NAME);
  CHECK(std::string(conv1d_last_error_message()).find("'dtype'") != std::string::npos);
  // A float64 layer built from a model entry draws its weights in double.
  ordered_json entry = {{"class_name", "Conv1D"}, {"config", ordered_json::parse(kSpecExample)}};
  entry["config"]["dtype"] = "float64";
  entry["build_config"] = {{"input_shape", {nullptr, 10, 4}}};
  Owned built;
  REQUIRE(create(entry.dump(), built) == CONV1D_OK);
  int64_t vd = -1;
  REQUIRE(conv1d_get_int(built.p, CONV1D_PARAM_VARIABLE_DTYPE, &vd) == CONV1D_OK);
  CHECK(vd == CONV1D_DTYPE_FLOAT64);
}
