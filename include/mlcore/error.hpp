// Errors, in two tiers (STYLE.md 12), and a third class for the library's own bugs:
//   mlcore::Error          a caller's mistake (bad shape, bad dtype, bad hyper-parameter).
//                          The message names the offending values. Python sees ValueError.
//   mlcore::DeviceError    the hardware or its driver failed (no GPU, out of device memory,
//                          a kernel launch failed). Python sees RuntimeError.
//   mlcore::InternalError  an internal invariant broke (MLCORE_ASSERT): a bug in mlcore, not in
//                          the caller's input. Its message gives file:line and the condition.
//                          Python sees RuntimeError. It is checked in every build type: the
//                          asserts guard cheap invariants, and a wrong answer costs more.
// Library code never calls exit() or abort() (nor the standard assert(), which aborts): in
// Jupyter that would kill the user's kernel.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace mlcore {

class Error : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

class DeviceError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Not derived from Error: code that catches a caller's mistake (and Python's ValueError) must not
// swallow a bug.
class InternalError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

namespace detail {
// Builds a message from a stream expression: MLCORE_CHECK(n > 0, "n must be positive, got " << n).
struct MessageBuilder {
  std::ostringstream stream;
  template <class T>
  MessageBuilder& operator<<(const T& value) {
    stream << value;
    return *this;
  }
};
}  // namespace detail

}  // namespace mlcore

// Throws mlcore::Error with the streamed message when `cond` is false.
#define MLCORE_CHECK(cond, message)                                \
  do {                                                             \
    if (!(cond)) {                                                 \
      ::mlcore::detail::MessageBuilder mlcore_message_builder_;    \
      mlcore_message_builder_ << message;                          \
      throw ::mlcore::Error(mlcore_message_builder_.stream.str()); \
    }                                                              \
  } while (0)

// Throws mlcore::Error unconditionally (for `default:` branches and similar).
#define MLCORE_FAIL(message)                                     \
  do {                                                           \
    ::mlcore::detail::MessageBuilder mlcore_message_builder_;    \
    mlcore_message_builder_ << message;                          \
    throw ::mlcore::Error(mlcore_message_builder_.stream.str()); \
  } while (0)

// Throws mlcore::InternalError when the internal invariant `cond` is false, with file:line, the
// condition's text and the streamed message. For conditions no input can break; a caller's
// mistake is MLCORE_CHECK.
#define MLCORE_ASSERT(cond, message)                                                        \
  do {                                                                                      \
    if (!(cond)) {                                                                          \
      ::mlcore::detail::MessageBuilder mlcore_message_builder_;                             \
      mlcore_message_builder_ << "mlcore internal error at " << __FILE__ << ":" << __LINE__ \
                              << ": " #cond " failed: " << message                          \
                              << " (a bug in mlcore; please report it)";                    \
      throw ::mlcore::InternalError(mlcore_message_builder_.stream.str());                  \
    }                                                                                       \
  } while (0)
