#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <zlib.h>

#include "core/error.hpp"
#include "workload/swf.hpp"
#include "workload/swf_source.hpp"

using namespace aifsim;
using namespace aifsim::workload;

namespace {
std::filesystem::path write_temp(const std::string& name, const std::string& text) {
  auto dir = std::filesystem::temp_directory_path() / "aifsim-test-swf";
  std::filesystem::create_directories(dir);
  auto path = dir / name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

const char* GOOD_LINE = "1 0 5 100 8 -1 -1 8 120 -1 1 1 1 -1 1 -1 -1 -1\n";

std::string error_of(const std::string& name, const std::string& text) {
  try {
    SwfReader r(write_temp(name, text));
    while (r.next()) {
    }
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(Swf, ReadsAllFieldsAndHeader) {
  SwfReader r(std::string(AIFSIM_TEST_DATA_DIR) + "/tiny.swf");
  EXPECT_EQ(r.header().max_nodes, 4);
  EXPECT_EQ(r.header().max_procs, 8);
  EXPECT_EQ(r.header().unix_start_time, 1000000000);
  EXPECT_EQ(r.header().fields.at("Computer"), "hand-written test machine");
  auto j = r.next();
  ASSERT_TRUE(j);
  EXPECT_EQ(j->job_number, 1);
  EXPECT_EQ(j->submit_s, 0);
  EXPECT_FALSE(j->wait_s);  // -1: unknown
  EXPECT_EQ(j->runtime_s, 100);
  EXPECT_EQ(j->allocated_procs, 8);
  EXPECT_EQ(j->requested_procs, 8);
  EXPECT_EQ(j->requested_time_s, 100);
  EXPECT_EQ(j->status, 1);
  EXPECT_EQ(j->user_id, 1);
  EXPECT_EQ(j->queue, 1);
  EXPECT_FALSE(j->partition);
  EXPECT_EQ(j->line, 9);
  int n = 1;
  while (r.next()) ++n;
  EXPECT_EQ(n, 5);
}

TEST(Swf, GzipAndPlainGiveTheSameRecords) {
  auto plain = write_temp("p.swf", std::string("; MaxProcs: 8\n") + GOOD_LINE + GOOD_LINE);
  auto gz_path = std::filesystem::temp_directory_path() / "aifsim-test-swf" / "p.swf.gz";
  gzFile gz = gzopen(gz_path.c_str(), "wb");
  std::string text = std::string("; MaxProcs: 8\n") + GOOD_LINE + GOOD_LINE;
  gzwrite(gz, text.data(), static_cast<unsigned>(text.size()));
  gzclose(gz);
  SwfReader a(plain), b(gz_path);
  EXPECT_EQ(a.header().max_procs, b.header().max_procs);
  int n = 0;
  while (auto ra = a.next()) {
    auto rb = b.next();
    ASSERT_TRUE(rb);
    EXPECT_EQ(ra->runtime_s, rb->runtime_s);
    ++n;
  }
  EXPECT_EQ(n, 2);
  EXPECT_FALSE(b.next());
}

TEST(Swf, SourceUsesRequestedElseAllocatedProcessors) {
  SwfJobSource s(std::string(AIFSIM_TEST_DATA_DIR) + "/tiny.swf");
  std::vector<std::int64_t> procs;
  while (auto j = s.next()) procs.push_back(*j->procs);
  EXPECT_EQ(procs, (std::vector<std::int64_t>{8, 4, 4, 16, 2}));
}

TEST(Swf, MalformedLinesNameFileLineAndField) {
  auto msg = error_of("a.swf", std::string(GOOD_LINE) + "2 10 5 abc 8 -1 -1 8 120 -1 1 1 1 -1 1 -1 -1 -1\n");
  EXPECT_NE(msg.find("a.swf:2: field 4 (run time): expected a number or -1 for unknown, got \"abc\""), std::string::npos) << msg;
  msg = error_of("b.swf", std::string(GOOD_LINE) + "2 10 5 7 8\n");
  EXPECT_NE(msg.find("b.swf:2: expected 18 whitespace-separated SWF fields, found 5"), std::string::npos) << msg;
  msg = error_of("c.swf", "1 -5 5 100 8 -1 -1 8 120 -1 1 1 1 -1 1 -1 -1 -1\n");
  EXPECT_NE(msg.find("c.swf:1: field 2 (submit time): expected a non-negative value or -1 for unknown, got -5"),
            std::string::npos) << msg;
  msg = error_of("d.swf", "1 0 5 100 8.5 -1 -1 8 120 -1 1 1 1 -1 1 -1 -1 -1\n");
  EXPECT_NE(msg.find("field 5 (allocated processors): expected an integer"), std::string::npos) << msg;
  msg = error_of("e.swf", "; MaxNodes: many\n" + std::string(GOOD_LINE));
  EXPECT_NE(msg.find("e.swf:1: header field MaxNodes: expected a non-negative integer"), std::string::npos) << msg;
}

TEST(Swf, UnsortedSubmitTimesAreAnError) {
  auto msg = error_of("u.swf", "1 100 5 10 8 -1 -1 8 120 -1 1 1 1 -1 1 -1 -1 -1\n"
                               "2 50 5 10 8 -1 -1 8 120 -1 1 1 1 -1 1 -1 -1 -1\n");
  EXPECT_NE(msg.find("u.swf:2: field 2 (submit time): 50 is earlier than the previous job's 100"), std::string::npos) << msg;
}

TEST(Swf, EmptyMissingAndBinaryFiles) {
  EXPECT_NE(error_of("empty.swf", "").find("contains no job records"), std::string::npos);
  EXPECT_NE(error_of("comments.swf", "; MaxProcs: 4\n; nothing else\n").find("contains no job records"), std::string::npos);
  EXPECT_NE(error_of("bin.swf", std::string("1 0\0 5", 6)).find("NUL byte"), std::string::npos);
  try {
    SwfReader r("/nonexistent/trace.swf");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "/nonexistent/trace.swf: cannot open SWF trace: no such file");
  }
}

TEST(Swf, ZeroProcessorsIsAnInputError) {
  SwfJobSource s(write_temp("z.swf", "1 0 5 100 0 -1 -1 0 120 -1 1 1 1 -1 1 -1 -1 -1\n"));
  try {
    s.next();
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("z.swf:1: field 8 (requested processors) is 0"), std::string::npos) << e.what();
  }
}

TEST(Swf, MaxJobsStopsTheStream) {
  SwfJobSource s(std::string(AIFSIM_TEST_DATA_DIR) + "/tiny.swf", 2);
  EXPECT_TRUE(s.next());
  EXPECT_TRUE(s.next());
  EXPECT_FALSE(s.next());
}
