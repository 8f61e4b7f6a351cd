#include "io/keras_h5.hpp"

#include <algorithm>
#include <cstring>
#include <mutex>

#include "error.hpp"
#include "io/file.hpp"
#include "io/zip.hpp"

#if defined(CONV1D_HAVE_HDF5)
#include <hdf5.h>
#endif

namespace conv1d {

#if !defined(CONV1D_HAVE_HDF5)

KerasVariables read_keras_weights(const std::string& path, const char*) {
  const InputFile file(path);  // a missing or unreadable file is still an I/O error
  fail(CONV1D_ERROR_UNSUPPORTED,
       "cannot read '" + path +
           "': this libconv1d was built without HDF5 (CMake option CONV1D_WITH_HDF5; install libhdf5-dev and "
           "rebuild), which Keras weight files (.keras, .weights.h5, .h5) need. NumPy .npy files work without it: "
           "see conv1d_load_npy");
}

#else

namespace {

// The ZIP entry Keras writes the weights of a .keras archive to.
constexpr const char* kWeightsEntry = "model.weights.h5";

// HDF5 calls are serialized (HDF5 may be built without thread safety), and
// HDF5 is kept from printing its error stack to stderr while this library
// uses it: failures become statuses and messages.
class Hdf5Session {
 public:
  Hdf5Session() : lock_(mutex()) {
    H5Eget_auto2(H5E_DEFAULT, &func_, &data_);
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
  ~Hdf5Session() {
    H5Eclear2(H5E_DEFAULT);
    H5Eset_auto2(H5E_DEFAULT, func_, data_);
  }
  Hdf5Session(const Hdf5Session&) = delete;
  Hdf5Session& operator=(const Hdf5Session&) = delete;

 private:
  static std::mutex& mutex() {
    static std::mutex m;
    return m;
  }
  std::lock_guard<std::mutex> lock_;
  H5E_auto2_t func_ = nullptr;
  void* data_ = nullptr;
};

struct ErrorWalk {
  std::string outer, inner;
};

herr_t walk_error(unsigned n, const H5E_error2_t* e, void* data) {
  auto* w = static_cast<ErrorWalk*>(data);
  const std::string desc = e && e->desc ? e->desc : "";
  if (n == 0) w->outer = desc;
  w->inner = desc;
  return 0;
}

// " (HDF5: outermost error: innermost error)" from HDF5's error stack, which
// it then clears; empty if HDF5 recorded nothing.
std::string hdf5_detail() {
  ErrorWalk w;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, walk_error, &w);
  H5Eclear2(H5E_DEFAULT);
  if (w.outer.empty()) return "";
  return " (HDF5: " + w.outer + (w.inner != w.outer ? ": " + w.inner : "") + ")";
}

// An HDF5 identifier closed by its own close function.
class Handle {
 public:
  Handle() = default;
  Handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  ~Handle() { reset(); }
  Handle(Handle&& o) noexcept : id_(o.id_), close_(o.close_) { o.id_ = -1; }
  Handle& operator=(Handle&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = o.id_;
      close_ = o.close_;
      o.id_ = -1;
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }

 private:
  void reset() {
    if (id_ >= 0 && close_) close_(id_);
    id_ = -1;
  }
  hid_t id_ = -1;
  herr_t (*close_)(hid_t) = nullptr;
};

// A read-only HDF5 file image that HDF5 uses in place. These callbacks for
// the core driver hand HDF5 the caller's buffer instead of copies, and never
// free it: every "allocation" of the image's size is that buffer, and every
// "copy" is one onto itself. (HDF5's H5LTopen_file_image does the same with
// H5LT_FILE_IMAGE_DONT_COPY, but it leaks its bookkeeping on every open:
// HDF5 issue #827.)
struct FileImage {
  void* data;
  size_t size;
};

void* image_malloc(size_t size, H5FD_file_image_op_t, void* udata) {
  auto* image = static_cast<FileImage*>(udata);
  return size == image->size ? image->data : nullptr;
}

void* image_memcpy(void* dest, const void* src, size_t size, H5FD_file_image_op_t, void*) {
  if (dest != src) std::memcpy(dest, src, size);
  return dest;
}

void* image_realloc(void*, size_t, H5FD_file_image_op_t, void*) { return nullptr; }  // read-only

herr_t image_free(void*, H5FD_file_image_op_t, void*) { return 0; }  // the caller owns it

void* udata_copy(void* udata) { return udata; }

herr_t udata_free(void*) { return 0; }

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string join(const std::string& a, const std::string& b) { return a.empty() ? b : a + "/" + b; }

// The type of the object at `path` under loc (H5I_GROUP, H5I_DATASET, ...),
// or H5I_BADID if there is none. Walks the path one link at a time, since
// H5Lexists fails rather than answers on a missing intermediate group.
H5I_type_t object_type(hid_t loc, const std::string& path) {
  size_t start = 0;
  while (true) {
    const size_t slash = path.find('/', start);
    const std::string prefix = path.substr(0, slash);
    if (prefix.empty() || H5Lexists(loc, prefix.c_str(), H5P_DEFAULT) <= 0) {
      H5Eclear2(H5E_DEFAULT);
      return H5I_BADID;
    }
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  Handle obj(H5Oopen(loc, path.c_str(), H5P_DEFAULT), H5Oclose);
  if (!obj.valid()) {
    H5Eclear2(H5E_DEFAULT);
    return H5I_BADID;
  }
  return H5Iget_type(obj.get());
}

// Reads one string attribute as a list of strings (a scalar gives one).
// Variable-length and fixed-length strings are both accepted; a non-string
// attribute with no elements (what h5py writes for an empty list) gives an
// empty list. Returns false if the attribute does not exist.
bool read_strings(hid_t obj, const std::string& name, const std::string& where, std::vector<std::string>* out) {
  if (H5Aexists(obj, name.c_str()) <= 0) {
    H5Eclear2(H5E_DEFAULT);
    return false;
  }
  auto bad = [&](const std::string& why) {
    fail(CONV1D_ERROR_PARSE, "the attribute '" + name + "' of " + where + " " + why + hdf5_detail());
  };
  Handle attr(H5Aopen(obj, name.c_str(), H5P_DEFAULT), H5Aclose);
  if (!attr.valid()) bad("cannot be opened");
  Handle type(H5Aget_type(attr.get()), H5Tclose);
  Handle space(H5Aget_space(attr.get()), H5Sclose);
  if (!type.valid() || !space.valid()) bad("cannot be inspected");
  const hssize_t n = H5Sget_simple_extent_npoints(space.get());
  if (n < 0) bad("has an invalid dataspace");
  out->clear();
  if (H5Tget_class(type.get()) != H5T_STRING) {
    if (n == 0) return true;
    bad("is not a string");
  }
  if (n == 0) return true;
  if (H5Tis_variable_str(type.get()) > 0) {
    Handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(mem.get(), H5T_VARIABLE);
    H5Tset_cset(mem.get(), H5Tget_cset(type.get()));
    std::vector<char*> ptrs(static_cast<size_t>(n), nullptr);
    if (H5Aread(attr.get(), mem.get(), ptrs.data()) < 0) bad("cannot be read");
    for (char* p : ptrs) out->push_back(p ? p : "");
#if H5_VERSION_GE(1, 12, 0)
    H5Treclaim(mem.get(), space.get(), H5P_DEFAULT, ptrs.data());
#else
    H5Dvlen_reclaim(mem.get(), space.get(), H5P_DEFAULT, ptrs.data());
#endif
    return true;
  }
  const size_t size = H5Tget_size(type.get());
  if (size == 0) bad("has a zero-size string type");
  std::vector<char> buf(static_cast<size_t>(n) * size);
  Handle mem(H5Tcopy(type.get()), H5Tclose);
  if (H5Aread(attr.get(), mem.get(), buf.data()) < 0) bad("cannot be read");
  const bool space_pad = H5Tget_strpad(type.get()) == H5T_STR_SPACEPAD;
  for (hssize_t i = 0; i < n; ++i) {
    std::string s(buf.data() + static_cast<size_t>(i) * size, size);
    s = s.substr(0, s.find('\0'));
    if (space_pad) s.erase(s.find_last_not_of(' ') + 1);
    out->push_back(s);
  }
  return true;
}

// Keras splits long list attributes into name0, name1, ... (HDF5 limits an
// attribute's size).
bool read_string_list(hid_t obj, const std::string& name, const std::string& where, std::vector<std::string>* out) {
  if (read_strings(obj, name, where, out)) return true;
  std::vector<std::string> chunk;
  bool found = false;
  out->clear();
  for (int i = 0; read_strings(obj, name + std::to_string(i), where, &chunk); ++i) {
    out->insert(out->end(), chunk.begin(), chunk.end());
    found = true;
  }
  return found;
}

struct DatasetInfo {
  bool is_dataset = false;
  std::vector<int64_t> shape;
  H5T_class_t type_class = H5T_NO_CLASS;
  size_t type_size = 0;
  bool bfloat16 = false;  // Keras' dtype="bfloat16" attribute
  bool numeric_float() const { return type_class == H5T_FLOAT || (bfloat16 && type_size == 2); }
};

DatasetInfo inspect(hid_t dset, const std::string& origin) {
  DatasetInfo info;
  info.is_dataset = true;
  Handle space(H5Dget_space(dset), H5Sclose);
  Handle type(H5Dget_type(dset), H5Tclose);
  if (!space.valid() || !type.valid()) fail(CONV1D_ERROR_PARSE, origin + " cannot be inspected" + hdf5_detail());
  if (H5Sget_simple_extent_type(space.get()) == H5S_NULL)
    fail(CONV1D_ERROR_PARSE, origin + " has an empty (null) dataspace: it holds no array");
  const int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank < 0) fail(CONV1D_ERROR_PARSE, origin + " has an invalid dataspace" + hdf5_detail());
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  if (rank > 0) H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  for (hsize_t d : dims) {
    if (d > static_cast<hsize_t>(INT64_MAX)) fail(CONV1D_ERROR_SIZE_OVERFLOW, origin + " has too large a shape");
    info.shape.push_back(static_cast<int64_t>(d));
  }
  info.type_class = H5Tget_class(type.get());
  info.type_size = H5Tget_size(type.get());
  std::vector<std::string> dtype;
  try {
    if (read_strings(dset, "dtype", origin, &dtype) && dtype.size() == 1 && dtype[0] == "bfloat16")
      info.bfloat16 = true;
  } catch (const Error&) {
    // A "dtype" attribute that is not a string is not Keras' marker.
  }
  return info;
}

const char* class_name(H5T_class_t c) {
  switch (c) {
    case H5T_INTEGER:
      return "integer";
    case H5T_FLOAT:
      return "float";
    case H5T_STRING:
      return "string";
    case H5T_BITFIELD:
      return "bitfield";
    case H5T_OPAQUE:
      return "opaque";
    case H5T_COMPOUND:
      return "compound";
    case H5T_REFERENCE:
      return "reference";
    case H5T_ENUM:
      return "enum";
    case H5T_VLEN:
      return "variable-length";
    case H5T_ARRAY:
      return "array";
    default:
      return "unknown";
  }
}

WeightArray read_dataset(hid_t dset, const std::string& origin) {
  const DatasetInfo info = inspect(dset, origin);
  WeightArray out;
  out.shape = info.shape;
  out.origin = origin;
  const size_t count = element_count(info.shape, origin);
  out.data.resize(count);
  if (count == 0) return out;
  herr_t rc;
  if (info.bfloat16) {
    // Keras writes bfloat16 as 2-byte raw values (ml_dtypes' bfloat16) with
    // the attribute dtype="bfloat16": an integer or opaque HDF5 type.
    if (info.type_size != 2 || (info.type_class != H5T_INTEGER && info.type_class != H5T_OPAQUE))
      fail(CONV1D_ERROR_UNSUPPORTED, origin + " is marked bfloat16 but holds " + class_name(info.type_class) +
                                         " data of " + std::to_string(info.type_size) + " bytes");
    std::vector<uint16_t> bits(count);
    if (info.type_class == H5T_INTEGER) {
      rc = H5Dread(dset, H5T_NATIVE_UINT16, H5S_ALL, H5S_ALL, H5P_DEFAULT, bits.data());
    } else {
      // Opaque bytes are copied as stored: little-endian, as numpy wrote them.
      Handle type(H5Dget_type(dset), H5Tclose);
      std::vector<unsigned char> raw(count * 2);
      rc = H5Dread(dset, type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, raw.data());
      for (size_t i = 0; i < count; ++i) bits[i] = static_cast<uint16_t>(raw[2 * i] | raw[2 * i + 1] << 8);
    }
    if (rc >= 0)
      for (size_t i = 0; i < count; ++i) out.data[i] = bfloat16_to_float(bits[i]);
  } else if (info.type_class == H5T_FLOAT && info.type_size == 8) {
    // float64 is kept in double too, for float64 layers.
    out.data64.resize(count);
    rc = H5Dread(dset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data64.data());
    for (size_t i = 0; i < count; ++i) out.data[i] = static_cast<float>(out.data64[i]);
  } else if (info.type_class == H5T_FLOAT) {
    // HDF5 converts any float type to float32, rounding to nearest as a C
    // cast does (overflow gives inf, as numpy's astype).
    rc = H5Dread(dset, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data.data());
  } else {
    fail(CONV1D_ERROR_UNSUPPORTED, origin + " holds " + class_name(info.type_class) + " data of " +
                                       std::to_string(info.type_size) +
                                       " bytes; only float16, float32, float64 and Keras bfloat16 weights can be "
                                       "loaded");
  }
  if (rc < 0) fail(CONV1D_ERROR_PARSE, origin + " cannot be read (truncated or corrupt file?)" + hdf5_detail());
  return out;
}

// One layer's weights in the file.
struct Entry {
  std::string path;                   // "layers/conv1d" (Keras 3), "model_weights/conv1d" (legacy)
  std::string name;                   // the Keras layer name, when the file records it
  std::string group;                  // the group holding the datasets
  std::vector<std::string> datasets;  // relative to group, in variable order
  std::vector<int64_t> first_shape;
  bool conv_like = false;

  std::string label() const {
    std::string s = path.empty() ? "(the model's own vars)" : path;
    std::string extra;
    if (!name.empty()) extra = "name '" + name + "'";
    if (!first_shape.empty() || !datasets.empty()) {
      if (!extra.empty()) extra += ", ";
      extra += datasets.empty() ? "no variables" : "vars[0] " + shape_string(first_shape);
    }
    return extra.empty() ? s : s + " (" + extra + ")";
  }
  bool matches(const std::string& key) const {
    return path == key || ends_with(path, "/" + key) || (!name.empty() && name == key);
  }
};

std::string list(const std::vector<const Entry*>& entries) {
  std::string s;
  size_t shown = 0;
  for (const Entry* e : entries) {
    if (shown == 20) {
      s += ", ... (" + std::to_string(entries.size() - shown) + " more)";
      break;
    }
    s += (shown++ ? ", " : "") + e->label();
  }
  return s.empty() ? "none" : s;
}

class Reader {
 public:
  Reader(hid_t file, std::string where) : file_(file), where_(std::move(where)) {}

  KerasVariables read(const char* key) {
    bool legacy = false;
    std::string base;
    std::vector<std::string> layer_names;
    if (object_type(file_, "model_weights") == H5I_GROUP) {
      Handle g(H5Gopen2(file_, "model_weights", H5P_DEFAULT), H5Gclose);
      if (read_string_list(g.get(), "layer_names", "model_weights in " + where_, &layer_names)) {
        legacy = true;
        base = "model_weights";
      }
    }
    if (!legacy && read_string_list(file_, "layer_names", where_, &layer_names)) legacy = true;
    std::vector<Entry> entries = legacy ? legacy_entries(base, layer_names) : keras3_entries();
    const Entry& e = select(entries, key);
    KerasVariables out;
    out.stored = e.datasets.size();
    out.source = (e.path.empty() ? std::string("vars") : e.path) + " in " + where_;
    Handle g(H5Gopen2(file_, e.group.empty() ? "/" : e.group.c_str(), H5P_DEFAULT), H5Gclose);
    if (!g.valid()) fail(CONV1D_ERROR_PARSE, "cannot open " + e.group + " in " + where_ + hdf5_detail());
    for (size_t i = 0; i < e.datasets.size() && i < 2; ++i) {
      const std::string origin = join(e.group, e.datasets[i]) + " in " + where_;
      Handle d(H5Dopen2(g.get(), e.datasets[i].c_str(), H5P_DEFAULT), H5Dclose);
      if (!d.valid()) fail(CONV1D_ERROR_PARSE, origin + " is missing or not a dataset" + hdf5_detail());
      out.vars.push_back(read_dataset(d.get(), origin));
    }
    return out;
  }

 private:
  // Fills first_shape and conv_like from the datasets' metadata only. A
  // dataset that cannot be inspected makes the entry not Conv1D-like; the
  // error surfaces if that entry is the one loaded.
  void classify(Entry& e) const {
    try {
      classify_or_throw(e);
    } catch (const Error&) {
      e.conv_like = false;
    }
  }
  void classify_or_throw(Entry& e) const {
    if (e.datasets.empty()) return;
    std::vector<DatasetInfo> infos;
    for (size_t i = 0; i < e.datasets.size() && i < 2; ++i) {
      const std::string rel = join(e.group, e.datasets[i]);
      if (object_type(file_, rel) != H5I_DATASET) return;
      Handle d(H5Dopen2(file_, rel.c_str(), H5P_DEFAULT), H5Dclose);
      if (!d.valid()) return;
      infos.push_back(inspect(d.get(), rel + " in " + where_));
    }
    e.first_shape = infos[0].shape;
    if (infos[0].shape.size() != 3 || !infos[0].numeric_float()) return;  // no Conv1D kernel
    e.conv_like = e.datasets.size() == 1 || (e.datasets.size() == 2 && infos[1].shape.size() == 1 &&
                                             infos[1].numeric_float() && infos[1].shape[0] == infos[0].shape[2]);
  }

  static herr_t collect_vars(hid_t, const char* name, const H5L_info_t* info, void* data) {
    const std::string link = name;
    if (info->type == H5L_TYPE_HARD && (link == "vars" || ends_with(link, "/vars")))
      static_cast<std::vector<std::string>*>(data)->push_back(link);
    return 0;
  }

  // Keras 3: every group with a `vars` subgroup is a saveable; its variables
  // are the datasets vars/0, vars/1, ...
  std::vector<Entry> keras3_entries() const {
    std::vector<std::string> links;
    if (H5Lvisit(file_, H5_INDEX_NAME, H5_ITER_INC, collect_vars, &links) < 0)
      fail(CONV1D_ERROR_PARSE, "cannot list the groups of " + where_ + hdf5_detail());
    std::vector<Entry> entries;
    for (const std::string& link : links) {
      if (object_type(file_, link) != H5I_GROUP) continue;
      Entry e;
      e.group = link;
      e.path = link.size() > 4 ? link.substr(0, link.size() - 5) : "";
      Handle g(H5Gopen2(file_, link.c_str(), H5P_DEFAULT), H5Gclose);
      if (!g.valid()) fail(CONV1D_ERROR_PARSE, "cannot open " + link + " in " + where_ + hdf5_detail());
      std::vector<std::string> name;
      if (read_strings(g.get(), "name", link + " in " + where_, &name) && name.size() == 1) e.name = name[0];
      H5G_info_t ginfo;
      if (H5Gget_info(g.get(), &ginfo) < 0)
        fail(CONV1D_ERROR_PARSE, "cannot inspect " + link + " in " + where_ + hdf5_detail());
      for (hsize_t i = 0; i < ginfo.nlinks; ++i) {
        const std::string ds = std::to_string(i);
        if (H5Lexists(g.get(), ds.c_str(), H5P_DEFAULT) <= 0)
          fail(CONV1D_ERROR_PARSE, link + " in " + where_ + " holds " + std::to_string(ginfo.nlinks) +
                                       " entries, but they are not the variables 0.." +
                                       std::to_string(ginfo.nlinks - 1) + hdf5_detail());
        e.datasets.push_back(ds);
      }
      classify(e);
      entries.push_back(std::move(e));
    }
    return entries;
  }

  // Legacy .h5: one group per layer name, its weight_names attribute naming
  // the datasets in order.
  std::vector<Entry> legacy_entries(const std::string& base, const std::vector<std::string>& layer_names) const {
    std::vector<Entry> entries;
    for (const std::string& layer : layer_names) {
      Entry e;
      e.group = join(base, layer);
      e.path = e.group;
      e.name = layer;
      if (object_type(file_, e.group) != H5I_GROUP) continue;
      Handle g(H5Gopen2(file_, e.group.c_str(), H5P_DEFAULT), H5Gclose);
      if (!g.valid()) fail(CONV1D_ERROR_PARSE, "cannot open " + e.group + " in " + where_ + hdf5_detail());
      if (!read_string_list(g.get(), "weight_names", e.group + " in " + where_, &e.datasets)) continue;
      classify(e);
      entries.push_back(std::move(e));
    }
    return entries;
  }

  const Entry& select(const std::vector<Entry>& entries, const char* key) const {
    // A full path names one entry, even where it is also the tail of another
    // (layers/conv1d and layers/sequential/layers/conv1d).
    if (key)
      for (const Entry& e : entries)
        if (e.path == key) return e;
    std::vector<const Entry*> conv, all, hits;
    for (const Entry& e : entries) {
      if (!e.datasets.empty()) all.push_back(&e);
      if (e.conv_like) conv.push_back(&e);
      if (key && e.matches(key)) hits.push_back(&e);
    }
    if (!key) {
      if (conv.size() == 1) return *conv[0];
      if (conv.empty())
        fail(CONV1D_ERROR_UNKNOWN_NAME, where_ +
                                            " holds no Conv1D-like weights (a rank-3 float kernel and an optional "
                                            "bias); layers with weights: " +
                                            list(all));
      fail(CONV1D_ERROR_INVALID_VALUE, where_ + " holds " + std::to_string(conv.size()) +
                                           " Conv1D-like layers; choose one with layer_key (a path or a layer "
                                           "name): " +
                                           list(conv));
    }
    if (hits.size() == 1) return *hits[0];
    if (hits.empty())
      fail(CONV1D_ERROR_UNKNOWN_NAME, where_ + " has no layer '" + key +
                                          "' (looked for it as a weight path and as a Keras layer name); "
                                          "Conv1D-like candidates: " +
                                          list(conv) +
                                          (conv.size() == all.size() ? "" : "; all layers with weights: " + list(all)));
    fail(CONV1D_ERROR_INVALID_VALUE, "layer_key '" + std::string(key) + "' matches " + std::to_string(hits.size()) +
                                         " layers of " + where_ + ": " + list(hits) +
                                         "; pass the full path to choose one");
  }

  hid_t file_;
  std::string where_;
};

}  // namespace

KerasVariables read_keras_weights(const std::string& path, const char* key) {
  const InputFile file(path);
  unsigned char magic[8] = {0};
  const size_t n = static_cast<size_t>(std::min<uint64_t>(file.size(), sizeof magic));
  file.read_at(0, magic, n, "the file signature");
  if (n >= 6 && std::memcmp(magic, "\x93NUMPY", 6) == 0)
    fail(CONV1D_ERROR_PARSE, "'" + path + "' is a NumPy .npy file, not a Keras weights file: use conv1d_load_npy");

  Hdf5Session session;
  std::vector<unsigned char> image;  // a .keras archive's model.weights.h5; outlives the HDF5 file
  FileImage udata{nullptr, 0};
  Handle h5;
  std::string where;
  if (looks_like_zip(magic, n)) {
    const ZipArchive zip(file);
    const ZipEntry* entry = zip.find(kWeightsEntry);
    if (!entry) {
      if (zip.find("model.weights.npz"))
        fail(CONV1D_ERROR_UNSUPPORTED, "'" + path +
                                           "' holds its weights as model.weights.npz (weights_format=\"npz\"), "
                                           "whose pickled entries cannot be read; save the model with the default "
                                           "h5 weights format");
      std::string names;
      for (size_t i = 0; i < zip.entries().size() && i < 20; ++i) names += (i ? ", " : "") + zip.entries()[i].name;
      fail(CONV1D_ERROR_PARSE, "'" + path + "' is a ZIP archive without " + kWeightsEntry +
                                   ", so not a .keras model file (it holds: " + (names.empty() ? "nothing" : names) +
                                   ")");
    }
    image = zip.read(*entry);
    where = std::string(kWeightsEntry) + " in '" + path + "'";
    // The core driver reads the image in memory, in place (see FileImage).
    udata = FileImage{image.data(), image.size()};
    H5FD_file_image_callbacks_t callbacks = {image_malloc, image_memcpy, image_realloc, image_free,
                                             udata_copy,   udata_free,   &udata};
    Handle fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
    if (!fapl.valid() || H5Pset_fapl_core(fapl.get(), 1 << 16, false) < 0 ||
        H5Pset_file_image_callbacks(fapl.get(), &callbacks) < 0 ||
        H5Pset_file_image(fapl.get(), image.data(), image.size()) < 0)
      fail(CONV1D_ERROR_INTERNAL, "cannot set up HDF5 to read " + where + " from memory" + hdf5_detail());
    h5 = Handle(H5Fopen(where.c_str(), H5F_ACC_RDONLY, fapl.get()), H5Fclose);
    if (!h5.valid()) fail(CONV1D_ERROR_PARSE, where + " is not a valid HDF5 file" + hdf5_detail());
  } else {
    where = "'" + path + "'";
    Handle fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
#if H5_VERSION_GE(1, 10, 7)
    // Reading needs no lock; taking one fails on some network file systems.
    H5Pset_file_locking(fapl.get(), false, true);
#endif
    h5 = Handle(H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl.get()), H5Fclose);
    if (!h5.valid())
      fail(CONV1D_ERROR_PARSE, where +
                                   " is neither a .keras (ZIP) archive nor a readable HDF5 file (.weights.h5 / .h5); "
                                   "it may be truncated or corrupt" +
                                   hdf5_detail());
  }
  return Reader(h5.get(), where).read(key);
}

#endif

}  // namespace conv1d
