// LibTorch glue of the fused divergence kernels: a torch::autograd::Function per call, registered
// as the CUDA entry of core's divergence dispatch table. Compiled only when LibTorch has CUDA.
#include "kernels/CudaKernels.h"
#include "kernels/DivergenceKernels.h"

#include "core/common/Error.h"
#include "core/distill/divergence/DivergenceBackend.h"

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/torch.h>

#include <mutex>

namespace xopd::kernels {
namespace {

using torch::Tensor;
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;
using distill::DivergenceKind;
using distill::TopKMode;

LogitType logitType(const Tensor& t) {
    switch (t.scalar_type()) {
    case torch::kFloat: return LogitType::F32;
    case torch::kHalf: return LogitType::F16;
    case torch::kBFloat16: return LogitType::BF16;
    default: XOPD_FAIL("cuda divergence: logits must be fp32, fp16 or bf16, got " << t.scalar_type());
    }
}

/// Fills the pointer part of a launch from (contiguous, same-device) tensors.
DivergenceLaunch makeLaunch(const Tensor& student, const Tensor& teacher, const Tensor& mask, const Tensor& ids,
                            const Tensor& topk, int64_t kind, int64_t support, double beta, double invT) {
    DivergenceLaunch p;
    p.rows = student.size(0);
    p.vocab = student.size(1);
    p.student = student.data_ptr();
    p.studentType = logitType(student);
    p.studentStride = student.stride(0);
    if (teacher.defined()) {
        p.teacher = teacher.data_ptr();
        p.teacherType = logitType(teacher);
        p.teacherStride = teacher.stride(0);
    }
    if (mask.defined()) p.mask = reinterpret_cast<const uint8_t*>(mask.data_ptr<bool>());
    if (ids.defined()) p.sampledIds = ids.data_ptr<int64_t>();
    if (topk.defined()) {
        p.topKIds = topk.data_ptr<int64_t>();
        p.topK = static_cast<int>(topk.size(1));
    }
    p.divergence = static_cast<KernelDivergence>(kind);
    p.support = static_cast<KernelSupport>(support);
    p.jsdBeta = static_cast<float>(beta);
    p.invTemperature = static_cast<float>(invT);
    return p;
}

void check(int code, const char* what) {
    XOPD_CHECK(code == 0, "cuda divergence " << what << ": " << divergenceLaunchError(code));
}

/// Outputs: divergence, student log-prob, teacher log-prob (detached), entropy (detached).
class FusedDivergence : public torch::autograd::Function<FusedDivergence> {
public:
    static variable_list forward(AutogradContext* ctx, Tensor student, Tensor teacher, Tensor mask, Tensor ids,
                                 Tensor topk, int64_t kind, int64_t support, double beta, double invT) {
        const c10::cuda::CUDAGuard guard(student.device());
        const int64_t n = student.size(0);
        auto f32 = student.options().dtype(torch::kFloat);
        auto divergence = torch::zeros({n}, f32), lq = torch::zeros({n}, f32), lp = torch::zeros({n}, f32);
        auto entropy = torch::empty({n}, f32);
        auto stats = torch::empty({n, kDivergenceStats}, f32);
        auto p = makeLaunch(student, teacher, mask, ids, topk, kind, support, beta, invT);
        p.outDivergence = divergence.data_ptr<float>();
        p.outEntropy = entropy.data_ptr<float>();
        p.stats = stats.data_ptr<float>();
        if (ids.defined()) {
            p.outStudentLogProb = lq.data_ptr<float>();
            if (teacher.defined()) p.outTeacherLogProb = lp.data_ptr<float>();
        }
        check(launchDivergenceForward(p, at::cuda::getCurrentCUDAStream().stream()), "forward");
        ctx->save_for_backward({student, teacher, mask, ids, topk, stats});
        ctx->saved_data["kind"] = kind;
        ctx->saved_data["support"] = support;
        ctx->saved_data["beta"] = beta;
        ctx->saved_data["invT"] = invT;
        ctx->mark_non_differentiable({lp, entropy});
        return {divergence, lq, lp, entropy};
    }

    static variable_list backward(AutogradContext* ctx, variable_list grads) {
        auto saved = ctx->get_saved_variables();
        const Tensor& student = saved[0];
        const c10::cuda::CUDAGuard guard(student.device());
        auto p = makeLaunch(student, saved[1], saved[2], saved[3], saved[4], ctx->saved_data["kind"].toInt(),
                            ctx->saved_data["support"].toInt(), ctx->saved_data["beta"].toDouble(),
                            ctx->saved_data["invT"].toDouble());
        Tensor gd = grads[0].defined() ? grads[0].to(torch::kFloat).contiguous() : Tensor();
        Tensor gl = grads[1].defined() ? grads[1].to(torch::kFloat).contiguous() : Tensor();
        auto grad = torch::empty_like(student, torch::MemoryFormat::Contiguous);
        p.stats = saved[5].data_ptr<float>();
        p.gradDivergence = gd.defined() ? gd.data_ptr<float>() : nullptr;
        p.gradStudentLogProb = gl.defined() ? gl.data_ptr<float>() : nullptr;
        p.gradStudent = grad.data_ptr();
        p.gradStride = grad.stride(0);
        check(launchDivergenceBackward(p, at::cuda::getCurrentCUDAStream().stream()), "backward");
        return {grad, Tensor(), Tensor(), Tensor(), Tensor(), Tensor(), Tensor(), Tensor(), Tensor()};
    }
};

Tensor onDevice(const Tensor& t, const Tensor& like) {
    return t.defined() ? t.to(like.device()).contiguous() : Tensor();
}

distill::DivergenceOutput cudaDivergence(const distill::DivergenceInput& in, const distill::DivergenceOptions& o) {
    KernelDivergence kind = KernelDivergence::ReverseKl;
    if (o.kind == DivergenceKind::ForwardKl || (o.kind == DivergenceKind::Jsd && o.jsdBeta == 0.0))
        kind = KernelDivergence::ForwardKl;
    else if (o.kind == DivergenceKind::Jsd && o.jsdBeta != 1.0)
        kind = KernelDivergence::Jsd;
    KernelSupport support = KernelSupport::Full;
    Tensor topk;
    if (o.topK > 0) {
        support = o.topKMode == TopKMode::TailBucket ? KernelSupport::TopKTail : KernelSupport::TopKRenormalized;
        topk = in.topKIds.defined() ? in.topKIds : distill::teacherTopK(in.teacherLogits, in.vocabMask, o.topK);
    }
    auto student = in.studentLogits.contiguous();
    auto teacher = in.teacherLogits.detach().contiguous();
    auto out = FusedDivergence::apply(student, teacher, onDevice(in.vocabMask, student), onDevice(in.sampledIds, student),
                                      onDevice(topk, student), static_cast<int64_t>(kind),
                                      static_cast<int64_t>(support), o.jsdBeta, 1.0 / o.temperature);
    distill::DivergenceOutput r;
    r.divergence = out[0];
    r.studentEntropy = out[3];
    if (in.sampledIds.defined()) {
        r.studentLogProb = out[1];
        r.teacherLogProb = out[2];
    }
    return r;
}

distill::TokenLogProbOutput cudaTokenLogProbs(const Tensor& logits, const Tensor& ids, const Tensor& mask,
                                              double temperature) {
    distill::DivergenceInput in;
    in.studentLogits = logits;
    in.sampledIds = ids;
    in.vocabMask = mask;
    distill::DivergenceOptions o;
    o.temperature = temperature;
    distill::validateDivergence(in, o);
    auto student = logits.contiguous();
    auto out = FusedDivergence::apply(student, Tensor(), onDevice(mask, student), onDevice(ids, student), Tensor(),
                                      static_cast<int64_t>(KernelDivergence::None),
                                      static_cast<int64_t>(KernelSupport::Full), 0.5, 1.0 / temperature);
    return {out[1], out[3]};
}

}  // namespace

bool registerCudaKernels() {
    static std::once_flag once;
    std::call_once(once, [] {
        distill::DivergenceBackend b;
        b.name = "cuda-fused";
        b.divergence = cudaDivergence;
        b.tokenLogProbs = cudaTokenLogProbs;
        distill::registerDivergenceBackend(c10::DeviceType::CUDA, std::move(b));
    });
    return true;
}

bool cudaGlueBuilt() { return true; }

const char* kernelArchs() { return divergenceKernelArchs(); }

namespace {
// Registration at static initialisation whenever this object is linked (it is, through
// registerCudaKernels, in every front end that calls it).
const bool kRegistered = registerCudaKernels();
}  // namespace

}  // namespace xopd::kernels
