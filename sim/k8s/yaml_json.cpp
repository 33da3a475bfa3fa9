#include "k8s/yaml_json.hpp"

#include <fstream>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "core/error.hpp"
#include "core/json_reader.hpp"
#include "core/text.hpp"

namespace aifsim::k8s {

namespace {

std::string mark(const std::string& where, const YAML::Mark& m) {
  return where + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
}

nlohmann::json convert(const YAML::Node& node, const std::string& where, int depth) {
  if (depth > 64) throw InputError(mark(where, node.Mark()), "YAML nested deeper than 64 levels");
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined: return nullptr;
    case YAML::NodeType::Sequence: {
      nlohmann::json array = nlohmann::json::array();
      for (const auto& item : node) array.push_back(convert(item, where, depth + 1));
      return array;
    }
    case YAML::NodeType::Map: {
      nlohmann::json object = nlohmann::json::object();
      for (const auto& kv : node) {
        if (!kv.first.IsScalar()) throw InputError(mark(where, kv.first.Mark()), "a mapping key must be a scalar");
        object[kv.first.Scalar()] = convert(kv.second, where, depth + 1);
      }
      return object;
    }
    case YAML::NodeType::Scalar: {
      const std::string& s = node.Scalar();
      if (node.Tag() == "!") return s;  // quoted: always a string
      if (s == "null" || s == "~" || s == "Null" || s == "NULL") return nullptr;
      if (s == "true" || s == "True" || s == "TRUE") return true;
      if (s == "false" || s == "False" || s == "FALSE") return false;
      if (auto i = parse_int(s)) return *i;
      if (s.find_first_of("0123456789") != std::string::npos && s.find_first_of("eE.") != std::string::npos)
        if (auto d = parse_double(s)) return *d;
      return s;
    }
  }
  return nullptr;
}

}  // namespace

nlohmann::json yaml_text_to_json(const std::string& text, const std::string& where) {
  try {
    YAML::Node root = YAML::Load(text);
    return convert(root, where, 0);
  } catch (const YAML::Exception& e) {
    throw InputError(mark(where, e.mark), "malformed YAML: " + e.msg);
  }
}

nlohmann::json load_yaml_or_json(const std::filesystem::path& file) {
  if (file.extension() == ".json") return load_json_file(file);
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError(file.string(), "cannot open file (does it exist and is it readable?)");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return yaml_text_to_json(buffer.str(), file.string());
}

}  // namespace aifsim::k8s
