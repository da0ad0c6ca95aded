// The table of named models (ramulator2-style registry). Defaults are meant to be typical of
// the device families in ../shared/REFERENCE_NUMBERS.md; the presets/ files set the values
// they use explicitly and cite them.
#include "aimc/arch/model_registry.h"

#include <limits>

namespace aimc::arch {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// PCM programming-noise fit of Nandakumar et al., ICECS 2019, as used by IBM aihwkit
// (src/aihwkit/inference/noise/pcm.py, PCMLikeNoiseModel: prog_coeff = [0.26348, 1.9650,
// -1.1731] µS at a reference g_max of 25 µS). Divided by 25 µS so that
// σ_p = g_max · Σ c_i (G/g_max)^i holds for any g_max.
const std::vector<double> kPcmProgrammingCoefficients = {0.26348 / 25.0, 1.9650 / 25.0,
                                                         -1.1731 / 25.0};

std::vector<ModelSpec> build_model_specs() {
  std::vector<ModelSpec> specs;

  specs.push_back({"device.programming",
                   "constant",
                   "programming noise of one standard deviation for every level: "
                   "sigma_p = sigma * g_max",
                   {{"sigma", 0.02, "fraction of g_max",
                     "standard deviation of the programmed conductance", 0.0, kInf}},
                   false});
  specs.push_back({"device.programming",
                   "proportional",
                   "programming noise proportional to the target: sigma_p = sigma * G",
                   {{"sigma", 0.02, "fraction of G",
                     "standard deviation relative to the target conductance", 0.0, kInf}},
                   false});
  specs.push_back({"device.programming",
                   "polynomial",
                   "sigma_p = g_max * sum_i c_i (G/g_max)^i; `coefficients: [c0, c1, ...]`, "
                   "default: PCM fit of Nandakumar et al. ICECS 2019 (aihwkit PCMLikeNoiseModel, "
                   "rescaled to fractions of g_max)",
                   {},
                   true});

  specs.push_back(
      {"device.drift",
       "power_law",
       "G(t) = G * (t/t0)^(-nu), nu ~ N(nu_mean, nu_std) per cell, clipped at 0",
       {{"nu_mean", 0.05, "1",
         "mean drift exponent (PCM: ~0.05, Nandakumar et al. ICECS 2019 / aihwkit)", 0.0, 1.0},
        {"nu_std", 0.01, "1", "standard deviation of the drift exponent across cells", 0.0, 1.0},
        {"t0", 20.0, "s", "reference time of the drift fit (first read after programming)", 1e-9,
         kInf},
        {"t_inference", 3600.0, "s", "time since programming at which the array is read (>= t0)",
         0.0, kInf}},
       false});

  specs.push_back({"device.read",
                   "constant",
                   "read noise, fresh at every read: sigma_r = sigma * g_max",
                   {{"sigma", 0.005, "fraction of g_max",
                     "standard deviation of the read conductance", 0.0, kInf}},
                   false});
  specs.push_back({"device.read",
                   "proportional",
                   "read noise, fresh at every read: sigma_r = sigma * G",
                   {{"sigma", 0.01, "fraction of G",
                     "standard deviation relative to the conductance", 0.0, kInf}},
                   false});

  specs.push_back({"device.output",
                   "gaussian",
                   "additive noise on the column current before the ADC: N(0, sigma * FS)",
                   {{"sigma", 0.001, "fraction of ADC full scale FS",
                     "standard deviation of the output noise", 0.0, kInf}},
                   false});

  specs.push_back(
      {"device.stuck",
       "random",
       "cells stuck per chip instance: off (G = g_off) with p_off, on (G = g_max) with p_on",
       {{"p_off", 0.001, "1", "probability that a cell is stuck off", 0.0, 1.0},
        {"p_on", 0.001, "1", "probability that a cell is stuck on", 0.0, 1.0},
        {"g_off", 0.0, "S", "conductance of a stuck-off cell", 0.0, kInf}},
       false});

  specs.push_back(
      {"device.ir_drop",
       "linear",
       "first-order IR drop: cell current scaled by (1 - gamma*(k+1)/rows*L_n)",
       {{"gamma", 0.05, "1", "attenuation at the far end of a fully loaded column", 0.0, 1.0}},
       false});

  specs.push_back({"adc",
                   "uniform",
                   "signed uniform quantiser of adc.bits bits (ANALOG_MODEL.md section 1)",
                   {},
                   false});
  specs.push_back(
      {"adc", "ideal", "no quantisation: the column current is read exactly", {}, false});
  return specs;
}

}  // namespace

const std::vector<ModelSpec>& model_specs() {
  static const std::vector<ModelSpec> specs = build_model_specs();
  return specs;
}

const ModelSpec* find_model_spec(const std::string& slot, const std::string& name) {
  for (const ModelSpec& spec : model_specs())
    if (spec.slot == slot && spec.name == name) return &spec;
  return nullptr;
}

std::vector<std::string> model_names(const std::string& slot) {
  std::vector<std::string> names;
  if (slot.rfind("device.", 0) == 0) names.push_back("none");
  for (const ModelSpec& spec : model_specs())
    if (spec.slot == slot) names.push_back(spec.name);
  return names;
}

std::vector<double> default_coefficients(const std::string& slot, const std::string& name) {
  if (slot == "device.programming" && name == "polynomial") return kPcmProgrammingCoefficients;
  return {};
}

}  // namespace aimc::arch
