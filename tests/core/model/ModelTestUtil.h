#pragma once
// Helpers of the model runtime tests: running the float64 Python reference and comparing tensors
// with a stated tolerance.

#include "core/common/Tensors.h"
#include "core/model/checkpoint/SafetensorsFile.h"
#include "core/model/checkpoint/SafetensorsWriter.h"
#include "tests/support/TestSupport.h"

#include <QProcess>
#include <QString>
#include <QtTest/QtTest>

#include <string>

namespace xopd::test {

/// A python3 that can `import torch` ($XOPD_PYTHON, /usr/bin/python3, python3), or "" when none.
inline QString pythonWithTorch() {
    QStringList candidates;
    if (qEnvironmentVariableIsSet("XOPD_PYTHON")) candidates << qEnvironmentVariable("XOPD_PYTHON");
    candidates << "/usr/bin/python3" << "python3";
    for (const QString& py : candidates) {
        ProcessResult r = runProgram(py, {"-c", "import torch"}, 60000);
        if (r.exitCode == 0) return py;
    }
    return {};
}

/// Runs tests/reference/model/qwen2_ref.py on a model folder and inputs; returns the outputs file.
inline std::shared_ptr<xopd::SafetensorsFile> runReference(const QString& python, const QString& model,
                                                           const QString& inputs, const QString& outputs) {
    const QString script = sourceDir() + "/tests/reference/model/qwen2_ref.py";
    ProcessResult r = runProgram(python, {script, model, inputs, outputs}, 300000);
    if (r.exitCode != 0) qWarning("reference failed: %s", qPrintable(r.err));
    return r.exitCode == 0 ? xopd::SafetensorsFile::open(outputs.toStdString()) : nullptr;
}

/// max |a − b| − (atol + rtol·|b|) <= 0, with a message naming `what` and the worst error.
inline bool allClose(const torch::Tensor& a, const torch::Tensor& b, double atol, double rtol, const std::string& what) {
    torch::Tensor x = a.to(torch::kFloat64), y = b.to(torch::kFloat64);
    if (x.sizes() != y.sizes()) {
        qWarning("%s: shapes differ", what.c_str());
        return false;
    }
    torch::Tensor excess = (x - y).abs() - (atol + rtol * y.abs());
    const double worst = excess.max().item<double>();
    const double maxabs = (x - y).abs().max().item<double>();
    if (worst > 0) qWarning("%s: max |diff| %.3g exceeds atol %.1g + rtol %.1g", what.c_str(), maxabs, atol, rtol);
    return worst <= 0;
}

}  // namespace xopd::test
