#include <cstring>

#include "test_util.hpp"

namespace mlcore::test {
namespace {

TEST(Tensor, OwningTensorIsZeroFilledWithShapeAndDtype) {
  Tensor t(3, 5, DType::i32);
  EXPECT_EQ(t.rows(), 3);
  EXPECT_EQ(t.cols(), 5);
  EXPECT_EQ(t.numel(), 15);
  EXPECT_EQ(t.size_bytes(), 60u);
  EXPECT_EQ(t.dtype(), DType::i32);
  EXPECT_EQ(t.device(), Device::host);
  EXPECT_TRUE(t.owns_storage());
  for (int i = 0; i < 15; ++i) EXPECT_EQ(t.data<std::int32_t>()[i], 0);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(t.raw()) % 64, 0u)
      << "host tensors are 64-byte aligned";
}

TEST(Tensor, BorrowedTensorSeesTheCallersMemoryWithoutCopy) {
  float buffer[6] = {1, 2, 3, 4, 5, 6};
  Tensor t = Tensor::borrow(buffer, 2, 3, DType::f32);
  EXPECT_FALSE(t.owns_storage());
  EXPECT_EQ(t.data<float>(), buffer);
  EXPECT_EQ(t.at<float>(1, 2), 6.0f);
  t.at<float>(0, 1) = 42.0f;
  EXPECT_EQ(buffer[1], 42.0f);
}

TEST(Tensor, CopiesShareStorageAndCloneDoesNot) {
  Tensor a(2, 2);
  Tensor shared = a;
  Tensor deep = a.clone();
  a.at<float>(0, 0) = 7.0f;
  EXPECT_EQ(shared.at<float>(0, 0), 7.0f);
  EXPECT_EQ(deep.at<float>(0, 0), 0.0f);
}

TEST(Tensor, RowSliceIsAViewOfWholeRows) {
  Tensor a(4, 3);
  for (int i = 0; i < 12; ++i) a.data<float>()[i] = float(i);
  Tensor s = a.row_slice(1, 3);
  EXPECT_EQ(s.rows(), 2);
  EXPECT_EQ(s.cols(), 3);
  EXPECT_EQ(s.at<float>(0, 0), 3.0f);
  EXPECT_EQ(s.at<float>(1, 2), 8.0f);
  s.at<float>(0, 0) = -1.0f;
  EXPECT_EQ(a.at<float>(1, 0), -1.0f);
  EXPECT_THROW(a.row_slice(2, 5), Error);
  EXPECT_THROW(a.row_slice(3, 2), Error);
}

TEST(Tensor, ReshapeKeepsElementsAndChecksCount) {
  Tensor a(6, 1);
  Tensor b = a.reshaped(1, 6);
  EXPECT_EQ(b.rows(), 1);
  EXPECT_EQ(b.raw(), a.raw());
  EXPECT_THROW(a.reshaped(4, 2), Error);
}

TEST(Tensor, WrongDtypeAccessAndBadShapesThrowWithValues) {
  Tensor a(2, 3, DType::i8);
  try {
    a.data<float>();
    FAIL() << "reading an i8 tensor as float must throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("i8[2x3]"), std::string::npos) << e.what();
  }
  try {
    Tensor bad(-1, 3);
    FAIL() << "negative dimensions must throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("-1"), std::string::npos) << e.what();
  }
  EXPECT_THROW(Tensor::borrow(nullptr, 2, 2, DType::f32), Error);
  EXPECT_NO_THROW(check_vector(Tensor(1, 4), 4, "v"));
  EXPECT_NO_THROW(check_vector(Tensor(4, 1), 4, "v"));
  EXPECT_THROW(check_vector(Tensor(2, 2), 4, "v"), Error);
}

TEST(Tensor, DtypeSizesAndNames) {
  EXPECT_EQ(dtype_size(DType::f32), 4u);
  EXPECT_EQ(dtype_size(DType::i8), 1u);
  EXPECT_EQ(dtype_size(DType::i32), 4u);
  EXPECT_STREQ(dtype_name(DType::i8), "i8");
  EXPECT_EQ(Tensor(2, 3, DType::i8).describe(), "i8[2x3]@host");
}

}  // namespace
}  // namespace mlcore::test
