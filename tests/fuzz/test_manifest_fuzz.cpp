// Seeded mutation fuzzing of the Kubernetes manifest reader over the sample manifests of
// tests/data/k8s/: byte-level mutations (YAML syntax, anchors, nesting) and structure-aware
// ones (parse, change values deep in the tree, dump) that get past the syntax to the
// validation. Every input must be accepted or rejected with an InputError whose message
// starts with the file name; anything else (a crash, a hang, another exception) fails.
// Iterations: AIFSIM_FUZZ_ITERATIONS (default 1500); AIFSIM_FUZZ_SEED changes the sequence.
// Inputs that once failed live in tests/fuzz/regressions/manifest-* and are replayed first.
#include <gtest/gtest.h>

#include "fuzz_support.hpp"
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>

#include "core/error.hpp"
#include "k8s/cluster.hpp"
#include "k8s/manifest.hpp"
#include "platform/platform.hpp"

using namespace aifsim;

#ifndef AIFSIM_SOURCE_DIR  // built by hand: the repository holding tests/fuzz/
#define AIFSIM_SOURCE_DIR (std::filesystem::path(__FILE__).parent_path().parent_path().parent_path().string())
#endif
#ifndef AIFSIM_TEST_DATA_DIR
#define AIFSIM_TEST_DATA_DIR (std::string(AIFSIM_SOURCE_DIR) + "/tests/data")
#endif

namespace {

using aifsim::fuzzing::iterations;

// AIFSIM_FUZZ_SEED varies a long run; the default keeps the test deterministic.
std::uint64_t seed() {
  const char* env = std::getenv("AIFSIM_FUZZ_SEED");
  return env ? std::strtoull(env, nullptr, 10) : 20261201;
}

std::string read(const std::filesystem::path& p) { return aifsim::fuzzing::read_file(p); }

class Mutator {
 public:
  explicit Mutator(std::uint64_t seed) : rng_(seed) {}

  // Structure-aware: parse, change a few nodes of one document, dump them all.
  std::string mutate_tree(const std::string& text) {
    std::vector<YAML::Node> docs;
    try {
      docs = YAML::LoadAll(text);
    } catch (const YAML::Exception&) {
      return mutate_bytes(text);
    }
    if (docs.empty()) return mutate_bytes(text);
    // Fresh trees: the loaded ones may share nodes through aliases.
    for (auto& d : docs) d = YAML::Clone(d);
    YAML::Node& doc = docs[pick(docs.size())];
    int rounds = 1 + static_cast<int>(pick(3));
    for (int i = 0; i < rounds; ++i) mutate_node(doc, 0);
    try {
      std::string out;
      for (const auto& d : docs) {
        YAML::Emitter e;
        e << d;
        if (!e.good()) return mutate_bytes(text);
        out += "---\n" + std::string(e.c_str()) + "\n";
      }
      return out;
    } catch (const YAML::Exception&) {
      return mutate_bytes(text);
    }
  }

  std::string mutate_bytes(std::string text) {
    int rounds = 1 + static_cast<int>(pick(4));
    for (int i = 0; i < rounds; ++i) {
      if (text.empty()) text = token();
      std::size_t at = pick(text.size());
      switch (pick(10)) {
        case 0:
          text[at] = static_cast<char>(pick(256));
          break;
        case 1:
          text.insert(at, token());
          break;
        case 2:
          text.erase(at, 1 + pick(std::min<std::size_t>(16, text.size() - at)));
          break;
        case 3:  // replace a number with an extreme one
          fuzzing::replace_number(text, at, extreme());
          break;
        case 4: {  // duplicate a line
          fuzzing::duplicate_line(text, at);
          break;
        }
        case 5:
          text.resize(at);
          break;   // truncate
        case 6: {  // an anchor on one value, an alias to it elsewhere
          std::size_t colon = text.find(": ", at);
          if (colon == std::string::npos) break;
          text.insert(colon + 2, "&z ");
          std::size_t later = text.find(": ", pick(text.size()));
          if (later != std::string::npos) {
            std::size_t end = text.find('\n', later);
            text.replace(later + 2, (end == std::string::npos ? text.size() : end) - later - 2, "*z");
          }
          break;
        }
        case 7: {  // shift a line's indentation
          std::size_t s = text.rfind('\n', at);
          s = s == std::string::npos ? 0 : s + 1;
          if (pick(2))
            text.insert(s, std::string(1 + pick(4), ' '));
          else if (text.compare(s, 2, "  ") == 0)
            text.erase(s, 2);
          break;
        }
        case 8: {  // deep nesting
          std::size_t n = 1 + pick(3000);
          text.insert(at, pick(2) ? std::string(n, '[') : std::string(n, '{'));
          break;
        }
        default:
          std::swap(text[at], text[pick(text.size())]);
          break;
      }
    }
    return text;
  }

 private:
  YAML::Node random_value() {
    static const char* scalars[] = {"-1",
                                    "0",
                                    "1",
                                    "2147483648",
                                    "99999999999999999999",
                                    "1e308",
                                    "0.5",
                                    "-0",
                                    "500m",
                                    "16Gi",
                                    "-1Gi",
                                    "1E",
                                    "8Ei",
                                    "50%",
                                    "150%",
                                    "",
                                    "~",
                                    "null",
                                    "true",
                                    "yes",
                                    "n",
                                    "In",
                                    "Gt",
                                    "Exists",
                                    "NoExecute",
                                    "Percent",
                                    "Recreate",
                                    "List",
                                    "Node",
                                    "Pod",
                                    "apps/v1",
                                    "v1",
                                    "autoscaling/v2",
                                    "nvidia.com/gpu",
                                    "0x1F",
                                    ".inf",
                                    ".nan",
                                    "<<",
                                    "a b",
                                    "\t",
                                    "\xff\xfe"};
    switch (pick(8)) {
      case 0:
        return YAML::Node(YAML::NodeType::Null);
      case 1:
        return YAML::Node(YAML::NodeType::Sequence);
      case 2:
        return YAML::Node(YAML::NodeType::Map);
      case 3: {
        YAML::Node list;
        list.push_back(scalars[pick(std::size(scalars))]);
        list.push_back(YAML::Node(YAML::NodeType::Map));
        return list;
      }
      case 4: {
        YAML::Node map;
        map["kind"] = kinds_[pick(std::size(kinds_))];
        map["apiVersion"] = scalars[pick(std::size(scalars))];
        map["metadata"]["name"] = "x";
        return map;
      }
      default:
        return YAML::Node(scalars[pick(std::size(scalars))]);
    }
  }

  void mutate_node(YAML::Node node, int depth) {
    if ((node.IsMap() || node.IsSequence()) && node.size() > 0 && depth < 12 && pick(5) != 0) {
      std::size_t i = pick(node.size());
      auto it = node.begin();
      std::advance(it, static_cast<std::ptrdiff_t>(i));
      if (node.IsMap()) {
        YAML::Node key = it->first;
        YAML::Node value = it->second;
        switch (pick(12)) {
          case 0:
            node.remove(key);
            return;
          case 1: {  // a misspelt or foreign key
            std::string k = key.IsScalar() ? key.Scalar() : "k";
            if (!k.empty() && pick(2))
              k.erase(pick(k.size()), 1);
            else
              k += "x";
            node[k] = YAML::Clone(value);
            return;
          }
          case 2:
            if (key.IsScalar() && key.Scalar() == "kind") {
              node["kind"] = kinds_[pick(std::size(kinds_))];
              return;
            }
            break;
          default:
            break;
        }
        mutate_node(value, depth + 1);
        return;
      }
      YAML::Node child = *it;
      switch (pick(8)) {
        case 0:
          node.push_back(YAML::Clone(child));
          return;  // duplicate an element
        case 1: {  // wrap it in a list
          YAML::Node wrapped;
          wrapped.push_back(YAML::Clone(child));
          child = wrapped;
          return;
        }
        default:
          mutate_node(child, depth + 1);
          return;
      }
    }
    if (node.IsMap() && pick(3) == 0) {
      node[extra_keys_[pick(std::size(extra_keys_))]] = random_value();
      return;
    }
    node = random_value();
  }

  std::size_t pick(std::size_t n) { return n == 0 ? 0 : std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_); }
  std::string token() {
    static const char* tokens[] = {" ",     "\n",          "-1",   "0",      ":",      "{",    "}",           "[",
                                   "]",     "\"",          "'",    ",",      "#",      "- ",   ": ",          "? ",
                                   "&a ",   "*a",          "<<: ", "!!str ", "!!int ", "|",    ">",           "---\n",
                                   "...\n", "%YAML 1.2\n", "\t",   "null",   "~",      "\r\n", "\xef\xbb\xbf"};
    if (pick(40) == 0) return std::string(1, '\0');
    return tokens[pick(std::size(tokens))];
  }
  std::string extreme() {
    static const char* values[] = {
        "-1", "0",          "-0",     "1e308", "99999999999999999999", "2147483648", "1e12", "0.5",
        "-2", "4294967296", "1e-300", "7",     "9223372036854775807"};
    return values[pick(std::size(values))];
  }

  static constexpr const char* kinds_[] = {"Node", "Pod",      "PriorityClass", "Deployment", "ReplicaSet",
                                           "Job",  "PodGroup", "ClusterQueue",  "LocalQueue", "HorizontalPodAutoscaler",
                                           "List", "Service"};
  static constexpr const char* extra_keys_[] = {"extra", "spec",      "metadata", "items",    "status",
                                                "<<",    "resources", "replicas", "selector", "template"};
  std::mt19937_64 rng_;
};

std::filesystem::path scratch(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / "aifsim-fuzz";
  std::filesystem::create_directories(dir);
  return dir / name;
}

struct Outcomes {
  int accepted = 0, malformed = 0, rejected = 0;
};
Outcomes outcomes;

// Accepted manifests run for 200 s on four 8-GPU nodes (their own Node objects set
// aside): whatever the objects say, the run ends, every pod leaves a record in a known
// state, and its times are in order.
void simulate_accepted(k8s::ManifestSet set) {
  static const auto platform = platform::parse_platform(nlohmann::json::parse(R"({
    "name": "fuzz", "node_types": {"g": {"cpu_cores": 64, "memory_bytes": 1e12, "gpu_model": "H100-SXM5-80GB", "gpus": 8}},
    "nodes": [{"type": "g", "count": 4, "prefix": "n"}], "fabric": {"kind": "single_switch"}})"), "fuzz-platform.json");
  set.nodes.clear();
  k8s::ClusterConfig config;
  config.profile = k8s::sched::default_profile();
  config.duration_s = 200;
  k8s::ClusterResult r;
  try {
    r = k8s::simulate_cluster(platform, set, config, nullptr);
  } catch (const InputError&) {
    return;  // e.g. an autoscaler whose target is not in the file
  }
  static const std::set<std::string> states = {"pending", "starting", "running", "terminating", "succeeded",
                                               "failed", "deleted", "preempted", "evicted"};
  for (const auto& p : r.pods) {
    if (!states.count(p.state)) throw std::logic_error("pod " + p.name + " ended in unknown state " + p.state);
    if (p.scheduled_s && *p.scheduled_s < p.created_s) throw std::logic_error("pod " + p.name + " scheduled before created");
    if (p.ready_s && (!p.scheduled_s || *p.ready_s < *p.scheduled_s))
      throw std::logic_error("pod " + p.name + " ready before scheduled");
    if (p.terminated_s && *p.terminated_s < p.created_s) throw std::logic_error("pod " + p.name + " gone before created");
    if ((p.state == "running" || p.state == "pending") && p.terminated_s)
      throw std::logic_error("pod " + p.name + " is " + p.state + " but terminated");
  }
}

// Parses `text`; an InputError naming the file is an accepted outcome.
void parse_text(const std::string& text) {
  try {
    k8s::ManifestSet set;
    k8s::parse_manifests(text, "fuzz.yaml", set);
    for (const auto& n : set.nodes)
      if (n.meta.name.empty()) throw std::logic_error("accepted a Node without a name");
    for (const auto& d : set.deployments)
      if (d.pod_template.spec.containers.empty()) throw std::logic_error("accepted a Deployment without containers");
    ++outcomes.accepted;
    simulate_accepted(set);
  } catch (const InputError& e) {
    ++(std::string(e.what()).find(": malformed YAML: ") != std::string::npos ? outcomes.malformed : outcomes.rejected);
    if (std::string(e.what()).rfind("fuzz.yaml", 0) != 0)
      throw std::logic_error(std::string("InputError without the file name: ") + e.what());
  }
}

void save_failure(const std::string& text) {
  auto path = scratch("failure-manifest-" + std::to_string(std::hash<std::string>{}(text)));
  std::ofstream(path, std::ios::binary) << text;
  ADD_FAILURE() << "input kept at " << path << " (copy it to tests/fuzz/regressions/manifest-*)";
}

void run_one(const std::string& text) {
  // A crash leaves the input behind.
  std::ofstream(scratch("manifest-last-input"), std::ios::binary | std::ios::trunc) << text;
  try {
    parse_text(text);
  } catch (const std::exception& e) {
    save_failure(text);
    FAIL() << "manifest: " << e.what();
  }
}

}  // namespace

TEST(Fuzz, ManifestYaml) {
  // Known failures first.
  auto regressions = std::filesystem::path(AIFSIM_SOURCE_DIR) / "tests/fuzz/regressions";
  if (std::filesystem::exists(regressions)) {
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(regressions))
      if (entry.path().filename().string().rfind("manifest-", 0) == 0) files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    for (const auto& p : files) {
      run_one(read(p));
      if (::testing::Test::HasFailure()) return;
    }
  }
  std::vector<std::string> seeds;
  std::vector<std::filesystem::path> seed_files;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(AIFSIM_TEST_DATA_DIR) + "/k8s"))
    if (entry.path().extension() == ".yaml") seed_files.push_back(entry.path());
  std::sort(seed_files.begin(), seed_files.end());
  for (const auto& p : seed_files) seeds.push_back(read(p));
  ASSERT_FALSE(seeds.empty());
  for (const auto& s : seeds) {  // the seeds themselves are valid
    k8s::ManifestSet set;
    EXPECT_NO_THROW(k8s::parse_manifests(s, "seed.yaml", set));
  }

  Mutator m(seed());
  std::vector<std::string> current = seeds;
  for (int i = 0; i < iterations(); ++i) {
    std::size_t which = static_cast<std::size_t>(i) % seeds.size();
    const std::string& base = (i / seeds.size()) % 4 == 0 ? seeds[which] : current[which];
    std::string input = i % 2 == 1 ? m.mutate_tree(base) : m.mutate_bytes(base);
    run_one(input);
    if (::testing::Test::HasFailure()) return;
    current[which] = input.size() < 4 * seeds[which].size() ? input : seeds[which];
  }
  std::cout << "manifest fuzz: " << outcomes.accepted + outcomes.malformed + outcomes.rejected
            << " inputs (regressions included): " << outcomes.accepted << " accepted, " << outcomes.malformed
            << " malformed YAML, " << outcomes.rejected << " rejected by validation\n";
}
