#!/usr/bin/python3
"""PyTorch peer of bench/step.bench.ts: the median time of one training step (forward, backward,
Adam with global-norm clipping) of the same model with the same math as trainer/model/:

  - per-modality MLP encoders (LeakyReLU 0.2, `layers` hidden layers of width `hidden`) to the mean
    and log-variance of the k_m + e_m code, a reparameterised posterior sample (stochastic encoder);
  - the component-wise conditional flow as one masked batched computation (flow.ts): the gate
    scales the rows of the first weight, one (B, d) x (d, d*H) matmul, mu_i and s_i from per-
    component heads, s bounded by 5 tanh(s / 5), log-det = -sum_i s_i;
  - the binary-concrete gate sigmoid((A + logistic noise) / T) on a modality-order DAG mask;
  - L_Ind as the aggregate-posterior KL in the form of loss.ts (the (rows, B, K) difference tensor
    in chunks of 512 rows, a logsumexp over each row);
  - L_Sp = sum of sigmoid(A) over allowed entries; L_Recon = sum of per-modality MSE;
  - loss 0.1 L_Ind + 0.01 L_Sp + L_Recon; torch.optim.Adam after clip_grad_norm_(5).

Usage: step_torch.py '{"presets": {"c1": [[15, 2, 1], [15, 2, 1]]}, "batches": [256], "runs": 5}'
(each modality as [dims, latents, exogenous]). Prints one JSON object on stdout. Run it under
/usr/bin/python3 (Debian's python3-torch) with OMP_WAIT_POLICY=PASSIVE; it uses one thread.
"""

import json
import math
import statistics
import sys
import time

import torch
import torch.nn.functional as F

torch.set_num_threads(1)

HIDDEN, LAYERS, FLOW_HIDDEN, SLOPE = 64, 2, 16, 0.2
TEMPERATURE, INIT_LOGIT, LOG_SCALE_BOUND = 0.5, 2.0, 5.0
ALPHA_IND, ALPHA_SP, ALPHA_RECON = 0.1, 0.01, 1.0


def mlp(sizes):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        if i + 2 < len(sizes):
            layers.append(torch.nn.LeakyReLU(SLOPE))
    return torch.nn.Sequential(*layers)


class Model(torch.nn.Module):
    def __init__(self, mods):
        super().__init__()
        self.mods = mods
        self.enc = torch.nn.ModuleList(
            mlp([dm] + [HIDDEN] * LAYERS + [2 * (k + e)]) for dm, k, e in mods
        )
        self.dec = torch.nn.ModuleList(mlp([k + e] + [HIDDEN] * LAYERS + [dm]) for dm, k, e in mods)
        d = sum(k for _, k, _ in mods)
        self.d = d
        H = FLOW_HIDDEN
        modality_of = [m for m, (_, k, _) in enumerate(mods) for _ in range(k)]
        mask = torch.tensor(
            [[1.0 if modality_of[j] < modality_of[i] else 0.0 for j in range(d)] for i in range(d)]
        )
        self.register_buffer("mask", mask)
        self.logits = torch.nn.Parameter(torch.where(mask > 0, INIT_LOGIT, -10.0))
        lim = math.sqrt(6 / (d + H))
        self.w1 = torch.nn.Parameter(torch.empty(d, d * H).uniform_(-lim, lim))
        self.b1 = torch.nn.Parameter(torch.zeros(d * H))
        lim2 = math.sqrt(6 / (H + 1))
        self.w_mu = torch.nn.Parameter(torch.empty(d, H).uniform_(-lim2, lim2))
        self.b_mu = torch.nn.Parameter(torch.zeros(d))
        self.w_s = torch.nn.Parameter(torch.empty(d, H).uniform_(-lim2, lim2))
        self.b_s = torch.nn.Parameter(torch.zeros(d))

    def forward(self, xs):
        B = xs[0].shape[0]
        d, H = self.d, FLOW_HIDDEN
        samples, means, logvars, zs, etas, recon = [], [], [], [], [], 0.0
        for m, (dm, k, e) in enumerate(self.mods):
            mean, logvar = self.enc[m](xs[m]).chunk(2, dim=1)
            sample = mean + torch.exp(0.5 * logvar) * torch.randn_like(mean)
            samples.append(sample)
            means.append(mean)
            logvars.append(logvar)
            zs.append(sample[:, :k])
            if e > 0:
                etas.append(sample[:, k:])
            recon = recon + F.mse_loss(self.dec[m](sample), xs[m])
        code, mean, logvar = torch.cat(samples, 1), torch.cat(means, 1), torch.cat(logvars, 1)
        z = torch.cat(zs, 1)
        # Binary-concrete gate.
        u = torch.rand(d, d).clamp_(1e-6, 1 - 1e-6)
        gate = torch.sigmoid((self.logits + torch.log(u) - torch.log1p(-u)) / TEMPERATURE) * self.mask
        # Masked batched flow.
        w1 = (self.w1.view(d, d, H) * gate.t().unsqueeze(2)).view(d, d * H)
        h = F.leaky_relu(z @ w1 + self.b1, SLOPE).view(B, d, H)
        mu = (h * self.w_mu).sum(2) + self.b_mu
        s = LOG_SCALE_BOUND * torch.tanh(((h * self.w_s).sum(2) + self.b_s) / LOG_SCALE_BOUND)
        eps = (z - mu) * torch.exp(-s)
        log_prior = -s.sum(1) - 0.5 * eps.square().sum(1)
        if etas:
            log_prior = log_prior - 0.5 * torch.cat(etas, 1).square().sum(1)
        # Aggregate-posterior KL, direct difference form chunked over rows (loss.ts).
        inv_var = torch.exp(-logvar).unsqueeze(0)
        parts = []
        for start in range(0, B, 512):
            diff = code[start : start + 512].unsqueeze(1) - mean.unsqueeze(0)
            pair = -0.5 * (diff.square() * inv_var + logvar.unsqueeze(0)).sum(2)
            parts.append(torch.logsumexp(pair, 1))
        log_q = torch.cat(parts) - math.log(B)
        ind = (log_q - log_prior).mean()
        sp = (torch.sigmoid(self.logits) * self.mask).sum()
        return ALPHA_IND * ind + ALPHA_SP * sp + ALPHA_RECON * recon


def median_step_ms(mods, batch, runs, seed=0):
    torch.manual_seed(seed)
    model = Model(mods)
    opt = torch.optim.Adam(model.parameters(), lr=2e-3, betas=(0.9, 0.999), eps=1e-8)
    xs = [torch.randn(batch, dm) for dm, _, _ in mods]

    def step():
        opt.zero_grad(set_to_none=True)
        loss = model(xs)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        return loss.item()

    step()  # warm-up: allocator and first-touch
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1000)
    return {"median_ms": round(statistics.median(times), 2), "min_ms": round(min(times), 2), "runs": runs}


def main():
    spec = json.loads(sys.argv[1])
    out = {"torch": torch.__version__, "threads": torch.get_num_threads(), "results": {}}
    for preset, mods in spec["presets"].items():
        for batch in spec["batches"]:
            runs = spec.get("runs_by_batch", {}).get(str(batch), spec.get("runs", 5))
            out["results"][f"{preset}/{batch}"] = median_step_ms(
                [tuple(m) for m in mods], batch, runs
            )
    print(json.dumps(out))


if __name__ == "__main__":
    main()
