#include <gtest/gtest.h>

#include "core/error.hpp"
#include "core/json_reader.hpp"

using namespace aifsim;

namespace {
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(JsonReader, MalformedJsonNamesLineAndColumn) {
  std::string text = "{\n  \"a\": 1,\n  \"b\": ,\n}";
  auto msg = error_of([&] { parse_json_text(text, "f.json"); });
  EXPECT_NE(msg.find("f.json:3:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("malformed JSON"), std::string::npos) << msg;
}

TEST(JsonReader, CommentsAreAllowed) {
  auto j = parse_json_text("{ // note\n \"a\": /* x */ 1 }", "f.json");
  EXPECT_EQ(j["a"], 1);
}

TEST(JsonReader, UnknownKeyNamesPathAndNearestKey) {
  auto j = nlohmann::json::parse(R"({"batch": {"schedular": "easy"}})");
  auto msg = error_of([&] {
    JsonReader r(j, "s.json");
    JsonReader b = r.object("batch");
    b.string_or("scheduler", "easy");
    b.finish();
  });
  EXPECT_EQ(msg, "s.json: at $.batch.schedular: unknown key \"schedular\" (did you mean \"scheduler\"?)");
}

TEST(JsonReader, TypeErrorsNameTheExpectedType) {
  auto j = nlohmann::json::parse(R"({"n": "ten", "c": "esy", "i": 1.5})");
  JsonReader r(j, "s.json");
  EXPECT_EQ(error_of([&] { r.number("n"); }), "s.json: at $.n: expected a number, got string \"ten\"");
  EXPECT_EQ(error_of([&] { r.choice("c", {"fcfs", "easy", "conservative"}); }),
            "s.json: at $.c: expected one of fcfs, easy or conservative, got \"esy\" (did you mean \"easy\"?)");
  EXPECT_EQ(error_of([&] { r.integer("i"); }), "s.json: at $.i: expected an integer, got number 1.5");
  EXPECT_EQ(error_of([&] { r.string("missing"); }), "s.json: at $: missing required key \"missing\"");
}

TEST(JsonReader, EmptyOrMissingFile) {
  EXPECT_NE(error_of([] { load_json_file("/nonexistent/x.json"); }).find("cannot open file"), std::string::npos);
}
