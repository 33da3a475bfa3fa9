#include "workload/line_reader.hpp"

#include <cstring>

#include <zlib.h>

#include "core/error.hpp"

namespace aifsim::workload {

struct LineReader::Gz {
  gzFile handle = nullptr;
  ~Gz() {
    if (handle) gzclose(handle);
  }
};

LineReader::LineReader(const std::filesystem::path& file, std::string what)
    : gz_(std::make_unique<Gz>()), file_(file.string()), what_(std::move(what)) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) throw InputError(file_, "cannot open " + what_ + ": no such file");
  // gzopen reads plain files transparently, so plain and .gz files take the same path
  // whatever their names end with.
  gz_->handle = gzopen(file_.c_str(), "rb");
  if (gz_->handle == nullptr) throw InputError(file_, "cannot open " + what_);
  gzbuffer(gz_->handle, 1 << 17);
  buffer_.resize(1 << 16);
}

LineReader::~LineReader() = default;

void LineReader::fail_decompression() const {
  int err = 0;
  std::string msg = gzerror(gz_->handle, &err);
  // zlib prefixes its message with the path, which the location already names.
  if (msg.rfind(file_ + ": ", 0) == 0) msg.erase(0, file_.size() + 2);
  throw InputError(file_ + ":" + std::to_string(line_number_ + 1), "cannot decompress " + what_ + ": " + msg);
}

bool LineReader::next(std::string_view& line) {
  line_.clear();
  for (;;) {
    if (buffer_pos_ == buffer_len_) {
      int n = gzread(gz_->handle, buffer_.data(), static_cast<unsigned>(buffer_.size()));
      if (n < 0) fail_decompression();
      buffer_pos_ = 0;
      buffer_len_ = static_cast<std::size_t>(n);
      if (n == 0) {
        // A truncated gzip stream reads as a clean end in some zlib versions; ask.
        int err = Z_OK;
        gzerror(gz_->handle, &err);
        if (err != Z_OK && err != Z_STREAM_END) fail_decompression();
        if (line_.empty()) return false;
        break;  // last line without a newline
      }
    }
    const char* begin = buffer_.data() + buffer_pos_;
    const char* end = buffer_.data() + buffer_len_;
    const char* newline = static_cast<const char*>(std::memchr(begin, '\n', static_cast<std::size_t>(end - begin)));
    const char* stop = newline ? newline : end;
    line_.append(begin, stop);
    buffer_pos_ = static_cast<std::size_t>(stop - buffer_.data()) + (newline ? 1 : 0);
    if (line_.size() > max_line_bytes())
      throw InputError(file_ + ":" + std::to_string(line_number_ + 1),
                       "line longer than 1 MiB: not a " + what_ + "?");
    if (newline) break;
  }
  ++line_number_;
  if (line_.find('\0') != std::string::npos)
    throw InputError(where(), "binary data (NUL byte): not a " + what_ + " text file");
  if (!line_.empty() && line_.back() == '\r') line_.pop_back();
  line = line_;
  return true;
}

}  // namespace aifsim::workload
