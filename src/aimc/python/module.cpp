// The Python module `aimc` (docs/python.md): the library API (api/) with numpy arrays in and
// out. Conversion only: every result dict is the JSON the CLI prints (api/json.h), turned into
// Python objects by Python's own json module, so that the two agree by construction (a NaN
// the CLI prints as null is None here too). Long calls release the GIL.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "aimc/analog/crossbar.h"
#include "aimc/analog/executor.h"
#include "aimc/analog/readout.h"
#include "aimc/api/estimate.h"
#include "aimc/api/evaluate.h"
#include "aimc/api/json.h"
#include "aimc/api/model.h"
#include "aimc/api/simulate.h"
#include "aimc/api/sweep.h"
#include "aimc/api/trees.h"
#include "aimc/arch/architecture.h"
#include "aimc/core/error.h"
#include "aimc/core/parallel.h"
#include "aimc/cost/gpu_baseline.h"
#include "aimc/frontend/xgboost_import.h"
#include "aimc/report/html_report.h"
#include "aimc/runtime/executor.h"
#include "aimc/runtime/threads.h"

namespace py = pybind11;

namespace aimc::python {

namespace {

py::object to_python(const nlohmann::json& json) {
  return py::module_::import("json").attr("loads")(json.dump());
}

// ---- numpy <-> Tensor ----------------------------------------------------------------------

std::optional<DType> dtype_of_numpy(const py::dtype& dtype) {
  const char kind = dtype.kind();
  const size_t size = static_cast<size_t>(dtype.itemsize());
  if (kind == 'f') {
    if (size == 4) return DType::kF32;
    if (size == 8) return DType::kF64;
    if (size == 2) return DType::kF16;
  }
  if (kind == 'i') {
    if (size == 8) return DType::kI64;
    if (size == 4) return DType::kI32;
    if (size == 2) return DType::kI16;
    if (size == 1) return DType::kI8;
  }
  if (kind == 'u') {
    if (size == 8) return DType::kU64;
    if (size == 4) return DType::kU32;
    if (size == 2) return DType::kU16;
    if (size == 1) return DType::kU8;
  }
  if (kind == 'b') return DType::kBool;
  return std::nullopt;
}

py::dtype numpy_dtype(DType dtype) {
  switch (dtype) {
    case DType::kF32:
      return py::dtype::of<float>();
    case DType::kF64:
      return py::dtype::of<double>();
    case DType::kF16:
      return py::dtype("float16");
    case DType::kI64:
      return py::dtype::of<int64_t>();
    case DType::kI32:
      return py::dtype::of<int32_t>();
    case DType::kI16:
      return py::dtype::of<int16_t>();
    case DType::kI8:
      return py::dtype::of<int8_t>();
    case DType::kU64:
      return py::dtype::of<uint64_t>();
    case DType::kU32:
      return py::dtype::of<uint32_t>();
    case DType::kU16:
      return py::dtype::of<uint16_t>();
    case DType::kU8:
      return py::dtype::of<uint8_t>();
    case DType::kBool:
      return py::dtype::of<bool>();
  }
  throw_runtime("unknown dtype");
}

// The array as a Tensor. A C-contiguous array of a dtype aimc knows is wrapped without a copy
// (the storage's deleter holds a reference to it); any other is copied into C order first.
// `want` converts to that dtype (float32 for the crossbar engine).
Tensor to_tensor(py::handle object, const std::string& what, std::optional<DType> want = {}) {
  py::array array = py::array::ensure(object);
  if (!array) throw_bad_input("{}: expected a numpy array", what);
  if (want) array = array.attr("astype")(numpy_dtype(*want), "C", "same_kind", true, false);
  const std::optional<DType> dtype = dtype_of_numpy(array.dtype());
  if (!dtype)
    throw_bad_input("{}: numpy dtype {} is not supported", what,
                    py::str(array.dtype()).cast<std::string>());
  if (!(array.flags() & py::array::c_style))
    array = py::array::ensure(array, py::array::c_style | py::array::forcecast);
  if (array.nbytes() == 0) {  // aimc's tensors always have storage: an empty one of its own
    return Tensor(*dtype, Shape(array.shape(), array.shape() + array.ndim()));
  }
  auto* keep = new py::array(array);  // dropped with the GIL held, by whichever thread
  std::shared_ptr<std::byte[]> storage(static_cast<std::byte*>(const_cast<void*>(array.data())),
                                       [keep](std::byte*) {
                                         py::gil_scoped_acquire gil;
                                         delete keep;
                                       });
  return Tensor::from_storage(*dtype, Shape(array.shape(), array.shape() + array.ndim()),
                              std::move(storage));
}

// The tensor's elements as a numpy array, no copy: a capsule keeps a Tensor sharing the storage.
py::array to_numpy(const Tensor& tensor) {
  auto* owner = new Tensor(tensor);
  py::capsule capsule(owner, [](void* p) { delete static_cast<Tensor*>(p); });
  Shape strides = shape_strides(tensor.shape());
  const auto item = static_cast<int64_t>(dtype_size(tensor.dtype()));
  for (int64_t& s : strides) s *= item;
  return py::array(numpy_dtype(tensor.dtype()), tensor.shape(), strides, owner->raw(), capsule);
}

std::map<std::string, Tensor> to_feeds(const py::dict& inputs, const ir::Graph& graph) {
  std::map<std::string, Tensor> feeds;
  for (auto [key, value] : inputs) {
    const std::string name = py::str(key);
    bool known = false;
    for (const ir::Value* in : graph.inputs) known |= in->name == name;
    if (!known) throw_bad_input("the model has no input named '{}'", name);
    feeds[name] = to_tensor(value, "input '" + name + "'");
  }
  for (const ir::Value* in : graph.inputs)
    if (!feeds.count(in->name)) throw_bad_input("missing the model's input '{}'", in->name);
  return feeds;
}

// ---- the classes ---------------------------------------------------------------------------

// An architecture YAML file with --set overrides, validated on every change so that an error
// names the key when it is made, with the CLI's message.
struct PyArchitecture {
  std::string path;  // as given: `aimc eval --json` reports it as arch_file
  std::vector<std::string> overrides;
  arch::Architecture arch;

  static PyArchitecture from_yaml(const std::string& path,
                                  const std::vector<std::string>& overrides) {
    return {path, overrides, arch::load_architecture(path, overrides)};
  }
  PyArchitecture& set(const std::string& key, const py::object& value) {
    std::string text;
    if (py::isinstance<py::bool_>(value))
      text = value.cast<bool>() ? "true" : "false";
    else
      text = py::str(value);
    std::vector<std::string> with = overrides;
    with.push_back(key + "=" + text);
    arch = arch::load_architecture(path, with);
    overrides = std::move(with);
    return *this;
  }
};

struct PyModel {
  std::string path;
  std::unique_ptr<ir::Graph> graph;
};

using ModelRef = std::variant<std::string, const PyModel*>;

std::string path_of(const ModelRef& model) {
  if (const auto* p = std::get_if<const PyModel*>(&model)) return (*p)->path;
  return std::get<std::string>(model);
}

py::dict model_run(const PyModel& model, const py::dict& inputs, const PyArchitecture* arch,
                   uint64_t seed, uint64_t trial) {
  const std::map<std::string, Tensor> feeds = to_feeds(inputs, *model.graph);
  std::map<std::string, Tensor> outputs;
  {
    py::gil_scoped_release release;
    if (!arch) {
      outputs = runtime::Executor(*model.graph).run(feeds);
    } else {
      // As `aimc run --arch`: chip instance `trial`, calibrated on these inputs.
      analog::AnalogModel analog(*model.graph, arch->arch, seed, trial);
      analog.calibrate(feeds);
      outputs = analog.run(feeds, 0);
    }
  }
  py::dict result;
  for (const ir::Value* out : model.graph->outputs)
    result[py::str(out->name)] = to_numpy(outputs.at(out->name));
  return result;
}

py::object model_eval(const PyModel& model, const std::string& dataset, const PyArchitecture* arch,
                      int64_t trials, uint64_t seed, int64_t limit, int64_t batch,
                      const std::string& data_dir) {
  if (limit < 1 && limit != -1) throw_bad_input("limit {}: must be at least 1", limit);
  if (batch < 1) throw_bad_input("batch {}: must be at least 1", batch);
  if (!arch && trials != 1) throw_bad_input("trials need an architecture (arch=...)");
  api::EvalRequest request;
  request.model_name = model.path;
  request.dataset = dataset;
  request.data_dir = data_dir;
  request.limit = limit;
  request.batch = batch;
  request.arch = arch ? &arch->arch : nullptr;
  request.trials = trials;
  request.seed = seed;
  std::string warning;
  request.warn = [&](const std::string& w) { warning = w; };
  api::EvalResult result;
  {
    py::gil_scoped_release release;
    result = api::evaluate(*model.graph, request);
  }
  if (!warning.empty()) PyErr_WarnEx(PyExc_UserWarning, warning.c_str(), 1);
  return to_python(api::eval_json(result, request, arch ? arch->path : ""));
}

py::object estimate(const ModelRef& model, const PyArchitecture& arch, int64_t batch, int64_t chips,
                    bool replicate, const std::optional<std::string>& baseline) {
  const std::string path = path_of(model);
  api::EstimateRequest request;
  request.batch = batch;
  request.chips = chips;
  request.replicate = replicate;
  if (baseline)
    request.baseline = *baseline == "gpu" ? cost::bundled_gpu() : cost::load_gpu_spec(*baseline);
  std::optional<api::EstimateResult> result;
  {
    py::gil_scoped_release release;
    std::unique_ptr<ir::Graph> graph = api::load_model_for_one_inference(path);
    result = api::estimate(*graph, arch.arch, request);
  }
  return to_python(api::estimate_json(*result, path, arch.arch, request.baseline));
}

py::object compile(const ModelRef& model, const PyArchitecture& arch, int64_t chips,
                   bool replicate) {
  const std::string path = path_of(model);
  std::optional<api::CompileResult> result;
  {
    py::gil_scoped_release release;
    std::unique_ptr<ir::Graph> graph = api::load_model_for_one_inference(path);
    result = api::compile(*graph, arch.arch, chips, replicate);
  }
  return to_python(api::compile_json(*result, path, arch.arch));
}

py::object simulate(const ModelRef& model, const PyArchitecture& arch, int64_t batch, int64_t chips,
                    bool replicate) {
  const std::string path = path_of(model);
  api::SimulateRequest request;
  request.batch = batch;
  request.chips = chips;
  request.replicate = replicate;
  std::optional<api::SimulateResult> result;
  double wall_s = 0;
  {
    py::gil_scoped_release release;
    std::unique_ptr<ir::Graph> graph = api::load_model_for_one_inference(path);
    const auto start = std::chrono::steady_clock::now();
    result = api::simulate(*graph, arch.arch, request);
    wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  return to_python(api::simulate_json(*result, path, arch.arch, wall_s));
}

// One `linear` layer on crossbars, as the analog executor programs it: weight [out, in]
// (PyTorch's layout) is programmed as W = weightᵀ [in, out], y = x·W + b. `name` keys the
// noise streams: the node name of a model's layer gives the numbers the executor gives it.
// With readout.mode acam its outputs are read through identity readout trees, which are
// calibrated on data: calibrate(x) programs the layer then, and forward() needs it.
class AnalogLinear {
 public:
  AnalogLinear(const py::array& weight, const std::optional<py::array>& bias,
               const PyArchitecture& arch, uint64_t seed, uint64_t trial, const std::string& name)
      : arch_(arch.arch), key_{seed, trial, name} {
    const Tensor w = to_tensor(weight, "weight", DType::kF32);
    if (w.rank() != 2) throw_bad_input("weight: expected [out, in], got {}", shape_str(w.shape()));
    const int64_t out = w.dim(0), in = w.dim(1);
    weight_ = Tensor(DType::kF32, {in, out});
    for (int64_t o = 0; o < out; ++o)
      for (int64_t i = 0; i < in; ++i)
        weight_.data<float>()[i * out + o] = w.data<float>()[o * in + i];
    if (bias) {
      bias_ = to_tensor(*bias, "bias", DType::kF32);
      if (bias_.rank() != 1 || bias_.dim(0) != out)
        throw_bad_input("bias: expected [{}], got {}", out, shape_str(bias_.shape()));
    }
    if (readout()) return;  // programmed by calibrate()
    py::gil_scoped_release release;
    layer_ = std::make_unique<analog::CrossbarLayer>(arch_, weight_, bias_, key_);
  }
  void calibrate(const py::array& x) {
    const Tensor rows = rows_of(x);
    py::gil_scoped_release release;
    if (readout())
      readout_ = std::make_unique<analog::ReadoutLayer>(arch_, weight_, bias_, rows,
                                                        analog::AcamFunction::kIdentity, key_);
    else
      layer_->calibrate(rows);
  }
  py::array forward(const py::array& x, int64_t first_row) {
    const Tensor rows = rows_of(x);
    if (readout() && !readout_)
      throw_bad_input(
          "AnalogLinear on {}: readout.mode acam reads each column through a tree calibrated "
          "on data; call calibrate(x) before forward()",
          arch_.name);
    Tensor y;
    {
      py::gil_scoped_release release;
      y = readout_ ? readout_->forward(rows, first_row) : layer_->forward(rows, first_row);
    }
    return to_numpy(y);
  }
  int64_t in_features() const { return weight_.dim(0); }
  int64_t out_features() const { return weight_.dim(1); }
  int64_t arrays() const {
    if (readout()) return readout_ ? readout_->arrays() : 0;
    return layer_->stats().arrays;
  }

 private:
  bool readout() const { return arch_.readout.mode == arch::ReadoutMode::kAcam; }
  Tensor rows_of(const py::array& x) const {
    const Tensor t = to_tensor(x, "x", DType::kF32);
    if (t.rank() != 2 || t.dim(1) != in_features())
      throw_bad_input("x: expected [batch, {}], got {}", in_features(), shape_str(t.shape()));
    return t;
  }
  arch::Architecture arch_;
  analog::ChipKey key_;
  Tensor weight_, bias_;  // W [in, out], b [out] or invalid
  std::unique_ptr<analog::CrossbarLayer> layer_;
  std::unique_ptr<analog::ReadoutLayer> readout_;
};

struct PyTrees {
  std::string path;
  ir::TreeEnsemble ensemble;
};

// X [samples, num_feature] as float32, C order (wrapped without a copy when it already is).
Tensor features_of(const PyTrees& trees, const py::array& x) {
  Tensor t = to_tensor(x, "X", DType::kF32);
  if (t.rank() != 2 || t.dim(1) != trees.ensemble.num_feature)
    throw_bad_input("X: expected [samples, {}], got {}", trees.ensemble.num_feature,
                    shape_str(t.shape()));
  if (t.dim(0) == 0) throw_bad_input("X: no samples");
  return t;
}

py::array trees_predict(const PyTrees& trees, const py::array& x, const PyArchitecture* arch,
                        uint64_t trial, uint64_t seed) {
  const Tensor features = features_of(trees, x);
  const int64_t samples = features.dim(0);
  std::vector<float> out;
  {
    py::gil_scoped_release release;
    out = api::predict_trees(trees.ensemble, features.data<float>(), samples,
                             arch ? &arch->arch : nullptr, seed, trial);
  }
  // Handed to numpy without a copy: the capsule owns the vector.
  auto* owner = new std::vector<float>(std::move(out));
  py::capsule capsule(owner, [](void* p) { delete static_cast<std::vector<float>*>(p); });
  return py::array_t<float>({samples, static_cast<int64_t>(trees.ensemble.num_outputs())},
                            owner->data(), capsule);
}

py::object trees_eval(const PyTrees& trees, const py::array& x, const py::array& y,
                      const PyArchitecture* arch, int64_t trials, uint64_t seed) {
  const Tensor x_tensor = features_of(trees, x);
  const int64_t samples = x_tensor.dim(0);
  const std::vector<float> features(x_tensor.data<float>(),
                                    x_tensor.data<float>() + x_tensor.numel());
  const Tensor labels_tensor = to_tensor(y, "y", DType::kF32);
  if (labels_tensor.numel() != samples)
    throw_bad_input("y: expected {} labels, got {}", samples, labels_tensor.numel());
  const std::vector<float> labels(labels_tensor.data<float>(),
                                  labels_tensor.data<float>() + samples);
  api::check_tree_labels(trees.ensemble, labels, "y");
  const arch::Architecture chip = arch ? arch->arch : arch::Architecture{};
  api::TreeEvalResult result;
  {
    py::gil_scoped_release release;
    result = api::evaluate_trees(trees.ensemble, features, labels, chip, trials, seed);
  }
  return to_python(api::trees_eval_json(result, trees.ensemble, trees.path, samples));
}

py::object trees_estimate(const PyTrees& trees, const PyArchitecture& arch) {
  return to_python(api::trees_estimate_json(api::estimate_trees(trees.ensemble, arch.arch),
                                            trees.ensemble, trees.path, arch.arch));
}

// `aimc sweep SWEEP.yaml -o OUTPUT --json [--pareto]`: the run's counts (and front).
py::object sweep(const std::string& path, const std::string& output, int jobs, bool pareto) {
  if (jobs < 1 || jobs > 64) throw_bad_input("jobs {}: expected an integer in [1, 64]", jobs);
  nlohmann::json summary;
  {
    py::gil_scoped_release release;
    const dse::SweepSpec spec = dse::load_sweep(path);
    api::SweepRequest request;
    request.jobs = jobs;
    summary = api::sweep_summary_json(spec, output, api::sweep(spec, output, request), pareto);
  }
  return to_python(summary);
}

// `aimc report RESULTS --pareto --json`'s front.
py::object pareto(const std::string& results) {
  const dse::ResultsFile file = api::read_sweep_results(results);
  return to_python(api::pareto_json(file.points, dse::header_objectives(file.header)));
}

// `aimc report RESULTS -o OUTPUT` without writing: the page as a string.
std::string report_html(const std::string& results) {
  return report::sweep_report_html(api::sweep_report(api::read_sweep_results(results), results));
}

void set_threads(int threads) {
  if (threads < 1 || threads > max_threads())
    throw_bad_input(
        "threads {}: expected an integer in [1, {}] (4 x the hardware threads, at "
        "most 256)",
        threads, max_threads());
  runtime::set_threads(threads);
}

}  // namespace

}  // namespace aimc::python

PYBIND11_MODULE(_aimc, m) {
  using namespace aimc::python;
  namespace api = aimc::api;
  m.doc() = "aimc: analog in-memory computing accelerators (docs/python.md)";

  // aimc.Error (RuntimeError): a failure while doing valid work, the CLI's exit code 1.
  // aimc.BadInput (aimc.Error, ValueError): the model, data, YAML or arguments are wrong, 2.
  static py::exception<aimc::Error> error(m, "Error", PyExc_RuntimeError);
  static py::handle bad_input = PyErr_NewException(
      "aimc.BadInput", py::make_tuple(error, py::handle(PyExc_ValueError)).release().ptr(),
      nullptr);
  m.attr("BadInput") = bad_input;
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const aimc::Error& e) {
      PyErr_SetString(e.kind() == aimc::ErrorKind::kBadInput ? bad_input.ptr() : error.ptr(),
                      e.what());
    }
  });

  aimc::runtime::set_threads(0);  // every core, as the CLI without --threads
  m.def("set_threads", &set_threads, py::arg("threads"),
        "Worker threads, 1..max_threads() (the CLI's --threads); results never depend on it.");
  m.def("max_threads", &aimc::max_threads);

  py::class_<PyArchitecture>(m, "Architecture")
      .def_static("from_yaml", &PyArchitecture::from_yaml, py::arg("path"),
                  py::arg("overrides") = std::vector<std::string>{},
                  "Reads and validates an architecture YAML (overrides: 'key.path=value').")
      .def("set", &PyArchitecture::set, py::arg("key"), py::arg("value"),
           py::return_value_policy::reference_internal,
           "Overrides one key, as --set key=value; returns self.")
      .def_property_readonly("name", [](const PyArchitecture& a) { return a.arch.name; })
      .def_readonly("path", &PyArchitecture::path)
      .def_readonly("overrides", &PyArchitecture::overrides)
      .def("to_yaml", [](const PyArchitecture& a) { return aimc::arch::to_yaml(a.arch); })
      .def("__repr__", [](const PyArchitecture& a) {
        return "<aimc.Architecture " + a.arch.name + " from " + a.path + ">";
      });

  py::class_<PyModel>(m, "Model")
      .def_readonly("path", &PyModel::path)
      .def_property_readonly("inputs",
                             [](const PyModel& model) {
                               std::vector<std::string> names;
                               for (const auto* v : model.graph->inputs) names.push_back(v->name);
                               return names;
                             })
      .def_property_readonly("outputs",
                             [](const PyModel& model) {
                               std::vector<std::string> names;
                               for (const auto* v : model.graph->outputs) names.push_back(v->name);
                               return names;
                             })
      .def("run", &model_run, py::arg("inputs"), py::arg("arch") = nullptr, py::arg("seed") = 0,
           py::arg("trial") = 0,
           "Digital fp32 inference (or, with arch, one analog inference as `aimc run --arch`).")
      .def("eval", &model_eval, py::arg("dataset"), py::arg("arch") = nullptr,
           py::arg("trials") = 1, py::arg("seed") = 0, py::arg("limit") = -1,
           py::arg("batch") = 100, py::arg("data_dir") = "", "`aimc eval --json` as a dict.");

  m.def(
      "load",
      [](const std::string& path) {
        auto model = std::make_unique<PyModel>();
        model->path = path;
        py::gil_scoped_release release;
        model->graph = api::load_model(path);
        return model;
      },
      py::arg("path"), "Loads an ONNX model into the canonical IR.");
  m.def("estimate", &estimate, py::arg("model"), py::arg("arch"), py::arg("batch") = 1,
        py::arg("chips") = 1, py::arg("replicate") = true, py::arg("baseline") = std::nullopt,
        "`aimc estimate --json` as a dict (model: a path or a Model).");
  m.def(
      "estimate_peak",
      [](const PyArchitecture& arch) { return to_python(api::peak_json(arch.arch)); },
      py::arg("arch"), "`aimc estimate --peak --json` as a dict.");
  m.def("compile", &compile, py::arg("model"), py::arg("arch"), py::arg("chips") = 1,
        py::arg("replicate") = true, "`aimc compile --json` (mapping.json) as a dict.");
  m.def("simulate", &simulate, py::arg("model"), py::arg("arch"), py::arg("batch") = 1,
        py::arg("chips") = 1, py::arg("replicate") = true, "`aimc simulate --json` as a dict.");

  m.def("sweep", &sweep, py::arg("path"), py::arg("output"), py::arg("jobs") = 1,
        py::arg("pareto") = true,
        "`aimc sweep PATH -o OUTPUT --json --pareto` as a dict; resumes OUTPUT like the CLI.");
  m.def("pareto", &pareto, py::arg("results"),
        "The Pareto front of a sweep's results file (`aimc report --pareto --json`'s list).");
  m.def("report_html", &report_html, py::arg("results"),
        "The HTML page `aimc report RESULTS -o PAGE` writes, as a string.");

  py::class_<AnalogLinear>(m, "AnalogLinear")
      .def(py::init<const py::array&, const std::optional<py::array>&, const PyArchitecture&,
                    uint64_t, uint64_t, const std::string&>(),
           py::arg("weight"), py::arg("bias") = std::nullopt, py::kw_only(), py::arg("arch"),
           py::arg("seed") = 0, py::arg("trial") = 0, py::arg("name") = "linear")
      .def("calibrate", &AnalogLinear::calibrate, py::arg("x"),
           "Fixes what the architecture calibrates (static input scale, ADC range, drift "
           "compensation) on representative inputs [rows, in]; once, before forward.")
      .def("forward", &AnalogLinear::forward, py::arg("x"), py::arg("first_row") = 0,
           "Noisy MVM x [batch, in] -> [batch, out]; first_row keys the read noise.")
      .def_property_readonly("in_features", &AnalogLinear::in_features)
      .def_property_readonly("out_features", &AnalogLinear::out_features)
      .def_property_readonly("arrays", &AnalogLinear::arrays);

  py::class_<PyTrees>(m, "Trees")
      .def_readonly("path", &PyTrees::path)
      .def_property_readonly("num_features",
                             [](const PyTrees& t) { return t.ensemble.num_feature; })
      .def_property_readonly("num_outputs",
                             [](const PyTrees& t) { return t.ensemble.num_outputs(); })
      .def("predict", &trees_predict, py::arg("X"), py::arg("arch") = nullptr, py::arg("trial") = 0,
           py::arg("seed") = 0, "`aimc trees predict` as an array.")
      .def("eval", &trees_eval, py::arg("X"), py::arg("y"), py::arg("arch") = nullptr,
           py::arg("trials") = 1, py::arg("seed") = 0, "`aimc trees eval --json` as a dict.")
      .def("estimate", &trees_estimate, py::arg("arch"), "`aimc trees estimate --json`.");
  m.def(
      "load_trees",
      [](const std::string& path) {
        return PyTrees{path, aimc::frontend::load_xgboost(path)};
      },
      py::arg("path"), "Loads an XGBoost JSON model.");
}
