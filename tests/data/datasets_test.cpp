// The data sets as docs/datasets.md defines them: counts, the bit-exact preprocessing (checked
// against the inputs PyTorch was given), the text split, and errors on bad files.
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <array>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "aimc/core/error.h"
#include "aimc/core/npy.h"
#include "aimc/data/dataset.h"
#include "aimc/data/fashion_mnist.h"
#include "aimc/data/fortunes.h"
#include "aimc/data/idx.h"

namespace fs = std::filesystem;

namespace aimc::data {
namespace {

const std::string kModels = std::string(AIMC_SOURCE_DIR) + "/models/";

uint32_t bits(float x) {
  uint32_t b;
  std::memcpy(&b, &x, 4);
  return b;
}

fs::path temp_dir(const std::string& name) {
  fs::path dir =
      fs::temp_directory_path() / ("aimc_data_test_" + name + "_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

void write_gzip(const fs::path& path, const std::string& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())),
            static_cast<int>(bytes.size()));
  gzclose(f);
}

std::string idx_header(uint8_t rank, std::vector<uint32_t> dims) {
  std::string h = {0, 0, 0x08, static_cast<char>(rank)};
  for (uint32_t d : dims) {
    h += static_cast<char>(d >> 24);
    h += static_cast<char>(d >> 16);
    h += static_cast<char>(d >> 8);
    h += static_cast<char>(d);
  }
  return h;
}

std::string bad_input_message(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kBadInput) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error thrown";
  return "";
}

TEST(FashionMnist, PixelTableMatchesTheDocumentedValues) {
  const auto& t = fashion_mnist_pixel_table();
  EXPECT_EQ(bits(t[0]), 0xBF4F6929u);
  EXPECT_EQ(bits(t[255]), 0x4001734Fu);
  for (int p = 1; p < 256; ++p) EXPECT_GT(t[p], t[p - 1]) << p;
}

TEST(FashionMnist, TestSplitCountsAndLabels) {
  LabelledImages set = load_fashion_mnist(kFashionMnistDir, "test");
  EXPECT_EQ(set.images.shape(), (Shape{10000, 28, 28}));
  ASSERT_EQ(set.labels.size(), 10000u);
  std::array<int, 10> per_class{};
  for (uint8_t y : set.labels) per_class[y]++;
  for (int c = 0; c < 10; ++c) EXPECT_EQ(per_class[c], 1000) << "class " << c;
}

TEST(FashionMnist, TrainSplitHasSixtyThousandImages) {
  LabelledImages set = load_fashion_mnist(kFashionMnistDir, "train");
  EXPECT_EQ(set.images.dim(0), 60000);
  EXPECT_EQ(set.labels.size(), 60000u);
}

// The first 64 test images after preprocessing must equal, bit for bit, what PyTorch was given.
TEST(FashionMnist, BatchEqualsTheInputsPyTorchSaw) {
  LabelledImages set = load_fashion_mnist(kFashionMnistDir, "test");
  Tensor ours = fashion_mnist_batch(set, 0, 64);
  for (const char* model : {"vit-fmnist", "cnn-fmnist", "mlp-fmnist"}) {
    Tensor ref = read_npy(kModels + model + ".ref-input.npy");
    ASSERT_EQ(ref.shape(), ours.shape()) << model;
    ASSERT_EQ(ref.dtype(), DType::kF32);
    EXPECT_EQ(std::memcmp(ref.raw(), ours.raw(), ours.nbytes()), 0) << model;
  }
  Tensor tail = fashion_mnist_batch(set, 9990, 10000);
  EXPECT_EQ(tail.shape(), (Shape{10, 1, 28, 28}));
}

TEST(FashionMnist, BadFilesNameTheFile) {
  fs::path dir = temp_dir("fmnist");
  std::string msg = bad_input_message([&] { load_fashion_mnist(dir.string(), "test"); });
  EXPECT_NE(msg.find("t10k-images-idx3-ubyte.gz"), std::string::npos) << msg;
  EXPECT_NE(msg.find("dataset-fashion-mnist"), std::string::npos) << msg;

  // Three images but two labels.
  write_gzip(dir / "t10k-images-idx3-ubyte.gz",
             idx_header(3, {3, 28, 28}) + std::string(3 * 784, '\1'));
  write_gzip(dir / "t10k-labels-idx1-ubyte.gz", idx_header(1, {2}) + std::string(2, '\1'));
  msg = bad_input_message([&] { load_fashion_mnist(dir.string(), "test"); });
  EXPECT_NE(msg.find("2 labels"), std::string::npos) << msg;

  // A label that is not a class.
  write_gzip(dir / "t10k-labels-idx1-ubyte.gz", idx_header(1, {3}) + std::string("\1\2\x0c", 3));
  msg = bad_input_message([&] { load_fashion_mnist(dir.string(), "test"); });
  EXPECT_NE(msg.find("label 12"), std::string::npos) << msg;

  // Images of the wrong size.
  write_gzip(dir / "t10k-images-idx3-ubyte.gz",
             idx_header(3, {3, 27, 28}) + std::string(3 * 27 * 28, '\1'));
  msg = bad_input_message([&] { load_fashion_mnist(dir.string(), "test"); });
  EXPECT_NE(msg.find("28x28"), std::string::npos) << msg;

  // Not gzip at all, and a truncated gzip stream.
  write_bytes(dir / "t10k-images-idx3-ubyte.gz", "this is not gzip");
  msg = bad_input_message([&] { load_fashion_mnist(dir.string(), "test"); });
  EXPECT_NE(msg.find("t10k-images-idx3-ubyte.gz"), std::string::npos) << msg;
  fs::remove_all(dir);
}

TEST(Idx, RejectsBadHeadersAndLengths) {
  EXPECT_NE(bad_input_message([] { parse_idx_u8("", "x.idx"); }).find("x.idx"), std::string::npos);
  EXPECT_NE(bad_input_message([] {
              parse_idx_u8(std::string("\0\0\x0d\x01", 4) + std::string(4, '\0'), "x.idx");
            }).find("0x0d"),
            std::string::npos);
  std::string truncated = idx_header(2, {2, 3}) + std::string(5, '\0');
  EXPECT_NE(bad_input_message([&] { parse_idx_u8(truncated, "x.idx"); }).find("needs 6"),
            std::string::npos);
  std::string header_only = idx_header(3, {2, 3}).substr(0, 10);
  bad_input_message([&] { parse_idx_u8(header_only, "x.idx"); });
  Tensor ok = parse_idx_u8(idx_header(2, {2, 3}) + std::string("\1\2\3\4\5\6", 6), "x.idx");
  EXPECT_EQ(ok.shape(), (Shape{2, 3}));
  EXPECT_EQ(ok.data<uint8_t>()[5], 6);
}

TEST(Idx, TruncatedGzipIsReported) {
  fs::path dir = temp_dir("gz");
  write_gzip(dir / "full.gz", std::string(100000, 'a') + std::string(100000, 'b'));
  std::string bytes;
  {
    std::ifstream in(dir / "full.gz", std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  write_bytes(dir / "cut.gz", bytes.substr(0, bytes.size() / 2));
  std::string path = (dir / "cut.gz").string();
  std::string msg = bad_input_message([&] { read_maybe_gzip(path); });
  EXPECT_NE(msg.find("cut.gz"), std::string::npos) << msg;
  EXPECT_EQ(read_maybe_gzip((dir / "full.gz").string()).size(), 200000u);
  fs::remove_all(dir);
}

// A gzip file is inflated no further than its IDX header declares, and a header that declares
// more than the file can hold is refused before anything is allocated.
TEST(Idx, GzipBombsAndImpossibleHeadersAreRefusedEarly) {
  fs::path dir = temp_dir("bomb");
  // 64 MiB of zeros behind a header of 2 x 3 bytes: compresses to about 64 KiB.
  write_gzip(dir / "bomb-idx2-ubyte.gz",
             idx_header(2, {2, 3}) + std::string(6, '\1') + std::string(64 << 20, '\0'));
  std::string msg = bad_input_message([&] { read_idx_u8((dir / "bomb-idx2-ubyte.gz").string()); });
  EXPECT_NE(msg.find("bomb-idx2-ubyte.gz"), std::string::npos) << msg;
  EXPECT_NE(msg.find("more than the 6 bytes"), std::string::npos) << msg;
  // A header declaring 2^32 bytes in a file of a few dozen.
  write_gzip(dir / "huge-idx2-ubyte.gz", idx_header(2, {65536, 65536}) + std::string(10, '\0'));
  msg = bad_input_message([&] { read_idx_u8((dir / "huge-idx2-ubyte.gz").string()); });
  EXPECT_NE(msg.find("more than a gzip file of"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[65536, 65536]"), std::string::npos) << msg;
  // Too little data, and an exact file.
  write_gzip(dir / "short-idx2-ubyte.gz", idx_header(2, {2, 3}) + std::string(4, '\1'));
  msg = bad_input_message([&] { read_idx_u8((dir / "short-idx2-ubyte.gz").string()); });
  EXPECT_NE(msg.find("holds 4 bytes"), std::string::npos) << msg;
  write_gzip(dir / "ok-idx2-ubyte.gz", idx_header(2, {2, 3}) + std::string("\1\2\3\4\5\6", 6));
  Tensor ok = read_idx_u8((dir / "ok-idx2-ubyte.gz").string());
  EXPECT_EQ(ok.shape(), (Shape{2, 3}));
  EXPECT_EQ(ok.data<uint8_t>()[5], 6);
  fs::remove_all(dir);
}

TEST(Fortunes, VocabularyIsTheDocumentedOne) {
  EXPECT_EQ(fortunes_token(' '), 0);
  EXPECT_EQ(fortunes_token('~'), 94);
  EXPECT_EQ(fortunes_token('A'), 'A' - 32);
  EXPECT_EQ(fortunes_token('\n'), 95);
  EXPECT_EQ(fortunes_token('\t'), 96);
  for (int b : {0, 8, 11, 13, 31, 127, 128, 200, 255}) EXPECT_EQ(fortunes_token(b), 97) << b;
}

TEST(Fortunes, TextSplitAndWindowsAreTheDocumentedOnes) {
  FortunesText text = load_fortunes(kFortunesDir);
  ASSERT_TRUE(text.matches_reference) << "a different fortunes version is installed";
  std::vector<int64_t> tokens = fortunes_tokens(text.bytes);
  ASSERT_EQ(tokens.size(), 2576674u);
  EXPECT_EQ(std::count(tokens.begin(), tokens.end(), 96), 25534);
  EXPECT_EQ(std::count(tokens.begin(), tokens.end(), 95), 69309);
  EXPECT_EQ(std::count(tokens.begin(), tokens.end(), 97), 459);
  std::vector<int64_t> validation = fortunes_validation(tokens);
  EXPECT_EQ(validation.size(), 257668u);
  EXPECT_EQ(validation.front(), tokens[2319006]);
  EXPECT_EQ(fortunes_window_count(validation, 128), 2013);

  Tensor ref = read_npy(kModels + "gpt-fortunes.ref-input.npy");
  Tensor ours = fortunes_batch(validation, 128, 0, 8);
  ASSERT_EQ(ref.dtype(), DType::kI64);
  ASSERT_EQ(ref.shape(), ours.shape());
  EXPECT_EQ(std::memcmp(ref.raw(), ours.raw(), ours.nbytes()), 0);
}

TEST(Fortunes, MissingFileIsNamed) {
  fs::path dir = temp_dir("fortunes");
  write_bytes(dir / "art", "x");
  std::string msg = bad_input_message([&] { load_fortunes(dir.string()); });
  EXPECT_NE(msg.find("ascii-art"), std::string::npos) << msg;
  fs::remove_all(dir);
}

// The metrics against their formulas on hand-made logits.
TEST(Dataset, ScoresFollowTheirFormulas) {
  fs::path dir = temp_dir("score");
  // A text of 10 tokens ("abcdefghij" repeated) with context 2.
  std::string text(1000, 'a');
  for (size_t i = 0; i < text.size(); ++i) text[i] = static_cast<char>('a' + i % 10);
  for (const std::string& name : fortunes_files())
    write_bytes(dir / name, name == "art" ? text : "");
  DatasetOptions options{dir.string(), 2};
  std::unique_ptr<Dataset> ds = open_dataset("fortunes", options);
  EXPECT_FALSE(ds->warning().empty());  // not the documented text
  // Validation = tokens [900, 1000): 100 tokens -> (100 - 1) / 2 = 49 windows.
  EXPECT_EQ(ds->size(), 49);
  Tensor in = ds->inputs(0, 1);
  EXPECT_EQ(in.data<int64_t>()[0], 'a' - 32);
  EXPECT_EQ(in.data<int64_t>()[1], 'b' - 32);
  // Uniform logits: cross-entropy ln 98 per prediction, bpc log2 98.
  Tensor uniform(DType::kF32, {3, 2, kFortunesVocab});
  Score s = ds->score(0, 3, uniform);
  EXPECT_EQ(s.predictions, 6);
  EXPECT_NEAR(s.bits_per_char(), std::log2(98.0), 1e-12);
  EXPECT_NEAR(s.perplexity(), 98.0, 1e-9);
  // All mass on the right target: cross-entropy log(1 + 97 e^-20).
  Tensor sharp(DType::kF32, {1, 2, kFortunesVocab});
  sharp.data<float>()['b' - 32] = 20.0f;
  sharp.data<float>()[kFortunesVocab + 'c' - 32] = 20.0f;
  s = ds->score(0, 1, sharp);
  EXPECT_NEAR(s.mean_cross_entropy(), std::log1p(97.0 * std::exp(-20.0)), 1e-12);
  std::string msg = bad_input_message([&] { ds->score(0, 1, Tensor(DType::kF32, {1, 2, 10})); });
  EXPECT_NE(msg.find("[batch, 2, 98]"), std::string::npos) << msg;

  msg = bad_input_message([] { open_dataset("cifar", {}); });
  EXPECT_NE(msg.find("fashion-mnist"), std::string::npos) << msg;
  fs::remove_all(dir);
}

TEST(Dataset, EvaluateVisitsEverySampleOnceInOrder) {
  std::unique_ptr<Dataset> ds = open_dataset("fashion-mnist", {});
  std::vector<int64_t> seen;
  // A "model" that predicts class = first pixel byte's table index mod 10 is awkward; instead
  // predict from a counter of samples seen, and check the batches tile [0, limit).
  int64_t next = 0;
  LabelledImages set = load_fashion_mnist(kFashionMnistDir, "test");
  Score s = evaluate(*ds, 250, 64, [&](const Tensor& x, int64_t first) {
    EXPECT_EQ(first, next);
    seen.push_back(x.dim(0));
    Tensor logits(DType::kF32, {x.dim(0), 10});
    for (int64_t i = 0; i < x.dim(0); ++i, ++next)
      logits.data<float>()[i * 10 + set.labels[next]] = 1.0f;  // always right
    return logits;
  });
  EXPECT_EQ(seen, (std::vector<int64_t>{64, 64, 64, 58}));
  EXPECT_EQ(s.samples, 250);
  EXPECT_EQ(s.correct, 250);
  // All-zero logits: argmax is class 0 (first on ties) -> exactly the class-0 samples.
  s = evaluate(*ds, -1, 1000, [](const Tensor& x, int64_t) {
    return Tensor(DType::kF32, {x.dim(0), 10});
  });
  EXPECT_EQ(s.samples, 10000);
  EXPECT_EQ(s.correct, 1000);
}

}  // namespace
}  // namespace aimc::data
