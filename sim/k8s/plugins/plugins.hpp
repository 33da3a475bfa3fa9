// Factories of the in-tree scheduler plugins (one file each under k8s/plugins/).
#pragma once
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "k8s/framework.hpp"

namespace aifsim::k8s::sched {

std::unique_ptr<Plugin> make_node_name(const nlohmann::json& args, const std::string& where);
std::unique_ptr<Plugin> make_node_unschedulable(const nlohmann::json& args, const std::string& where);
std::unique_ptr<Plugin> make_node_resources_fit(const nlohmann::json& args, const std::string& where);
std::unique_ptr<Plugin> make_balanced_allocation(const nlohmann::json& args, const std::string& where);
std::unique_ptr<Plugin> make_taint_toleration(const nlohmann::json& args, const std::string& where);
std::unique_ptr<Plugin> make_node_affinity(const nlohmann::json& args, const std::string& where);
std::unique_ptr<Plugin> make_image_locality(const nlohmann::json& args, const std::string& where);
std::unique_ptr<Plugin> make_inter_pod_affinity(const nlohmann::json& args, const std::string& where);
std::unique_ptr<Plugin> make_pod_topology_spread(const nlohmann::json& args, const std::string& where);

}  // namespace aifsim::k8s::sched
