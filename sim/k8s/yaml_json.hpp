// YAML -> JSON for configuration files (KubeSchedulerConfiguration and the like), so
// they are validated by the same strict JsonReader as every JSON input.
#pragma once
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

namespace aifsim::k8s {

// Scalars follow YAML 1.2's core schema: null/~, true/false, integers, floats, else strings
// (quoted scalars stay strings). Throws InputError "file:line:col: malformed YAML: ...".
nlohmann::json yaml_text_to_json(const std::string& text, const std::string& where);
// .json files are read as JSON (comments allowed), anything else as YAML.
nlohmann::json load_yaml_or_json(const std::filesystem::path& file);

}  // namespace aifsim::k8s
