// Streams the lines of a plain or gzip-compressed text file with constant memory, so a
// trace reader can walk a multi-gigabyte file and still name `file:line` in its errors.
#pragma once
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace aifsim::workload {

class LineReader {
 public:
  // `what` names the kind of file in errors ("request trace"). Throws InputError when the
  // file is missing or cannot be opened.
  LineReader(const std::filesystem::path& file, std::string what);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // The next line without its '\n' or a trailing '\r'; false at the end of the file.
  // The view stays valid until the next call. Throws InputError (naming file:line) on a
  // decompression error, a NUL byte or a line longer than max_line_bytes().
  bool next(std::string_view& line);

  // 1-based number of the line last returned (0 before the first).
  std::int64_t line_number() const { return line_number_; }
  const std::string& file() const { return file_; }
  // "file:line" of the line last returned, the prefix every reader's errors start with.
  std::string where() const { return file_ + ":" + std::to_string(line_number_); }

  static constexpr std::size_t max_line_bytes() { return std::size_t{1} << 20; }

 private:
  [[noreturn]] void fail_decompression() const;
  struct Gz;
  std::unique_ptr<Gz> gz_;
  std::string file_;
  std::string what_;
  std::string buffer_;
  std::size_t buffer_pos_ = 0;
  std::size_t buffer_len_ = 0;
  std::string line_;
  std::int64_t line_number_ = 0;
};

}  // namespace aifsim::workload
