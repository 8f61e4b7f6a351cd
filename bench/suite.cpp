// Reading bench/suite.csv and the small text helpers both bench programs'
// command lines use.
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "bench.hpp"

namespace bench {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(s);
  while (std::getline(in, cur, sep)) out.push_back(cur);
  if (!s.empty() && s.back() == sep) out.emplace_back();
  return out;
}

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  const size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::string lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

int64_t parse_int(const std::string& text, const std::string& what) {
  const std::string t = trim(text);
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(t.c_str(), &end, 10);
  if (t.empty() || errno != 0 || *end != '\0') throw std::runtime_error("bad integer for " + what + ": '" + text + "'");
  return v;
}

std::vector<std::string> parse_list(const std::string& s) {
  std::vector<std::string> out;
  for (const std::string& item : split(s, ',')) {
    const std::string t = trim(item);
    if (!t.empty()) out.push_back(t);
  }
  return out;
}

const std::vector<std::string> kSuiteColumns = {"name",   "batch",    "in_channels", "steps",   "filters", "kernel",
                                                "stride", "dilation", "groups",      "padding", "layout"};

Problem problem_from_fields(const std::vector<std::string>& f, const std::vector<int>& index,
                            const std::string& where) {
  Problem p;
  auto field = [&](int col) { return trim(f[size_t(index[size_t(col)])]); };
  p.name = field(0);
  p.batch = parse_int(field(1), where + " batch");
  p.in_channels = parse_int(field(2), where + " in_channels");
  p.steps = parse_int(field(3), where + " steps");
  p.filters = parse_int(field(4), where + " filters");
  p.kernel = parse_int(field(5), where + " kernel");
  p.stride = parse_int(field(6), where + " stride");
  p.dilation = parse_int(field(7), where + " dilation");
  p.groups = parse_int(field(8), where + " groups");
  p.padding = lower(field(9));
  p.layout = lower(field(10));
  if (p.name.empty()) throw std::runtime_error(where + ": empty name");
  if (p.batch < 1 || p.in_channels < 1 || p.steps < 1 || p.filters < 1 || p.kernel < 1 || p.stride < 1 ||
      p.dilation < 1 || p.groups < 1)
    throw std::runtime_error(where + ": sizes must be positive");
  if (p.in_channels % p.groups || p.filters % p.groups)
    throw std::runtime_error(where + ": groups must divide in_channels and filters");
  if (p.padding != "valid" && p.padding != "same" && p.padding != "causal")
    throw std::runtime_error(where + ": padding must be valid, same or causal");
  if (p.layout != "nwc" && p.layout != "ncw") throw std::runtime_error(where + ": layout must be nwc or ncw");
  return p;
}

std::vector<Problem> read_suite(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open suite file " + path);
  std::vector<Problem> out;
  std::vector<int> index;
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    const std::string t = trim(line);
    if (t.empty() || t[0] == '#') continue;
    const std::vector<std::string> f = split(t, ',');
    const std::string where = path + ":" + std::to_string(lineno);
    if (index.empty()) {  // header line: map columns by name
      for (const std::string& col : kSuiteColumns) {
        auto it = std::find_if(f.begin(), f.end(), [&](const std::string& h) { return lower(trim(h)) == col; });
        if (it == f.end()) throw std::runtime_error(where + ": header lacks column '" + col + "'");
        index.push_back(int(it - f.begin()));
      }
      continue;
    }
    if (f.size() < kSuiteColumns.size()) throw std::runtime_error(where + ": too few fields");
    out.push_back(problem_from_fields(f, index, where));
  }
  if (index.empty()) throw std::runtime_error(path + ": no header line");
  return out;
}

}  // namespace bench
