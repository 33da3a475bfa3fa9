// Seeded mutation fuzzing of the input parsers: SWF traces (through a whole replay, so
// hangs and broken invariants show too), scenario JSON and platform JSON. Every input
// must either be accepted or rejected with an InputError; anything else (a crash, a
// SimulationError, another exception) fails. Iterations: AIFSIM_FUZZ_ITERATIONS
// (default 1500 per parser). Inputs that once failed live in tests/fuzz/regressions/
// and are replayed first.
#include <gtest/gtest.h>

#include "fuzz_support.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "core/error.hpp"
#include "core/json_reader.hpp"
#include "engine/engine.hpp"
#include "hpc/batch_stack.hpp"
#include "metrics/batch_metrics.hpp"
#include "platform/platform.hpp"
#include "platform/topology.hpp"
#include "scenario/scenario.hpp"
#include "workload/swf_source.hpp"

using namespace aifsim;

namespace {

using aifsim::fuzzing::iterations;

std::string read(const std::filesystem::path& p) { return aifsim::fuzzing::read_file(p); }

class Mutator {
 public:
  explicit Mutator(std::uint64_t seed) : rng_(seed) {}

  // Structure-aware: parse, change values deep in the tree, dump. Reaches validation
  // code that byte-level mutation rarely gets past the JSON syntax to.
  std::string mutate_json(const std::string& text) {
    nlohmann::json doc = nlohmann::json::parse(text, nullptr, false, true);
    if (doc.is_discarded()) return mutate(text);
    int rounds = 1 + pick(3);
    for (int i = 0; i < rounds; ++i) mutate_node(doc, 0);
    return doc.dump();
  }

  std::string mutate(std::string text) {
    int rounds = 1 + pick(4);
    for (int i = 0; i < rounds; ++i) {
      if (text.empty()) text = token();
      std::size_t at = pick(text.size());
      switch (pick(7)) {
        case 0: text[at] = static_cast<char>(pick(256)); break;
        case 1: text.insert(at, token()); break;
        case 2: text.erase(at, 1 + pick(std::min<std::size_t>(16, text.size() - at))); break;
        case 3: fuzzing::replace_number(text, at, extreme()); break;  // an extreme number
        case 4: {
          fuzzing::duplicate_line(text, at);
          break;
        }
        case 5: text.resize(at); break;  // truncate
        default: std::swap(text[at], text[pick(text.size())]); break;
      }
    }
    return text;
  }

 private:
  nlohmann::json random_value() {
    switch (pick(9)) {
      case 0: return nullptr;
      case 1: return -1;
      case 2: return 0;
      case 3: return 1e308;
      case 4: return "easy";
      case 5: return true;
      case 6: return nlohmann::json::array({1, "x"});
      case 7: return nlohmann::json::object({{"kind", "fat_tree"}});
      default: return 3.5;
    }
  }
  void mutate_node(nlohmann::json& node, int depth) {
    if ((node.is_object() || node.is_array()) && !node.empty() && depth < 8 && pick(4) != 0) {
      std::size_t i = pick(node.size());
      auto it = node.begin();
      std::advance(it, static_cast<std::ptrdiff_t>(i));
      if (pick(6) == 0 && node.is_object()) {
        node.erase(it.key());
        return;
      }
      mutate_node(*it, depth + 1);
      return;
    }
    if (node.is_object() && pick(3) == 0) {
      node["extra_key"] = random_value();
      return;
    }
    node = random_value();
  }

  std::size_t pick(std::size_t n) { return n == 0 ? 0 : std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_); }
  std::string token() {
    static const char* tokens[] = {" ", "\n", "-1", "0", ";", "{", "}", "[", "]", "\"", ":", ",", "1e308", "\t",
                                   "nan", "//", "/*", "\"x\"", "null", "true", "-", ".", "\r\n", "\0"};
    return std::string(tokens[pick(sizeof tokens / sizeof *tokens)]);
  }
  std::string extreme() {
    static const char* values[] = {"-1", "0", "-0", "1e308", "99999999999999999999", "2147483648", "1e12",
                                   "0.5", "-2", "4294967296", "1e-300", "7"};
    return values[pick(sizeof values / sizeof *values)];
  }
  std::mt19937_64 rng_;
};

std::filesystem::path scratch(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / "aifsim-fuzz";
  std::filesystem::create_directories(dir);
  return dir / name;
}

// Replays an SWF text on a small machine; InputError is an accepted outcome.
void replay_swf(const std::string& text) {
  auto path = scratch("input.swf");
  std::ofstream(path, std::ios::binary) << text;
  try {
    workload::SwfJobSource source(path);
    engine::Engine engine;
    metrics::BatchMetrics metrics({std::nullopt, false, 10.0});
    hpc::BatchConfig config;
    config.scheduler = text.size() % 2 ? "easy" : "conservative";
    config.capacity = 16;
    hpc::BatchStack stack(engine, config, source, metrics);
    stack.start();
    engine.run();
    stack.check_drained();
    metrics.finish(stack.stats().jobs_entered);
  } catch (const InputError&) {
  }
}

void parse_scenario_text(const std::string& text) {
  try {
    auto doc = parse_json_text(text, "fuzz.json");
    scenario::parse_scenario(doc, "fuzz.json", std::string(AIFSIM_SOURCE_DIR) + "/scenarios");
  } catch (const InputError&) {
  }
}

void parse_k8s_scenario_text(const std::string& text) {
  try {
    auto doc = parse_json_text(text, "fuzz.json");
    scenario::parse_scenario(doc, "fuzz.json", std::string(AIFSIM_SOURCE_DIR) + "/tests/data/k8s/cluster");
  } catch (const InputError&) {
  }
}

void parse_platform_text(const std::string& text) {
  try {
    auto doc = parse_json_text(text, "fuzz.json");
    auto spec = platform::parse_platform(doc, "fuzz.json");
    if (spec.node_count() <= 4096) platform::Topology(spec).summarize();
  } catch (const InputError&) {
  }
}

void save_failure(const std::string& kind, const std::string& text) {
  auto path = scratch("failure-" + kind + "-" + std::to_string(std::hash<std::string>{}(text)));
  std::ofstream(path, std::ios::binary) << text;
  ADD_FAILURE() << "input kept at " << path << " (copy it to tests/fuzz/regressions/" << kind << "-*)";
}

template <class F>
void run_one(const std::string& kind, const std::string& text, F f) {
  try {
    f(text);
  } catch (const std::exception& e) {
    save_failure(kind, text);
    FAIL() << kind << ": " << e.what();
  }
}

template <class F>
void fuzz(const std::string& kind, const std::string& seed_text, std::uint64_t seed, F f) {
  // Known failures first.
  auto dir = std::filesystem::path(AIFSIM_SOURCE_DIR) / "tests/fuzz/regressions";
  if (std::filesystem::exists(dir)) {
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(dir))
      if (entry.path().filename().string().rfind(kind + "-", 0) == 0) files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    for (const auto& p : files) run_one(kind, read(p), f);
  }
  Mutator m(seed);
  std::string current = seed_text;
  for (int i = 0; i < iterations(); ++i) {
    const std::string& base = i % 4 == 0 ? seed_text : current;
    std::string input = (kind != "swf" && i % 2 == 1) ? m.mutate_json(base) : m.mutate(base);
    run_one(kind, input, f);
    if (::testing::Test::HasFailure()) return;
    current = input.size() < 4 * seed_text.size() ? input : seed_text;
  }
}

}  // namespace

TEST(Fuzz, SwfReplay) {
  std::string seed = read(std::string(AIFSIM_TEST_DATA_DIR) + "/tiny.swf");
  fuzz("swf", seed, 20261125, replay_swf);
}

TEST(Fuzz, ScenarioJson) {
  std::string seed = read(std::string(AIFSIM_SOURCE_DIR) + "/scenarios/quickstart.json");
  fuzz("scenario", seed, 7, parse_scenario_text);
}

TEST(Fuzz, KubernetesScenarioJson) {
  std::string seed = read(std::string(AIFSIM_SOURCE_DIR) + "/tests/data/k8s/cluster/serving.json");
  fuzz("k8s-scenario", seed, 13, parse_k8s_scenario_text);
}

TEST(Fuzz, PlatformJson) {
  std::string seed = read(std::string(AIFSIM_SOURCE_DIR) + "/platforms/hgx-h100-128.json");
  fuzz("platform", seed, 11, parse_platform_text);
}
