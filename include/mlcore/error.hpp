// Errors, in two tiers (STYLE.md 12):
//   mlcore::Error        a caller's mistake (bad shape, bad dtype, bad hyper-parameter).
//                        The message names the offending values. Python sees ValueError.
//   mlcore::DeviceError  the hardware or its driver failed (no GPU, out of device memory,
//                        a kernel launch failed). Python sees RuntimeError.
// Internal bugs are asserts. Library code never calls exit() or abort(): in Jupyter that
// would kill the user's kernel.
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
