// ImageLocality (after kube-scheduler's pkg/scheduler/framework/plugins/imagelocality/
// image_locality.go): favours nodes that already cache the pod's container images, so
// that big images are not pulled again, while discounting images that are everywhere
// (caching them says little about a node) to avoid piling pods onto a few nodes.
//
// For each container (init containers included) whose image, normalized (no tag means
// ":latest"), the node caches: size x (nodes caching it / all nodes), truncated. The sum
// is clamped to [23 MiB, 1000 MiB x containers] and scaled onto [0, 100]:
// 100 x (sum - 23 MiB) / (max - 23 MiB). PreScore records, per container, the image's
// normalized name and how many nodes cache it (Score sees only one node).
//
// Example: 4 nodes, a one-container pod whose 523 MiB image is cached on 2 of them: on
// those, 523 MiB x 2/4 = 261.5 MiB, score 100 x (261.5 - 23) / (1000 - 23) = 24; on the
// others, nothing cached, clamped to 23 MiB, score 0.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/json_reader.hpp"
#include "k8s/framework.hpp"
#include "k8s/plugins/plugins.hpp"

namespace aifsim::k8s::sched {

// The pure formulas, defined at the bottom.
std::string normalized_image_name(const std::string& name);
std::int64_t scaled_image_score(std::int64_t size_bytes, std::int64_t nodes_with_image, std::int64_t total_nodes);
std::int64_t image_locality_priority(std::int64_t sum_scores, std::int64_t containers);

namespace {

constexpr const char* NAME = "ImageLocality";
constexpr const char* PRE_SCORE_KEY = "PreScoreImageLocality";

struct ContainerImage {
  std::string name;  // normalized
  std::int64_t nodes_with_image = 0;
};

struct PreScoreState final : StateData {
  std::vector<ContainerImage> images;  // one per container, init containers first
  std::int64_t total_nodes = 0;
};

class ImageLocality final : public PreScorePlugin, public ScorePlugin {
 public:
  // Upstream takes no arguments; any key given is a mistake worth reporting.
  ImageLocality(const nlohmann::json& args, const std::string& where) {
    const nlohmann::json empty = nlohmann::json::object();
    JsonReader(args.is_null() ? empty : args, where).finish();
  }

  std::string name() const override { return NAME; }

  Status pre_score(CycleState& state, const Pod& pod, const Snapshot& snapshot,
                   const std::vector<const NodeInfo*>& /*feasible*/) const override {
    auto s = std::make_unique<PreScoreState>();
    s->total_nodes = static_cast<std::int64_t>(snapshot.nodes.size());
    auto add = [&](const Container& c) {
      ContainerImage image{normalized_image_name(c.image), 0};
      auto it = snapshot.nodes_with_image.find(image.name);
      if (it != snapshot.nodes_with_image.end()) image.nodes_with_image = it->second;
      s->images.push_back(std::move(image));
    };
    for (const auto& c : pod.spec.init_containers) add(c);
    for (const auto& c : pod.spec.containers) add(c);
    state.put(PRE_SCORE_KEY, std::move(s));
    return Status::success();
  }

  std::int64_t score(const CycleState& state, const Pod& /*pod*/, const NodeInfo& info) const override {
    const auto* s = state.get<PreScoreState>(PRE_SCORE_KEY);
    if (!s) return 0;  // no PreScore: nothing known of the other nodes
    std::int64_t sum = 0;
    for (const auto& image : s->images)
      for (const auto& cached : info.node->images)
        if (cached.name == image.name) {
          sum += scaled_image_score(static_cast<std::int64_t>(cached.size_bytes), image.nodes_with_image, s->total_nodes);
          break;
        }
    return image_locality_priority(sum, static_cast<std::int64_t>(s->images.size()));
  }
};

}  // namespace

std::unique_ptr<Plugin> make_image_locality(const nlohmann::json& args, const std::string& where) {
  return std::make_unique<ImageLocality>(args, where);
}

// The CRI name: a tag is the text after the last ':' when it comes after the last '/'
// (a registry port such as host:5000/app is not a tag). E.g. "nginx" -> "nginx:latest",
// "host:5000/app" -> "host:5000/app:latest", "nginx:1.25" unchanged.
std::string normalized_image_name(const std::string& name) {
  const auto colon = name.rfind(':'), slash = name.rfind('/');
  const bool tagged = colon != std::string::npos && (slash == std::string::npos || colon > slash);
  return tagged ? name : name + ":latest";
}

// scaledImageScore: size x spread, spread = nodes caching the image / all nodes, in
// floating point and truncated. E.g. 100 MiB on 1 of 4 nodes: 104857600 x 0.25 = 26214400.
std::int64_t scaled_image_score(std::int64_t size_bytes, std::int64_t nodes_with_image, std::int64_t total_nodes) {
  if (total_nodes <= 0) return 0;
  const double spread = static_cast<double>(nodes_with_image) / static_cast<double>(total_nodes);
  return static_cast<std::int64_t>(static_cast<double>(size_bytes) * spread);
}

// calculatePriority: the sum clamped to [23 MiB, 1000 MiB x containers], mapped linearly
// onto [0, 100] in integer arithmetic. E.g. one container, 511.5 MiB:
// 100 x (511.5 - 23) / (1000 - 23) = 100 x 488.5 / 977 = 50.
std::int64_t image_locality_priority(std::int64_t sum_scores, std::int64_t containers) {
  constexpr std::int64_t MIB = 1024 * 1024;
  constexpr std::int64_t MIN_THRESHOLD = 23 * MIB;
  constexpr std::int64_t MAX_CONTAINER_THRESHOLD = 1000 * MIB;
  const std::int64_t max_threshold = MAX_CONTAINER_THRESHOLD * containers;
  if (sum_scores < MIN_THRESHOLD) sum_scores = MIN_THRESHOLD;
  else if (sum_scores > max_threshold) sum_scores = max_threshold;
  return MAX_NODE_SCORE * (sum_scores - MIN_THRESHOLD) / (max_threshold - MIN_THRESHOLD);
}

}  // namespace aifsim::k8s::sched
