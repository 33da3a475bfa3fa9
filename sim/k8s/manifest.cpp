// Reads Kubernetes manifests strictly, the way the API server would take them from
// `kubectl apply`: every field of a simulated kind is either read, accepted and ignored
// (it cannot change a scheduling or controller decision; see the IGNORED_* lists), or
// rejected as unknown with its path and the nearest valid name. Plain YAML scalars are
// typed as Kubernetes' YAML 1.1 reader types them, so `version: 1.10` in a label map is
// an error (quote it), as kubectl reports it. Example of a message:
//   x.yaml:12:9: at Deployment/web .spec.template.spec.containers[0].resources.requests.cpu:
//   expected a quantity such as 500m or 2, got "lots"
// Aliases are followed but every node visit is counted against a budget proportional to
// the text, so an alias bomb or a self-referencing anchor is an InputError, not a hang.
#include "k8s/manifest.hpp"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include "core/error.hpp"
#include "core/text.hpp"

namespace aifsim::k8s {

namespace {

using Names = std::vector<std::string>;

// ---- Accepted and ignored: fields that change no scheduling or controller decision ----
// clang-format off

// Server-managed or bookkeeping metadata. ownerReferences is read for Pods (controller
// kind and name) and ignored elsewhere.
const Names IGNORED_META = {
    "uid", "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp",
    "deletionGracePeriodSeconds", "managedFields", "ownerReferences", "finalizers", "generateName", "selfLink"};
// Pod spec: volumes, identity, networking, DNS, security and runtime settings. runtimeClassName
// is accepted because the RuntimeClass kind is not simulated (its overhead and node selector
// would be).
const Names IGNORED_POD_SPEC = {
    "volumes", "serviceAccountName", "serviceAccount", "automountServiceAccountToken", "restartPolicy", "dnsPolicy",
    "dnsConfig", "hostNetwork", "hostPID", "hostIPC", "hostUsers", "shareProcessNamespace", "securityContext",
    "imagePullSecrets", "hostname", "subdomain", "hostAliases", "enableServiceLinks", "readinessGates",
    "runtimeClassName", "ephemeralContainers", "os", "setHostnameAsFQDN"};
// Container: what runs and how it is probed, not what it requests.
const Names IGNORED_CONTAINER = {
    "ports", "env", "envFrom", "command", "args", "workingDir", "volumeMounts", "volumeDevices", "livenessProbe",
    "readinessProbe", "startupProbe", "lifecycle", "imagePullPolicy", "securityContext", "stdin", "stdinOnce", "tty",
    "terminationMessagePath", "terminationMessagePolicy", "resizePolicy"};
const Names IGNORED_NODE_SPEC = {"podCIDR", "podCIDRs", "providerID", "externalID", "configSource"};
const Names IGNORED_NODE_STATUS = {
    "conditions", "addresses", "daemonEndpoints", "nodeInfo", "phase", "volumesInUse", "volumesAttached", "config",
    "runtimeHandlers", "features"};
const Names IGNORED_DEPLOYMENT_SPEC = {"minReadySeconds", "revisionHistoryLimit", "progressDeadlineSeconds", "paused"};
// Job: the selector is generated, suspend is Kueue's switch (admission is simulated from
// the queues), the rest is cleanup and bookkeeping.
const Names IGNORED_JOB_SPEC = {
    "selector", "manualSelector", "ttlSecondsAfterFinished", "completionMode", "suspend", "podReplacementPolicy",
    "managedBy"};
// ClusterQueue: which namespaces may use it, FIFO flavour, fair sharing, admission checks
// and stop policy are not simulated; the queue admits from any namespace, best-effort FIFO.
const Names IGNORED_CLUSTER_QUEUE_SPEC = {
    "namespaceSelector", "queueingStrategy", "flavorFungibility", "fairSharing", "admissionChecks",
    "admissionChecksStrategy", "stopPolicy"};

// clang-format on
constexpr std::int64_t INT32_MAX_ = std::numeric_limits<std::int32_t>::max();
constexpr std::int64_t INT64_MAX_ = std::numeric_limits<std::int64_t>::max();

// ---- Scalars as Kubernetes' YAML 1.1 reader types them ----

enum class ScalarKind { STRING, NUMBER, BOOLEAN, NUL };

bool is_digits(std::string_view s, const char* set) {
  return !s.empty() && s.find_first_not_of(set) == std::string_view::npos;
}

// [-+]? ( .digits | digits [. digits?] ) ([eE][-+]?digits)?, hex, octal, binary, .inf, .nan
bool looks_numeric(std::string_view s) {
  static const std::set<std::string_view> specials = {".inf", ".Inf", ".INF", ".nan", ".NaN", ".NAN"};
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
  if (specials.count(s)) return true;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o' || s[1] == 'b'))
    return is_digits(s.substr(2), s[1] == 'x' ? "0123456789abcdefABCDEF" : s[1] == 'o' ? "01234567" : "01");
  std::size_t i = 0, digits = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
  }
  if (digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    return is_digits(s.substr(i), "0123456789");
  }
  return i == s.size();
}

std::optional<bool> yaml_bool(std::string_view s) {
  static const std::set<std::string_view> yes = {"y",    "Y",    "yes", "Yes", "YES", "true",
                                                 "True", "TRUE", "on",  "On",  "ON"};
  static const std::set<std::string_view> no = {"n",     "N",     "no",  "No",  "NO", "false",
                                                "False", "FALSE", "off", "Off", "OFF"};
  if (yes.count(s)) return true;
  if (no.count(s)) return false;
  return std::nullopt;
}

ScalarKind scalar_kind(const YAML::Node& n) {
  if (!n.IsDefined() || n.IsNull()) return ScalarKind::NUL;
  const std::string& tag = n.Tag();
  const std::string& text = n.Scalar();
  if (tag == "?") {  // plain: resolved by its text
    if (yaml_bool(text)) return ScalarKind::BOOLEAN;
    if (looks_numeric(text)) return ScalarKind::NUMBER;
    return ScalarKind::STRING;
  }
  if (tag == "tag:yaml.org,2002:int" || tag == "tag:yaml.org,2002:float") return ScalarKind::NUMBER;
  if (tag == "tag:yaml.org,2002:bool") return ScalarKind::BOOLEAN;
  if (tag == "tag:yaml.org,2002:null") return ScalarKind::NUL;
  return ScalarKind::STRING;  // quoted, block, !!str or a local tag
}

bool is_null(const YAML::Node& n) {
  return n.IsScalar() ? scalar_kind(n) == ScalarKind::NUL : !n.IsDefined() || n.IsNull();
}

// parse_quantity scales by 10^(-exponent - 3) in an int64, which overflows below e-21
// (a division by zero once it wraps): such texts are refused before they reach it.
bool exponent_in_range(std::string_view text) {
  std::size_t e = text.find_first_of("eE");
  if (e == std::string_view::npos || e + 1 >= text.size() || text[e + 1] != '-') return true;
  std::string_view digits = text.substr(e + 2);
  if (!is_digits(digits, "0123456789")) return true;  // not an exponent: parse_quantity rejects it
  digits.remove_prefix(std::min(digits.find_first_not_of('0'), digits.size()));
  return digits.size() <= 2 && (digits.empty() || std::stoi(std::string(digits)) <= 21);
}

// Printable, bounded text for a message.
std::string sanitize(std::string_view text, std::size_t limit = 60) {
  std::string out;
  for (std::size_t i = 0; i < text.size() && i < limit; ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '"' || c == '\\')
      out += '\\', out += static_cast<char>(c);
    else if (c < 0x20 || c == 0x7f) {
      static const char* hex = "0123456789abcdef";
      out += "\\x", out += hex[c >> 4], out += hex[c & 15];
    } else
      out += static_cast<char>(c);
  }
  if (text.size() > limit) out += "...";
  return out;
}

std::string describe(const YAML::Node& n) {
  if (n.IsMap()) return n.size() == 0 ? "an empty mapping" : "a mapping";
  if (n.IsSequence()) return n.size() == 0 ? "an empty list" : "a list";
  switch (scalar_kind(n)) {
    case ScalarKind::NUL:
      return "null";
    case ScalarKind::NUMBER:
      return "number " + sanitize(n.Scalar());
    case ScalarKind::BOOLEAN:
      return "boolean " + sanitize(n.Scalar());
    default:
      return "\"" + sanitize(n.Scalar()) + "\"";
  }
}

std::string where_of(const std::string& file, const YAML::Mark& mark) {
  if (mark.line < 0) return file;
  return file + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
}

// A key as a path component: `.cpu`, or `["nvidia.com/gpu"]` when it is not an identifier.
std::string child_path(const std::string& parent, const std::string& key) {
  bool simple =
      !key.empty() &&
      key.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == std::string::npos;
  return simple ? parent + "." + key : parent + "[\"" + sanitize(key) + "\"]";
}

// ---- Strict reading of one YAML value: the typed accessors fail with path and position ----

struct Context {
  std::string file;
  std::string object;    // "Deployment/web", or "document 3" before the kind is known
  std::int64_t* budget;  // node visits left for the whole text (aliases may multiply them)
};

class Value {
 public:
  Value(YAML::Node node, std::string path, Context& ctx) : node_(std::move(node)), path_(std::move(path)), ctx_(&ctx) {
    spend(1);
  }

  const YAML::Node& node() const { return node_; }
  const std::string& path() const { return path_; }
  Context& ctx() const { return *ctx_; }
  bool null() const { return is_null(node_); }
  std::string where() const { return where_of(ctx_->file, node_.Mark()); }

  [[noreturn]] void error(const std::string& what) const { throw InputError(where(), at() + what); }
  [[noreturn]] void fail(const std::string& expected) const {
    error("expected " + expected + ", got " + describe(node_));
  }
  // As fail(), with a hint when YAML typed unquoted text as a number or a boolean.
  [[noreturn]] void fail_text(const std::string& expected) const {
    auto kind = node_.IsScalar() ? scalar_kind(node_) : ScalarKind::NUL;
    bool typed = kind == ScalarKind::NUMBER || kind == ScalarKind::BOOLEAN;
    error("expected " + expected + ", got " + describe(node_) + (typed ? " (quote it to make it a string)" : ""));
  }
  std::string at() const { return "at " + ctx_->object + (path_.empty() ? "" : " " + path_) + ": "; }

  void spend(std::int64_t n) const {
    *ctx_->budget -= n;
    if (*ctx_->budget < 0)
      error(
          "expected a document of bounded size once YAML aliases are expanded, got more values than the text "
          "could hold without them (an alias loop or an alias bomb?)");
  }

  std::string str() const {
    if (!node_.IsScalar() || scalar_kind(node_) != ScalarKind::STRING) fail_text("a string");
    return node_.Scalar();
  }
  std::string nonempty_str(const std::string& what = "a non-empty string") const {
    if (!node_.IsScalar() || scalar_kind(node_) != ScalarKind::STRING || node_.Scalar().empty()) fail_text(what);
    return node_.Scalar();
  }

  std::int64_t integer(std::int64_t lo, std::int64_t hi) const {
    std::string expected = hi == INT32_MAX_ || hi == INT64_MAX_
                               ? "an integer >= " + std::to_string(lo)
                               : "an integer from " + std::to_string(lo) + " to " + std::to_string(hi);
    if (!node_.IsScalar() || scalar_kind(node_) != ScalarKind::NUMBER) fail(expected);
    std::string_view text = node_.Scalar();
    std::string_view digits = !text.empty() && (text[0] == '-' || text[0] == '+') ? text.substr(1) : text;
    if (!is_digits(digits, "0123456789")) fail(expected);
    auto v = parse_int(text);
    if (!v || *v < lo || *v > hi) fail(expected);
    return *v;
  }
  int int32(std::int64_t lo, std::int64_t hi = INT32_MAX_) const { return static_cast<int>(integer(lo, hi)); }
  // An API int64 (seconds, bytes) kept as a double.
  double whole(std::int64_t lo, std::int64_t hi = INT64_MAX_) const { return static_cast<double>(integer(lo, hi)); }

  bool boolean() const {
    auto b = node_.IsScalar() && scalar_kind(node_) == ScalarKind::BOOLEAN ? yaml_bool(node_.Scalar()) : std::nullopt;
    if (!b) fail("true or false");  // also `!!bool maybe`
    return *b;
  }

  Milli quantity() const {
    auto kind = node_.IsScalar() ? scalar_kind(node_) : ScalarKind::NUL;
    if ((kind == ScalarKind::STRING || kind == ScalarKind::NUMBER) && exponent_in_range(node_.Scalar()))
      if (auto q = parse_quantity(node_.Scalar())) return *q;
    fail("a quantity such as 500m or 2");
  }

  std::string choice(const Names& allowed) const {
    std::string expected = "one of " + join_alternatives(allowed);
    if (!node_.IsScalar() || scalar_kind(node_) != ScalarKind::STRING) fail_text(expected);
    const std::string& got = node_.Scalar();
    if (std::find(allowed.begin(), allowed.end(), got) != allowed.end()) return got;
    std::string near = nearest_name(got, allowed);
    error("expected " + expected + ", got " + describe(node_) +
          (near.empty() ? "" : " (did you mean \"" + near + "\"?)"));
  }

  std::vector<Value> list() const {
    if (!node_.IsSequence()) fail("a list");
    std::vector<Value> out;
    std::size_t i = 0;
    for (auto it = node_.begin(); it != node_.end(); ++it, ++i)
      out.emplace_back(YAML::Node(*it), path_ + "[" + std::to_string(i) + "]", *ctx_);
    return out;
  }
  std::vector<std::string> strings() const {
    std::vector<std::string> out;
    for (const auto& v : list()) out.push_back(v.str());
    return out;
  }
  Labels string_map() const;
  ResourceList resources() const;

 private:
  YAML::Node node_;
  std::string path_;
  Context* ctx_;
};

// A mapping read against a schema: `fields` are read by the caller, `ignored` are accepted
// and dropped; any other key is an error naming the nearest valid one. YAML merge keys
// (`<<: *base`) are expanded, the mapping's own keys taking precedence.
class Map {
 public:
  // Collects the entries; call schema() before get().
  explicit Map(const Value& v) : self_(v) {
    if (!v.node().IsMap()) v.fail("a mapping");
    collect(v.node(), 0, true);
  }
  Map(const Value& v, Names fields, const Names& ignored = {}) : Map(v) { schema(std::move(fields), ignored); }

  void schema(Names fields, const Names& ignored) {
    fields_ = std::move(fields);
    Names valid = fields_;
    valid.insert(valid.end(), ignored.begin(), ignored.end());
    // The first unknown key in the text (merged keys count where they are written).
    const std::pair<const std::string, std::pair<YAML::Node, YAML::Node>>* first = nullptr;
    auto position = [](const YAML::Node& n) { return std::make_pair(n.Mark().line, n.Mark().column); };
    for (const auto& entry : entries_)
      if (std::find(valid.begin(), valid.end(), entry.first) == valid.end() &&
          (!first || position(entry.second.first) < position(first->second.first)))
        first = &entry;
    if (first) {
      const std::string& key = first->first;
      Value k(first->second.first, child_path(self_.path(), key), self_.ctx());
      std::string msg = "unknown field \"" + sanitize(key) + "\"";
      std::string near = nearest_name(key, valid);
      if (!near.empty())
        msg += " (did you mean \"" + near + "\"?)";
      else
        msg += "; valid fields here: " + join_alternatives(fields_);
      k.error(msg);
    }
    checked_ = true;
  }

  // The value of `key`, or nullopt when it is absent or null (as the API server reads null).
  std::optional<Value> get(const std::string& key) const {
    AIFSIM_CHECK(checked_ && std::find(fields_.begin(), fields_.end(), key) != fields_.end(),
                 "manifest reader asked for a field outside its schema: " + key);
    auto it = entries_.find(key);
    if (it == entries_.end() || is_null(it->second.second)) return std::nullopt;
    return Value(it->second.second, child_path(self_.path(), key), self_.ctx());
  }
  Value need(const std::string& key) const {
    if (auto v = get(key)) return *v;
    self_.error("missing required field \"" + key + "\"");
  }
  // A field aifsim cannot represent: accepted only when absent or empty.
  void reject_unless_empty(const std::string& key, const std::string& what) const {
    auto v = get(key);
    if (!v) return;
    const YAML::Node& n = v->node();
    if ((n.IsMap() || n.IsSequence()) && n.size() == 0) return;
    v->fail("no value (" + what + " is not simulated)");
  }
  const Value& self() const { return self_; }

  // Lenient peek at a scalar entry before the schema is known (kind, apiVersion, name).
  std::optional<std::string> peek(const std::string& key) const {
    auto it = entries_.find(key);
    if (it == entries_.end() || !it->second.second.IsScalar()) return std::nullopt;
    return it->second.second.Scalar();
  }
  const YAML::Node* raw(const std::string& key) const {
    auto it = entries_.find(key);
    return it == entries_.end() ? nullptr : &it->second.second;
  }
  // Every entry as a Value, for mappings whose keys are data (labels, resource lists).
  std::vector<std::pair<std::string, Value>> entries() const {
    std::vector<std::pair<std::string, Value>> out;
    for (const auto& [key, entry] : entries_)
      out.emplace_back(key, Value(entry.second, child_path(self_.path(), key), self_.ctx()));
    return out;
  }

 private:
  void collect(const YAML::Node& node, int depth, bool own) {
    std::vector<YAML::Node> merges;
    for (auto it = node.begin(); it != node.end(); ++it) {
      self_.spend(1);
      const YAML::Node key = it->first;
      if (!key.IsScalar() || is_null(key)) Value(key, self_.path(), self_.ctx()).fail("a field name");
      const std::string& name = key.Scalar();
      if (name == "<<" && key.Tag() == "?") {
        merges.push_back(it->second);
        continue;
      }
      auto [at, inserted] = entries_.try_emplace(name, key, it->second);
      if (!inserted && own)
        Value(key, child_path(self_.path(), name), self_.ctx())
            .error("duplicate field \"" + sanitize(name) + "\" (first at line " +
                   std::to_string(at->second.first.Mark().line + 1) + ")");
    }
    for (const auto& m : merges) {
      Value v(m, self_.path() + ".<<", self_.ctx());
      if (depth >= 8) v.fail("merge keys nested at most 8 deep");
      if (m.IsMap()) {
        collect(m, depth + 1, false);
      } else if (m.IsSequence()) {
        for (const auto& item : v.list()) {
          if (!item.node().IsMap()) item.fail("a mapping to merge");
          collect(item.node(), depth + 1, false);
        }
      } else {
        v.fail("a mapping or a list of mappings to merge");
      }
    }
  }

  Value self_;
  std::map<std::string, std::pair<YAML::Node, YAML::Node>> entries_;  // key -> (key node, value)
  Names fields_;
  bool checked_ = false;
};

Labels Value::string_map() const {
  Labels out;
  for (const auto& [key, v] : Map(*this).entries()) out[key] = v.null() ? "" : v.str();  // null reads as ""
  return out;
}

ResourceList Value::resources() const {
  if (!node_.IsMap()) fail("a mapping of resource names to quantities");
  ResourceList out;
  for (const auto& [key, v] : Map(*this).entries()) {
    if (key.empty()) v.fail("a quantity under a non-empty resource name");
    out[key] = v.quantity();
  }
  return out;
}

// ---- Shared pieces: metadata, selectors, templates ----

// Reads name, namespace, labels and annotations; returns the mapping for `extra_fields`.
Map read_meta(const Value& v, ObjectMeta& meta, bool namespaced, bool name_required, const Names& extra_fields = {}) {
  Names fields = {"name", "namespace", "labels", "annotations"};
  fields.insert(fields.end(), extra_fields.begin(), extra_fields.end());
  Names ignored = IGNORED_META;
  ignored.erase(std::remove_if(ignored.begin(), ignored.end(),
                               [&](const std::string& f) {
                                 return std::find(extra_fields.begin(), extra_fields.end(), f) != extra_fields.end();
                               }),
                ignored.end());
  Map m(v, fields, ignored);
  if (name_required)
    meta.name = m.need("name").nonempty_str("a non-empty name");
  else if (auto n = m.get("name"))
    meta.name = n->str();
  if (auto ns = m.get("namespace")) {
    std::string text = ns->nonempty_str("a non-empty namespace");
    if (namespaced) meta.namespace_ = text;
  }
  if (!namespaced) meta.namespace_ = "";
  if (auto l = m.get("labels")) meta.labels = l->string_map();
  if (auto a = m.get("annotations")) meta.annotations = a->string_map();
  return m;
}

Requirement read_requirement(const Value& v, bool node_selector, bool match_fields) {
  Map m(v, {"key", "operator", "values"});
  Requirement r;
  r.key = m.need("key").nonempty_str("a non-empty key");
  Value opv = m.need("operator");
  Names ops = node_selector ? Names{"In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"}
                            : Names{"In", "NotIn", "Exists", "DoesNotExist"};
  if (match_fields) ops = {"In", "NotIn"};
  std::string op = opv.choice(ops);
  static const std::map<std::string, SelectorOp> by_name = {
      {"In", SelectorOp::IN},         {"NotIn", SelectorOp::NOT_IN},
      {"Exists", SelectorOp::EXISTS}, {"DoesNotExist", SelectorOp::DOES_NOT_EXIST},
      {"Gt", SelectorOp::GT},         {"Lt", SelectorOp::LT}};
  r.op = by_name.at(op);
  auto values = m.get("values");
  if (values) r.values = values->strings();
  if (match_fields && r.key != "metadata.name")
    m.need("key").fail("\"metadata.name\" (the only field a node selector term can match)");
  bool exists = r.op == SelectorOp::EXISTS || r.op == SelectorOp::DOES_NOT_EXIST;
  if (!values && !exists) m.self().error("missing required field \"values\" (operator " + op + " needs values)");
  if (exists) {
    if (!r.values.empty()) values->fail("no values for operator " + op);
  } else if (r.op == SelectorOp::IN || r.op == SelectorOp::NOT_IN) {
    if (r.values.empty()) values->fail("at least one value for operator " + op);
    if (match_fields && r.values.size() != 1) values->fail("exactly one value for matchFields");
  } else {  // Gt, Lt: one integer, written as a string
    if (r.values.size() != 1) values->fail("exactly one value for operator " + op);
    const std::string& text = r.values[0];
    if (!parse_int(text) || text[0] == '+') values->list()[0].fail("an integer such as \"4\" for operator " + op);
  }
  return r;
}

LabelSelector read_selector(const Value& v) {
  Map m(v, {"matchLabels", "matchExpressions"});
  LabelSelector s;
  if (auto l = m.get("matchLabels")) s.match_labels = l->string_map();
  if (auto e = m.get("matchExpressions"))
    for (const auto& item : e->list()) s.match_expressions.push_back(read_requirement(item, false, false));
  return s;
}

bool selects(const LabelSelector& s, const Labels& labels) {
  for (const auto& [k, val] : s.match_labels) {
    auto it = labels.find(k);
    if (it == labels.end() || it->second != val) return false;
  }
  for (const auto& r : s.match_expressions) {
    auto it = labels.find(r.key);
    bool in = it != labels.end() && std::find(r.values.begin(), r.values.end(), it->second) != r.values.end();
    switch (r.op) {
      case SelectorOp::IN:
        if (!in) return false;
        break;
      case SelectorOp::NOT_IN:
        if (in) return false;
        break;
      case SelectorOp::EXISTS:
        if (it == labels.end()) return false;
        break;
      case SelectorOp::DOES_NOT_EXIST:
        if (it != labels.end()) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

std::string format_labels(const Labels& labels) {
  if (labels.empty()) return "no labels";
  std::string out;
  for (const auto& [k, v] : labels) out += (out.empty() ? "" : ",") + k + "=" + v;
  return sanitize(out, 120);
}

TaintEffect read_effect(const Value& v) {
  std::string e = v.choice({"NoSchedule", "PreferNoSchedule", "NoExecute"});
  return e == "NoSchedule"         ? TaintEffect::NO_SCHEDULE
         : e == "PreferNoSchedule" ? TaintEffect::PREFER_NO_SCHEDULE
                                   : TaintEffect::NO_EXECUTE;
}

// ---- Pod spec ----

bool is_extended_resource(const std::string& name) {
  // Native resources have no domain (cpu, memory, hugepages-2Mi) or the kubernetes.io one.
  return name.find('/') != std::string::npos && name.rfind("kubernetes.io/", 0) != 0 &&
         name.find(".kubernetes.io/") == std::string::npos;
}

Container read_container(const Value& v, bool init) {
  Names fields = {"name", "image", "resources"};
  if (init) fields.push_back("restartPolicy");
  Map m(v, fields, IGNORED_CONTAINER);
  Container c;
  c.name = m.need("name").nonempty_str("a non-empty container name");
  c.image = m.need("image").nonempty_str("a non-empty image");
  if (init)
    if (auto rp = m.get("restartPolicy"))
      rp->fail("no restartPolicy (sidecar init containers, restartPolicy Always, are not simulated)");
  if (auto r = m.get("resources")) {
    Map res(*r, {"requests", "limits", "claims"});
    res.reject_unless_empty("claims", "dynamic resource allocation");
    std::optional<Value> req = res.get("requests"), lim = res.get("limits");
    if (lim) c.limits = lim->resources();
    if (req) {
      c.requests = req->resources();
      for (const auto& [name, at] : Map(*req).entries()) {
        Milli request = c.requests.at(name);
        auto limit = c.limits.find(name);
        if (is_extended_resource(name)) {
          if (limit == c.limits.end())
            at.error(
                "expected a limit equal to this request (extended resources cannot be overcommitted), "
                "got a request without a limit");
          if (limit->second != request)
            at.fail("a request equal to the limit " + format_quantity(limit->second) +
                    " (extended resources cannot be overcommitted)");
        } else if (limit != c.limits.end() && request > limit->second) {
          at.fail("a request of at most the limit " + format_quantity(limit->second));
        }
      }
    }
    // The API server defaults a missing request to the limit, per resource.
    for (const auto& [name, limit] : c.limits) c.requests.try_emplace(name, limit);
  }
  return c;
}

Toleration read_toleration(const Value& v) {
  Map m(v, {"key", "operator", "value", "effect", "tolerationSeconds"});
  Toleration t;
  if (auto k = m.get("key")) t.key = k->str();
  if (auto op = m.get("operator")) t.exists = op->choice({"Equal", "Exists"}) == "Exists";
  if (auto val = m.get("value")) {
    t.value = val->str();
    if (t.exists && !t.value.empty()) val->fail("no value with operator Exists");
  }
  if (t.key.empty() && !t.exists)
    m.self().error("expected operator Exists when the key is empty (a toleration of every taint), got operator Equal");
  if (auto e = m.get("effect"); e && !(e->node().IsScalar() && e->node().Scalar().empty())) t.effect = read_effect(*e);
  if (auto s = m.get("tolerationSeconds")) {
    if (t.effect != TaintEffect::NO_EXECUTE) s->fail("no tolerationSeconds unless effect is NoExecute");
    t.toleration_seconds = static_cast<double>(s->integer(std::numeric_limits<std::int64_t>::min(), INT64_MAX_));
  }
  return t;
}

NodeSelectorTerm read_node_term(const Value& v) {
  Map m(v, {"matchExpressions", "matchFields"});
  NodeSelectorTerm t;
  if (auto e = m.get("matchExpressions"))
    for (const auto& item : e->list()) t.match_expressions.push_back(read_requirement(item, true, false));
  if (auto f = m.get("matchFields"))
    for (const auto& item : f->list()) t.match_fields.push_back(read_requirement(item, true, true));
  return t;
}

NodeAffinity read_node_affinity(const Value& v) {
  Map m(v, {"requiredDuringSchedulingIgnoredDuringExecution", "preferredDuringSchedulingIgnoredDuringExecution"});
  NodeAffinity a;
  if (auto r = m.get("requiredDuringSchedulingIgnoredDuringExecution")) {
    Map sel(*r, {"nodeSelectorTerms"});
    Value terms = sel.need("nodeSelectorTerms");
    a.required.emplace();
    for (const auto& t : terms.list()) a.required->push_back(read_node_term(t));
    if (a.required->empty()) terms.fail("at least one node selector term");
  }
  if (auto p = m.get("preferredDuringSchedulingIgnoredDuringExecution"))
    for (const auto& item : p->list()) {
      Map pm(item, {"weight", "preference"});
      PreferredSchedulingTerm t;
      t.weight = pm.need("weight").int32(1, 100);
      t.preference = read_node_term(pm.need("preference"));
      a.preferred.push_back(std::move(t));
    }
  return a;
}

PodAffinityTerm read_pod_affinity_term(const Value& v) {
  Map m(v, {"labelSelector", "namespaces", "topologyKey", "namespaceSelector", "matchLabelKeys", "mismatchLabelKeys"});
  PodAffinityTerm t;
  if (auto s = m.get("labelSelector")) t.selector = read_selector(*s);
  if (auto n = m.get("namespaces")) t.namespaces = n->strings();
  t.topology_key = m.need("topologyKey").nonempty_str("a non-empty topology key such as kubernetes.io/hostname");
  if (auto ns = m.get("namespaceSelector"))
    ns->fail("no namespaceSelector (namespace selection by labels is not simulated; list namespaces instead)");
  m.reject_unless_empty("matchLabelKeys", "matchLabelKeys");
  m.reject_unless_empty("mismatchLabelKeys", "mismatchLabelKeys");
  return t;
}

PodAffinityRules read_pod_affinity(const Value& v) {
  Map m(v, {"requiredDuringSchedulingIgnoredDuringExecution", "preferredDuringSchedulingIgnoredDuringExecution"});
  PodAffinityRules rules;
  if (auto r = m.get("requiredDuringSchedulingIgnoredDuringExecution"))
    for (const auto& item : r->list()) rules.required.push_back(read_pod_affinity_term(item));
  if (auto p = m.get("preferredDuringSchedulingIgnoredDuringExecution"))
    for (const auto& item : p->list()) {
      Map pm(item, {"weight", "podAffinityTerm"});
      WeightedPodAffinityTerm w;
      w.weight = pm.need("weight").int32(1, 100);
      w.term = read_pod_affinity_term(pm.need("podAffinityTerm"));
      rules.preferred.push_back(std::move(w));
    }
  return rules;
}

TopologySpreadConstraint read_spread(const Value& v) {
  Map m(v, {"maxSkew", "topologyKey", "whenUnsatisfiable", "labelSelector", "minDomains", "matchLabelKeys",
            "nodeAffinityPolicy", "nodeTaintsPolicy"});
  TopologySpreadConstraint c;
  c.max_skew = m.need("maxSkew").int32(1);
  c.topology_key = m.need("topologyKey").nonempty_str("a non-empty topology key such as topology.kubernetes.io/zone");
  c.when_unsatisfiable = m.need("whenUnsatisfiable").choice({"DoNotSchedule", "ScheduleAnyway"}) == "DoNotSchedule"
                             ? WhenUnsatisfiable::DO_NOT_SCHEDULE
                             : WhenUnsatisfiable::SCHEDULE_ANYWAY;
  if (auto s = m.get("labelSelector")) c.selector = read_selector(*s);
  if (auto d = m.get("minDomains")) {
    c.min_domains = d->int32(1);
    if (c.when_unsatisfiable != WhenUnsatisfiable::DO_NOT_SCHEDULE)
      d->fail("no minDomains unless whenUnsatisfiable is DoNotSchedule");
  }
  m.reject_unless_empty("matchLabelKeys", "matchLabelKeys");
  if (auto p = m.get("nodeAffinityPolicy"); p && p->choice({"Honor", "Ignore"}) != "Honor")
    p->fail("Honor (nodeAffinityPolicy Ignore is not simulated)");
  if (auto p = m.get("nodeTaintsPolicy"); p && p->choice({"Honor", "Ignore"}) != "Ignore")
    p->fail("Ignore (nodeTaintsPolicy Honor is not simulated)");
  return c;
}

PodSpec read_pod_spec(const Value& v) {
  Map m(v,
        {"containers", "initContainers", "nodeSelector", "affinity", "tolerations", "topologySpreadConstraints",
         "priorityClassName", "priority", "preemptionPolicy", "terminationGracePeriodSeconds", "schedulerName",
         "nodeName", "overhead", "schedulingGates", "resourceClaims", "resources", "activeDeadlineSeconds"},
        IGNORED_POD_SPEC);
  PodSpec s;
  Value containers = m.need("containers");
  for (const auto& c : containers.list()) s.containers.push_back(read_container(c, false));
  if (s.containers.empty()) containers.fail("at least one container");
  if (auto i = m.get("initContainers"))
    for (const auto& c : i->list()) s.init_containers.push_back(read_container(c, true));
  if (auto n = m.get("nodeSelector")) s.node_selector = n->string_map();
  if (auto a = m.get("affinity")) {
    Map am(*a, {"nodeAffinity", "podAffinity", "podAntiAffinity"});
    if (auto n = am.get("nodeAffinity")) s.affinity.node_affinity = read_node_affinity(*n);
    if (auto p = am.get("podAffinity")) s.affinity.pod_affinity = read_pod_affinity(*p);
    if (auto p = am.get("podAntiAffinity")) s.affinity.pod_anti_affinity = read_pod_affinity(*p);
  }
  if (auto t = m.get("tolerations"))
    for (const auto& item : t->list()) s.tolerations.push_back(read_toleration(item));
  if (auto t = m.get("topologySpreadConstraints"))
    for (const auto& item : t->list()) s.topology_spread_constraints.push_back(read_spread(item));
  if (auto p = m.get("priorityClassName")) s.priority_class_name = p->str();
  if (auto p = m.get("priority")) s.priority = p->int32(std::numeric_limits<std::int32_t>::min());
  if (auto p = m.get("preemptionPolicy")) s.preemption_policy = p->choice({"PreemptLowerPriority", "Never"});
  if (auto t = m.get("terminationGracePeriodSeconds")) s.termination_grace_period_s = t->whole(0);
  if (auto n = m.get("schedulerName")) s.scheduler_name = n->nonempty_str("a non-empty scheduler name");
  if (auto n = m.get("nodeName")) s.node_name = n->str();
  m.reject_unless_empty("overhead", "pod overhead");
  m.reject_unless_empty("schedulingGates", "a scheduling gate");
  m.reject_unless_empty("resourceClaims", "dynamic resource allocation");
  m.reject_unless_empty("resources", "pod-level resources");
  if (auto a = m.get("activeDeadlineSeconds"))
    a->fail("no activeDeadlineSeconds (a pod deadline is not simulated; use a Job's)");
  return s;
}

PodTemplate read_template(const Value& v, const ObjectMeta& owner) {
  Map m(v, {"metadata", "spec"});
  PodTemplate t;
  t.meta.namespace_ = owner.namespace_;
  t.meta.source = owner.source;
  if (auto md = m.get("metadata")) read_meta(*md, t.meta, true, false);
  t.meta.namespace_ = owner.namespace_;  // pods are made in the owner's namespace
  t.spec = read_pod_spec(m.need("spec"));
  return t;
}

// selector + template, with the API server's check that the selector selects the template.
void read_selected_template(const Map& spec, LabelSelector& selector, PodTemplate& tpl, const ObjectMeta& owner) {
  Value sv = spec.need("selector");
  selector = read_selector(sv);
  if (selector.match_labels.empty() && selector.match_expressions.empty())
    sv.fail("a non-empty selector (an empty one would select every pod)");
  Value tv = spec.need("template");
  tpl = read_template(tv, owner);
  if (!selects(selector, tpl.meta.labels))
    tv.error("expected template labels that .spec.selector selects, got " + format_labels(tpl.meta.labels));
}

// ---- Kinds ----

struct Object {
  Map top;
  std::string source;  // file:line
};

Node read_node(const Object& o) {
  Node n;
  n.meta.source = o.source;
  read_meta(o.top.need("metadata"), n.meta, false, true);
  if (auto s = o.top.get("spec")) {
    Map m(*s, {"taints", "unschedulable"}, IGNORED_NODE_SPEC);
    if (auto t = m.get("taints"))
      for (const auto& item : t->list()) {
        Map tm(item, {"key", "value", "effect"}, {"timeAdded"});
        Taint taint;
        taint.key = tm.need("key").nonempty_str("a non-empty taint key");
        if (auto val = tm.get("value")) taint.value = val->str();
        taint.effect = read_effect(tm.need("effect"));
        n.taints.push_back(taint);
      }
    if (auto u = m.get("unschedulable")) n.unschedulable = u->boolean();
  }
  if (auto s = o.top.get("status")) {
    Map m(*s, {"capacity", "allocatable", "images"}, IGNORED_NODE_STATUS);
    if (auto c = m.get("capacity")) n.capacity = c->resources();
    if (auto a = m.get("allocatable")) n.allocatable = a->resources();
    for (const auto& [name, value] : n.capacity) n.allocatable.try_emplace(name, value);
    if (auto imgs = m.get("images"))
      for (const auto& item : imgs->list()) {
        Map im(item, {"names", "sizeBytes"});
        double size = 0;
        if (auto b = im.get("sizeBytes")) size = b->whole(0);  // an int64 count of bytes
        // One entry per name (tag and digest), each with the image's size, so a pod's
        // image reference matches whichever form it uses.
        if (auto names = im.get("names"))
          for (const auto& name : names->strings()) n.images.push_back({name, size});
      }
  }
  return n;
}

Pod read_pod(const Object& o) {
  Pod p;
  p.meta.source = o.source;
  Map meta = read_meta(o.top.need("metadata"), p.meta, true, true, {"ownerReferences"});
  if (auto refs = meta.get("ownerReferences")) {
    bool have_controller = false;
    for (const auto& item : refs->list()) {
      Map r(item, {"kind", "name", "controller"}, {"apiVersion", "uid", "blockOwnerDeletion"});
      std::string kind = r.need("kind").nonempty_str(), name = r.need("name").nonempty_str();
      bool controller = false;
      if (auto c = r.get("controller")) controller = c->boolean();
      if (controller && have_controller) item.fail("at most one owner reference with controller: true");
      if (controller || p.owner_kind.empty()) p.owner_kind = kind, p.owner_name = name;
      have_controller = have_controller || controller;
    }
  }
  auto group = p.meta.labels.find("scheduling.x-k8s.io/pod-group");
  if (group != p.meta.labels.end()) p.pod_group = group->second;
  p.spec = read_pod_spec(o.top.need("spec"));
  return p;
}

PriorityClass read_priority_class(const Object& o) {
  ObjectMeta meta;
  read_meta(o.top.need("metadata"), meta, false, true);
  PriorityClass pc;
  pc.name = meta.name;
  pc.value = o.top.need("value").int32(std::numeric_limits<std::int32_t>::min());
  if (auto g = o.top.get("globalDefault")) pc.global_default = g->boolean();
  if (auto p = o.top.get("preemptionPolicy")) pc.preemption_policy = p->choice({"PreemptLowerPriority", "Never"});
  return pc;
}

IntOrPercent read_int_or_percent(const Value& v, bool at_most_100) {
  const YAML::Node& n = v.node();
  std::string expected =
      at_most_100 ? "an integer >= 0 or a percentage from 0% to 100%" : "an integer >= 0 or a percentage such as 25%";
  if (!n.IsScalar()) v.fail(expected);
  auto kind = scalar_kind(n);
  if (kind == ScalarKind::NUMBER) {
    if (!is_digits(n.Scalar(), "0123456789")) v.fail(expected);
    return {false, v.int32(0)};
  }
  const std::string& text = n.Scalar();
  if (kind != ScalarKind::STRING || text.size() < 2 || text.back() != '%' ||
      !is_digits(std::string_view(text).substr(0, text.size() - 1), "0123456789"))
    v.fail(expected);
  auto pct = parse_int(std::string_view(text).substr(0, text.size() - 1));
  if (!pct || *pct > (at_most_100 ? 100 : INT32_MAX_)) v.fail(expected);
  return {true, static_cast<int>(*pct)};
}

Deployment read_deployment(const Object& o) {
  Deployment d;
  d.meta.source = o.source;
  read_meta(o.top.need("metadata"), d.meta, true, true);
  Map spec(o.top.need("spec"), {"replicas", "selector", "template", "strategy"}, IGNORED_DEPLOYMENT_SPEC);
  if (auto r = spec.get("replicas")) d.replicas = r->int32(0);
  read_selected_template(spec, d.selector, d.pod_template, d.meta);
  if (auto s = spec.get("strategy")) {
    Map sm(*s, {"type", "rollingUpdate"});
    if (auto t = sm.get("type")) d.recreate = t->choice({"RollingUpdate", "Recreate"}) == "Recreate";
    if (auto ru = sm.get("rollingUpdate")) {
      if (d.recreate) ru->fail("no rollingUpdate when the strategy type is Recreate");
      Map rm(*ru, {"maxSurge", "maxUnavailable"});
      auto surge = rm.get("maxSurge"), unavailable = rm.get("maxUnavailable");
      if (surge) d.max_surge = read_int_or_percent(*surge, false);
      if (unavailable) d.max_unavailable = read_int_or_percent(*unavailable, true);
      if (d.max_surge.value == 0 && d.max_unavailable.value == 0)
        (unavailable ? *unavailable : *surge)
            .fail("maxSurge and maxUnavailable not both 0 (the rollout could never progress)");
    }
  }
  return d;
}

ReplicaSet read_replica_set(const Object& o) {
  ReplicaSet r;
  r.meta.source = o.source;
  read_meta(o.top.need("metadata"), r.meta, true, true);
  Map spec(o.top.need("spec"), {"replicas", "selector", "template"}, {"minReadySeconds"});
  if (auto n = spec.get("replicas")) r.replicas = n->int32(0);
  read_selected_template(spec, r.selector, r.pod_template, r.meta);
  return r;
}

Job read_job(const Object& o) {
  Job j;
  j.meta.source = o.source;
  read_meta(o.top.need("metadata"), j.meta, true, true);
  Map spec(o.top.need("spec"),
           {"parallelism", "completions", "backoffLimit", "activeDeadlineSeconds", "template", "podFailurePolicy",
            "backoffLimitPerIndex", "maxFailedIndexes", "successPolicy"},
           IGNORED_JOB_SPEC);
  auto parallelism = spec.get("parallelism");
  if (parallelism) j.parallelism = parallelism->int32(0);
  // As the API server defaults it: completions left unset (or null) is 1 when parallelism
  // is unset too, else stays unset (a work queue: the job ends at the first success).
  if (auto c = spec.get("completions"))
    j.completions = c->int32(0);
  else if (parallelism)
    j.completions = std::nullopt;
  if (auto b = spec.get("backoffLimit")) j.backoff_limit = b->int32(0);
  if (auto a = spec.get("activeDeadlineSeconds")) j.active_deadline_s = a->whole(1);
  for (const char* f : {"podFailurePolicy", "backoffLimitPerIndex", "maxFailedIndexes", "successPolicy"})
    if (auto x = spec.get(f)) x->fail(std::string("no ") + f + " (it is not simulated)");
  j.pod_template = read_template(spec.need("template"), j.meta);
  return j;
}

MetricTarget read_target(const Value& v, const Names& types) {
  Map m(v, {"type", "averageUtilization", "averageValue", "value"});
  MetricTarget t;
  t.type = m.need("type").choice(types);
  auto util = m.get("averageUtilization"), avg = m.get("averageValue"), val = m.get("value");
  if (util) t.average_utilization = util->int32(1);
  if (avg) t.average_value = avg->quantity();
  if (val) t.value = val->quantity();
  std::optional<Value> wanted = t.type == "Utilization" ? util : t.type == "AverageValue" ? avg : val;
  const char* field = t.type == "Utilization"    ? "averageUtilization"
                      : t.type == "AverageValue" ? "averageValue"
                                                 : "value";
  if (!wanted)
    m.self().error("missing required field \"" + std::string(field) + "\" (the target type is " + t.type + ")");
  for (const auto& other : {util, avg, val})
    if (other && other->path() != wanted->path())
      other->fail("no other target than " + std::string(field) + " (the target type is " + t.type + ")");
  if ((avg && *t.average_value <= 0) || (val && *t.value <= 0)) wanted->fail("a positive quantity");
  return t;
}

HpaMetric read_metric(const Value& v) {
  Map m(v, {"type", "resource", "pods", "external", "object", "containerResource"});
  HpaMetric metric;
  metric.type = m.need("type").choice({"Resource", "Pods", "External"});
  const char* source = metric.type == "Resource" ? "resource" : metric.type == "Pods" ? "pods" : "external";
  for (const char* f : {"resource", "pods", "external", "object", "containerResource"})
    if (auto x = m.get(f); x && std::string(f) != source)
      x->fail(std::string("no ") + f + " (the metric type is " + metric.type + ")");
  Value src = m.need(source);
  if (metric.type == "Resource") {
    Map r(src, {"name", "target"});
    metric.name = r.need("name").nonempty_str("a resource name such as cpu");
    metric.target = read_target(r.need("target"), {"Utilization", "AverageValue"});
  } else {
    Map r(src, {"metric", "target"});
    // The metric's label selector filters samples of a metric the simulation generates
    // itself: accepted and ignored.
    Map id(r.need("metric"), {"name"}, {"selector"});
    metric.name = id.need("name").nonempty_str("a metric name");
    metric.target =
        read_target(r.need("target"), metric.type == "Pods" ? Names{"AverageValue"} : Names{"Value", "AverageValue"});
  }
  return metric;
}

HpaScalingRules read_scaling_rules(const Value& v) {
  Map m(v, {"stabilizationWindowSeconds", "selectPolicy", "policies", "tolerance"});
  HpaScalingRules r;
  if (auto s = m.get("stabilizationWindowSeconds")) r.stabilization_window_s = s->whole(0, 3600);
  if (auto s = m.get("selectPolicy")) r.select_policy = s->choice({"Max", "Min", "Disabled"});
  if (auto p = m.get("policies")) {
    for (const auto& item : p->list()) {
      Map pm(item, {"type", "value", "periodSeconds"});
      HpaPolicy policy;
      policy.type = pm.need("type").choice({"Pods", "Percent"});
      policy.value = pm.need("value").int32(1);
      policy.period_s = pm.need("periodSeconds").whole(1, 1800);
      r.policies.push_back(policy);
    }
    if (r.policies.empty()) p->fail("at least one policy (leave policies out for the defaults)");
  }
  if (auto t = m.get("tolerance")) t->fail("no tolerance (a per-direction tolerance is not simulated)");
  return r;
}

HorizontalPodAutoscaler read_hpa(const Object& o) {
  HorizontalPodAutoscaler h;
  h.meta.source = o.source;
  read_meta(o.top.need("metadata"), h.meta, true, true);
  Map spec(o.top.need("spec"), {"scaleTargetRef", "minReplicas", "maxReplicas", "metrics", "behavior"});
  Map ref(spec.need("scaleTargetRef"), {"kind", "name"}, {"apiVersion"});
  h.target_kind = ref.need("kind").nonempty_str();
  h.target_name = ref.need("name").nonempty_str();
  if (auto m = spec.get("minReplicas")) h.min_replicas = m->int32(1);
  Value max = spec.need("maxReplicas");
  h.max_replicas = max.int32(1);
  if (h.min_replicas && h.max_replicas < *h.min_replicas)
    max.fail("an integer >= minReplicas (" + std::to_string(*h.min_replicas) + ")");
  if (auto ms = spec.get("metrics"))
    for (const auto& item : ms->list()) h.metrics.push_back(read_metric(item));
  if (auto b = spec.get("behavior")) {
    Map bm(*b, {"scaleUp", "scaleDown"});
    if (auto up = bm.get("scaleUp")) h.scale_up = read_scaling_rules(*up);
    if (auto down = bm.get("scaleDown")) h.scale_down = read_scaling_rules(*down);
  }
  return h;
}

PodGroup read_pod_group(const Object& o) {
  PodGroup g;
  g.meta.source = o.source;
  read_meta(o.top.need("metadata"), g.meta, true, true);
  // minResources is the coscheduling plugin's early capacity check; accepted and ignored
  // (the gang still waits for minMember pods to fit).
  Map spec(o.top.need("spec"), {"minMember", "scheduleTimeoutSeconds", "minResources"});
  if (auto m = spec.get("minMember")) g.min_member = m->int32(1);
  if (auto t = spec.get("scheduleTimeoutSeconds")) g.schedule_timeout_s = t->whole(1, INT32_MAX_);
  if (auto r = spec.get("minResources")) r->resources();
  return g;
}

ClusterQueue read_cluster_queue(const Object& o) {
  ClusterQueue q;
  q.meta.source = o.source;
  read_meta(o.top.need("metadata"), q.meta, false, true);
  Map spec(o.top.need("spec"), {"cohort", "resourceGroups", "preemption"}, IGNORED_CLUSTER_QUEUE_SPEC);
  if (auto c = spec.get("cohort")) q.cohort = c->str();
  std::map<std::string, std::string> flavor_paths;
  if (auto groups = spec.get("resourceGroups"))
    for (const auto& g : groups->list()) {
      Map gm(g, {"coveredResources", "flavors"});
      Value covered_v = gm.need("coveredResources");
      Names covered = covered_v.strings();
      if (covered.empty()) covered_v.fail("at least one covered resource");
      Value flavors = gm.need("flavors");
      if (flavors.node().IsSequence() && flavors.node().size() == 0) flavors.fail("at least one flavor");
      for (const auto& f : flavors.list()) {
        Map fm(f, {"name", "resources"});
        ResourceQuota quota;
        Value name = fm.need("name");
        quota.flavor = name.nonempty_str("a non-empty flavor name");
        if (auto [it, fresh] = flavor_paths.try_emplace(quota.flavor, name.path()); !fresh)
          name.fail("a flavor not already listed at " + it->second);
        Value resources = fm.need("resources");
        auto items = resources.list();
        if (items.size() != covered.size())
          resources.fail(std::to_string(covered.size()) + " resources, one per covered resource");
        for (std::size_t i = 0; i < items.size(); ++i) {
          Map rm(items[i], {"name", "nominalQuota", "borrowingLimit"}, {"lendingLimit"});
          Value rn = rm.need("name");
          std::string resource = rn.str();
          if (resource != covered[i])
            rn.fail("\"" + sanitize(covered[i]) + "\" (a flavor lists the covered resources in order)");
          quota.nominal[resource] = rm.need("nominalQuota").quantity();
          if (auto b = rm.get("borrowingLimit")) quota.borrowing_limit[resource] = b->quantity();
        }
        q.quotas.push_back(std::move(quota));
      }
    }
  if (auto p = spec.get("preemption")) {
    Map pm(*p, {"withinClusterQueue", "reclaimWithinCohort"}, {"borrowWithinCohort"});
    if (auto w = pm.get("withinClusterQueue")) {
      if (w->node().IsScalar() && w->node().Scalar() == "LowerOrNewerEqualPriority")
        w->fail("Never or LowerPriority (LowerOrNewerEqualPriority is not simulated)");
      q.within_cluster_queue_preemption = w->choice({"Never", "LowerPriority"});
    }
    if (auto r = pm.get("reclaimWithinCohort")) q.reclaim_within_cohort = r->choice({"Never", "LowerPriority", "Any"});
  }
  return q;
}

LocalQueue read_local_queue(const Object& o) {
  LocalQueue q;
  q.meta.source = o.source;
  read_meta(o.top.need("metadata"), q.meta, true, true);
  Map spec(o.top.need("spec"), {"clusterQueue"}, {"stopPolicy", "fairSharing"});
  q.cluster_queue = spec.need("clusterQueue").nonempty_str("the name of a ClusterQueue");
  return q;
}

// kind -> apiVersion, the fields of its top level beside apiVersion/kind/metadata, and
// those accepted and ignored there.
struct KindSchema {
  std::string api_version;
  Names fields;
  Names ignored;
};

const std::map<std::string, KindSchema>& kinds() {
  static const std::map<std::string, KindSchema> table = {
      {"Node", {"v1", {"spec", "status"}, {}}},
      {"Pod", {"v1", {"spec"}, {"status"}}},
      {"PriorityClass", {"scheduling.k8s.io/v1", {"value", "globalDefault", "preemptionPolicy"}, {"description"}}},
      {"Deployment", {"apps/v1", {"spec"}, {"status"}}},
      {"ReplicaSet", {"apps/v1", {"spec"}, {"status"}}},
      {"Job", {"batch/v1", {"spec"}, {"status"}}},
      {"HorizontalPodAutoscaler", {"autoscaling/v2", {"spec"}, {"status"}}},
      {"PodGroup", {"scheduling.x-k8s.io/v1alpha1", {"spec"}, {"status"}}},
      {"ClusterQueue", {"kueue.x-k8s.io/v1beta1", {"spec"}, {"status"}}},
      {"LocalQueue", {"kueue.x-k8s.io/v1beta1", {"spec"}, {"status"}}},
      {"List", {"v1", {"items"}, {}}},
  };
  return table;
}

// Kind/name for messages, read leniently before the document is validated.
std::string label_of(const YAML::Node& root, const std::string& fallback) {
  std::string kind, name;
  for (auto it = root.begin(); it != root.end(); ++it) {
    if (!it->first.IsScalar()) continue;
    if (it->first.Scalar() == "kind" && it->second.IsScalar() && kind.empty()) kind = it->second.Scalar();
    if (it->first.Scalar() == "metadata" && it->second.IsMap())
      for (auto m = it->second.begin(); m != it->second.end() && name.empty(); ++m)
        if (m->first.IsScalar() && m->first.Scalar() == "name" && m->second.IsScalar()) name = m->second.Scalar();
  }
  if (kind.empty()) return fallback;
  return sanitize(kind) + (name.empty() ? "" : "/" + sanitize(name));
}

// One object (a document, or an item of a List); `label` names it until its kind is known.
void read_object(const Value& root, Context& ctx, ManifestSet& into, const std::string& label) {
  ctx.object = label;
  if (!root.node().IsMap()) root.fail("a Kubernetes object (a mapping with apiVersion and kind)");
  ctx.object = label_of(root.node(), label);
  Map top(root);
  for (const char* f : {"apiVersion", "kind"}) {
    const YAML::Node* n = top.raw(f);
    if (!n || is_null(*n)) root.error(std::string("missing required field \"") + f + "\"");
    Value(*n, std::string(".") + f, ctx).nonempty_str();
  }
  std::string kind = *top.peek("kind"), api_version = *top.peek("apiVersion");
  std::string source = ctx.file + ":" + std::to_string(root.node().Mark().line + 1);

  auto known = kinds().find(kind);
  if (known == kinds().end()) {
    into.skipped.push_back(source + ": " + ctx.object + " (kind not simulated)");
    return;
  }
  const KindSchema& schema = known->second;
  Names fields = {"apiVersion", "kind", "metadata"};
  fields.insert(fields.end(), schema.fields.begin(), schema.fields.end());
  top.schema(fields, schema.ignored);
  if (api_version != schema.api_version) top.need("apiVersion").fail(schema.api_version);

  Object o{top, source};
  if (kind == "List") {
    std::string list_label = ctx.object;
    for (const auto& item : top.need("items").list()) {
      ctx.object = list_label;
      if (item.node().IsMap() && Map(item).peek("kind") == std::optional<std::string>("List"))
        item.error("expected an object inside a List, got another List");
      // The item is an object of its own: its paths start from it.
      read_object(Value(item.node(), "", ctx), ctx, into, list_label + " " + item.path());
    }
    return;
  }
  if (kind == "Node") return into.nodes.push_back(read_node(o));
  if (kind == "Pod") return into.pods.push_back(read_pod(o));
  if (kind == "PriorityClass") return into.priority_classes.push_back(read_priority_class(o));
  if (kind == "Deployment") return into.deployments.push_back(read_deployment(o));
  if (kind == "ReplicaSet") return into.replica_sets.push_back(read_replica_set(o));
  if (kind == "Job") return into.jobs.push_back(read_job(o));
  if (kind == "HorizontalPodAutoscaler") return into.hpas.push_back(read_hpa(o));
  if (kind == "PodGroup") return into.pod_groups.push_back(read_pod_group(o));
  if (kind == "ClusterQueue") return into.cluster_queues.push_back(read_cluster_queue(o));
  if (kind == "LocalQueue") return into.local_queues.push_back(read_local_queue(o));
  AIFSIM_CHECK(false, "manifest kind in the table without a reader: " + kind);
}

// yaml-cpp 0.7 never consumes a ',' outside a flow collection at the top of a document:
// it returns the same empty document forever and LoadAll grows without bound. This pass
// over the parse events (no nodes built) stops when a document starts where the last did.
class StuckDocuments : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override {
    stuck = started && mark.pos == last.pos;
    started = true, last = mark;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}

  bool started = false, stuck = false;
  YAML::Mark last;
};

std::vector<YAML::Node> load_all(const std::string& text, const std::string& where) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  StuckDocuments check;
  while (parser.HandleNextDocument(check))
    if (check.stuck) {
      std::size_t at = static_cast<std::size_t>(std::max(0, check.last.pos));
      throw InputError(where_of(where, check.last),
                       "malformed YAML: unexpected " +
                           (at < text.size() ? "'" + sanitize(text.substr(at, 1)) + "'" : std::string("text")) +
                           " outside a flow collection ([...] or {...})");
    }
  return YAML::LoadAll(text);
}

template <class F>
void each_list(ManifestSet& s, F f) {
  f(s.nodes), f(s.pods), f(s.priority_classes), f(s.deployments), f(s.replica_sets), f(s.jobs), f(s.hpas);
  f(s.pod_groups), f(s.cluster_queues), f(s.local_queues), f(s.skipped);
}

}  // namespace

void parse_manifests(const std::string& text, const std::string& where, ManifestSet& into) {
  std::vector<YAML::Node> docs;
  try {
    docs = load_all(text, where);
  } catch (const YAML::DeepRecursion& e) {  // its own message says "bad file"
    throw InputError(where_of(where, e.mark),
                     "malformed YAML: nested deeper than " + std::to_string(e.depth()) + " levels");
  } catch (const YAML::Exception& e) {
    throw InputError(where_of(where, e.mark), "malformed YAML: " + e.msg);
  }
  // Without aliases a text holds fewer values than bytes; the margin covers visiting a
  // value twice. Past it, aliases are multiplying the document.
  std::int64_t budget = 100000 + 4 * static_cast<std::int64_t>(text.size());
  Context ctx{where, "", &budget};
  // A file that fails adds nothing: remember where each list ended.
  std::vector<std::size_t> ends;
  each_list(into, [&](auto& list) { ends.push_back(list.size()); });
  auto roll_back = [&] {
    std::size_t i = 0;
    each_list(into, [&](auto& list) { list.resize(ends[i++]); });
  };
  try {
    for (std::size_t i = 0; i < docs.size(); ++i) {
      Value root(docs[i], "", ctx);
      if (root.null()) continue;  // an empty document ("---" at the end, or comments only)
      read_object(root, ctx, into, "document " + std::to_string(i + 1));
    }
  } catch (const YAML::Exception& e) {
    // Not expected (every access is type-checked first); kept an InputError all the same.
    roll_back();
    throw InputError(where_of(where, e.mark), "unreadable YAML: " + e.msg);
  } catch (...) {
    roll_back();
    throw;
  }
}

void load_manifests(const std::filesystem::path& file, ManifestSet& into) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError(file.string(), "cannot open file (does it exist and is it readable?)");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  parse_manifests(buffer.str(), file.string(), into);
}

ManifestSet load_manifests(const std::filesystem::path& file) {
  ManifestSet set;
  load_manifests(file, set);
  return set;
}

}  // namespace aifsim::k8s
