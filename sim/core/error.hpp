// The two failure channels that reach the user: bad input (exit 2) and a broken
// simulation invariant (exit 1). Expected outcomes such as a rejected job are data,
// not errors.
#pragma once
#include <stdexcept>
#include <string>

namespace aifsim {

// Bad input: names where (a file, file:line, or file + JSON path) and what was expected.
class InputError : public std::runtime_error {
 public:
  InputError(const std::string& where, const std::string& what)
      : std::runtime_error(where.empty() ? what : where + ": " + what) {}
};

// A broken invariant inside the simulation: always a bug, never the user's input.
class SimulationError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Always-on invariant check: unlike assert, it is never compiled out.
#define AIFSIM_CHECK(cond, msg)                                                        \
  do {                                                                                 \
    if (!(cond))                                                                       \
      throw ::aifsim::SimulationError(std::string("invariant broken: ") + (msg) +     \
                                      " [" #cond "] at " __FILE__ ":" +               \
                                      std::to_string(__LINE__));                       \
  } while (0)

}  // namespace aifsim
