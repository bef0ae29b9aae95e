#include <cstddef>
#include <stdexcept>
#include <vector>
#include "matrix.hpp"

namespace linalg {

/// Dense row-major matrix of doubles.
class Matrix {
public:
    Matrix(std::size_t rows, std::size_t cols);
    Matrix(const Matrix&) = default;
    ~Matrix() = default;

    double& at(std::size_t r, std::size_t c);
    std::size_t rows() const { return rows_; }
    std::size_t cols() const { return cols_; }
    Matrix operator*(const Matrix& other) const;

    static Matrix identity(std::size_t n);

private:
    std::size_t rows_;
    std::size_t cols_;
    std::vector<double> data_;
};

template <typename T>
T dot(const std::vector<T>& a, const std::vector<T>& b) {
    if (a.size() != b.size()) {
        throw std::invalid_argument("size mismatch");
    }
    T sum{};
    for (std::size_t i = 0; i < a.size(); ++i) {
        sum += a[i] * b[i];
    }
    return sum;
}

struct Shape { std::size_t rows; std::size_t cols; };

Matrix::Matrix(std::size_t rows, std::size_t cols)
    : rows_(rows), cols_(cols), data_(rows * cols, 0.0) {}

double& Matrix::at(std::size_t r, std::size_t c) {
    if (r >= rows_ || c >= cols_) {
        throw std::out_of_range("matrix index");
    }
    return data_[r * cols_ + c];
}

/// Naive O(n^3) product.
Matrix Matrix::operator*(const Matrix& other) const {
    if (cols_ != other.rows_) {
        throw std::invalid_argument("shape mismatch");
    }
    Matrix out(rows_, other.cols_);
    for (std::size_t i = 0; i < rows_; ++i)
        for (std::size_t k = 0; k < cols_; ++k)
            for (std::size_t j = 0; j < other.cols_; ++j)
                out.data_[i * out.cols_ + j] += data_[i * cols_ + k] * other.data_[k * other.cols_ + j];
    return out;
}

Matrix Matrix::identity(std::size_t n) {
    Matrix m(n, n);
    for (std::size_t i = 0; i < n; ++i) m.at(i, i) = 1.0;
    return m;
}

}  // namespace linalg
