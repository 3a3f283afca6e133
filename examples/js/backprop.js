#!/usr/bin/env node
// Backpropagation in plain JavaScript, for Node (no npm packages): the proof that
// purebp's test vectors are language-neutral.
//
//     node examples/js/backprop.js VECTORS RESULTS
//
// reads every case file of the folder VECTORS (the files its MANIFEST.sha256 lists,
// or else every *.json file), computes what each case asks for, and writes
// RESULTS/<id>.json in the results format; then
//
//     python3 -m purebp check VECTORS RESULTS
//
// judges the numbers. Two kinds of case (purebp docs vectors):
//
//   - a network case ("network"): every layer's z and a, the loss, ∂loss/∂W and
//     ∂loss/∂b, the parameters after one step (of gradient descent, or of the
//     case's "optimizer": SGD, RMSprop, Adam, AdamW with torch.optim's rules), and
//     the losses of the trajectory, step k on the rows "batches"[k] where the case
//     has batches; with an optimizer or batches, the parameters after the last
//     step ("final") and the optimizer's state ("optimizer_state");
//   - an op case ("op": dense, activation or loss): one operation's output and
//     its vector-Jacobian products.
//
// Conventions, as in purebp: one row per sample; weights[l] is sizes[l] × sizes[l+1],
// biases[l] is 1 × sizes[l+1]; z[l] = a[l]·W[l] + b[l], a[l+1] = f(z[l]).
// Every sum adds from index 0 up in a plain loop. What this file does not do:
// validate the cases (purebp's loader does that before writing them), or run fast.

"use strict";

const fs = require("fs");
const path = require("path");

// -- the layer algebra, as index loops ------------------------------------------

// z = a·W + b: z[i][j] = Σ_m a[i][m]·W[m][j] + b[0][j], the bias row on every row.
function dense(a, W, b) {
  return a.map((row) => W[0].map((_, j) => {
    let total = 0;
    for (let m = 0; m < W.length; m++) total += row[m] * W[m][j];
    return total + b[0][j];
  }));
}

// G·Wᵀ: entry [i][m] is Σ_j G[i][j]·W[m][j].
function timesTransposed(G, W) {
  return G.map((row) => W.map((wRow) => {
    let total = 0;
    for (let j = 0; j < wRow.length; j++) total += row[j] * wRow[j];
    return total;
  }));
}

// aᵀ·G: entry [i][j] is Σ_n a[n][i]·G[n][j], the sum over the batch.
function transposedTimes(a, G) {
  return a[0].map((_, i) => G[0].map((_, j) => {
    let total = 0;
    for (let n = 0; n < a.length; n++) total += a[n][i] * G[n][j];
    return total;
  }));
}

// The 1 × k row Σ_n G[n], each column added from the top row down.
function columnSums(G) {
  return [G[0].map((_, j) => {
    let total = 0;
    for (let n = 0; n < G.length; n++) total += G[n][j];
    return total;
  })];
}

const map2 = (A, B, f) => A.map((row, i) => row.map((v, j) => f(v, B[i][j])));

// -- activations, each beside its derivative at z -------------------------------

// σ(z) = 1 / (1 + e^−z); for z < 0 as e^z / (1 + e^z), so e^−z never overflows.
function sigmoid(z) {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

// σ′(z) = σ(z)·σ(−z) = e^−|z| / (1 + e^−|z|)²: no 1 − σ(z) that cancels when saturated.
function sigmoidPrime(z) {
  const e = Math.exp(-Math.abs(z));
  return e / ((1 + e) * (1 + e));
}

// tanh′(z) = 1 / cosh²(z) = 4·e^−2|z| / (1 + e^−2|z|)²: no 1 − tanh² that cancels.
function tanhPrime(z) {
  const e = Math.exp(-2 * Math.abs(z));
  return (4 * e) / ((1 + e) * (1 + e));
}

const LEAKY_SLOPE = 0.01;

// name → [f, f′], both functions of z. At the kink z = 0, relu′ = 0 and
// leaky_relu′ = 0.01: PyTorch's choices, and purebp's.
const ACTIVATIONS = {
  identity: [(z) => z, () => 1],
  sigmoid: [sigmoid, sigmoidPrime],
  tanh: [Math.tanh, tanhPrime],
  relu: [(z) => (z > 0 ? z : 0), (z) => (z > 0 ? 1 : 0)],
  leaky_relu: [(z) => (z > 0 ? z : LEAKY_SLOPE * z), (z) => (z > 0 ? 1 : LEAKY_SLOPE)],
};

// softmax of one row, after subtracting the row's maximum so that e^z never overflows.
function softmaxRow(row) {
  const top = Math.max(...row);
  const exps = row.map((v) => Math.exp(v - top));
  let total = 0;
  for (const e of exps) total += e;
  return exps.map((e) => e / total);
}

function activate(name, z) {
  if (name === "softmax") return z.map(softmaxRow);
  const f = activation(name)[0];
  return z.map((row) => row.map(f));
}

function activation(name) {
  if (!(name in ACTIVATIONS)) throw new Error(`unknown activation ${JSON.stringify(name)}`);
  return ACTIVATIONS[name];
}

// ∂L/∂z from ∂L/∂a = G: G ⊙ f′(z); for softmax the vector-Jacobian product
// s ⊙ (G − Σ_j G_j·s_j), row by row.
function activationBackward(name, z, G) {
  if (name === "softmax") {
    return z.map((row, i) => {
      const s = softmaxRow(row);
      let dot = 0;
      for (let j = 0; j < s.length; j++) dot += G[i][j] * s[j];
      return s.map((sj, j) => sj * (G[i][j] - dot));
    });
  }
  const fPrime = activation(name)[1];
  return map2(G, z, (g, zk) => g * fPrime(zk));
}

// -- losses, each beside its gradient ------------------------------------------
//
// y is n × k. half_sse and mse take the outputs ŷ; bce and cross_entropy take the
// logits z (σ and softmax inside, as torch's BCEWithLogitsLoss and CrossEntropyLoss).

function total2(M) {
  let total = 0;
  for (const row of M) for (const v of row) total += v;
  return total;
}

// bce of one entry: −[y·log σ(z) + (1 − y)·log(1 − σ(z))] = max(z, 0) − y·z + log(1 + e^−|z|),
// the linear part written (1 − y)·z or −y·z so that a confident right answer does not cancel.
function bceEntry(y, z) {
  const linear = z >= 0 ? (1 - y) * z : -y * z;
  return linear + Math.log1p(Math.exp(-Math.abs(z)));
}

// −Σ_k y_k·log softmax(z)_k = Σ_k y_k·(lse(z) − z_k), with lse(z) = top + log1p(Σ_{j≠argmax} e^(z_j − top)):
// log-sum-exp after the max shift, log1p keeping the small part when one logit dominates.
function crossEntropyRow(y, z) {
  const top = Math.max(...z);
  const m = z.indexOf(top);
  let others = 0;
  for (let j = 0; j < z.length; j++) if (j !== m) others += Math.exp(z[j] - top);
  const logRest = Math.log1p(others);
  let total = 0;
  for (let k = 0; k < z.length; k++) if (y[k] !== 0) total += y[k] * ((top - z[k]) + logRest);
  return total;
}

// name → [value(y, inputs), ∂value/∂inputs (y, inputs)].
const LOSSES = {
  half_sse: [
    (y, a) => 0.5 * total2(map2(a, y, (p, t) => (p - t) * (p - t))),
    (y, a) => map2(a, y, (p, t) => p - t),
  ],
  mse: [
    (y, a) => total2(map2(a, y, (p, t) => (p - t) * (p - t))) / (y.length * y[0].length),
    (y, a) => {
      const norm = 2 / (y.length * y[0].length);
      return map2(a, y, (p, t) => norm * (p - t));
    },
  ],
  bce: [
    (y, z) => total2(map2(z, y, (zk, t) => bceEntry(t, zk))) / (y.length * y[0].length),
    (y, z) => map2(z, y, (zk, t) => (sigmoid(zk) - t) / (y.length * y[0].length)),
  ],
  cross_entropy: [
    (y, z) => {
      let total = 0;
      for (let n = 0; n < y.length; n++) total += crossEntropyRow(y[n], z[n]);
      return total / y.length;
    },
    // ∂/∂z = ((Σ_k y_k)·softmax(z) − y) / n: exact also for rows that do not sum to 1.
    (y, z) => z.map((row, n) => {
      let mass = 0;
      for (const t of y[n]) mass += t;
      return softmaxRow(row).map((s, k) => (mass * s - y[n][k]) / y.length);
    }),
  ],
};

function loss(name) {
  if (!(name in LOSSES)) throw new Error(`unknown loss ${JSON.stringify(name)}`);
  return LOSSES[name];
}

// -- a network case ----------------------------------------------------------

// Returns {zs, as}: z[l] and a[l+1] for every layer (as[0] is the input X).
function forward(net, W, B, X) {
  const L = W.length;
  const zs = [];
  const as = [X];
  for (let l = 0; l < L; l++) {
    const z = dense(as[l], W[l], B[l]);
    zs.push(z);
    as.push(activate(l === L - 1 ? net.output_activation : net.activation, z));
  }
  return { zs, as };
}

// The loss of the forward pass: bce and cross_entropy on the last z, the others on ŷ.
function lossOf(net, y, zs, as) {
  const onLogits = net.loss === "bce" || net.loss === "cross_entropy";
  return loss(net.loss)[0](y, onLogits ? zs[zs.length - 1] : as[as.length - 1]);
}

// δ of the last layer, ∂loss/∂z: bce and cross_entropy give it directly (their output
// activation is inside the loss); half_sse and mse give ∂loss/∂ŷ, times f′(z).
function outputDelta(net, y, zs, as) {
  const z = zs[zs.length - 1];
  if (net.loss === "bce" || net.loss === "cross_entropy") {
    const expected = net.loss === "bce" ? "sigmoid" : "softmax";
    if (net.output_activation !== expected) {
      throw new Error(`${net.loss} needs output_activation ${expected}, got ${net.output_activation}`);
    }
    return loss(net.loss)[1](y, z);
  }
  const dA = loss(net.loss)[1](y, as[as.length - 1]);
  return activationBackward(net.output_activation, z, dA);
}

// ∂loss/∂W[l] = a[l]ᵀ·δ[l], ∂loss/∂b[l] = Σ_n δ[l], δ[l−1] = (δ[l]·W[l]ᵀ) ⊙ f′(z[l−1]).
function backward(net, W, y, zs, as) {
  const L = W.length;
  const gradW = new Array(L);
  const gradB = new Array(L);
  let delta = outputDelta(net, y, zs, as);
  for (let l = L - 1; l >= 0; l--) {
    gradW[l] = transposedTimes(as[l], delta);
    gradB[l] = columnSums(delta);
    if (l > 0) delta = activationBackward(net.activation, zs[l - 1], timesTransposed(delta, W[l]));
  }
  return { weights: gradW, biases: gradB };
}

// -- optimizers: torch.optim's rules, entry by entry ----------------------------
//
// The parameters and gradients go to the optimizer as flat arrays: every weights[l]
// row by row, then every biases[l]. Its state is t (step, 1 at the first step) and flat
// buffers named as torch's state. With a = the case's "arguments" (torch.optim's names):
//
//   SGD      g ← g + weight_decay·p;  b ← g at t = 1, else momentum·b + (1 − dampening)·g;
//            d ← g + momentum·b if nesterov, else b (d ← g without momentum);  p ← p − lr·d
//   RMSprop  g ← g + weight_decay·p;  v ← alpha·v + (1 − alpha)·g²;
//            centered: ḡ ← alpha·ḡ + (1 − alpha)·g, v′ = v − ḡ², else v′ = v;
//            d ← g / (√v′ + eps);  with momentum b ← momentum·b + d, d ← b;  p ← p − lr·d
//   Adam     g ← g + weight_decay·p;  m ← β1·m + (1 − β1)·g;  v ← β2·v + (1 − β2)·g²;
//            m̂ = m / (1 − β1^t);  v̂ = v / (1 − β2^t), or of max_v ← max(max_v, v) with amsgrad;
//            p ← p − lr·m̂ / (√v̂ + eps)
//   AdamW    p ← p·(1 − lr·weight_decay) first, then Adam's rule with the gradient alone

// A fresh optimizer: the case's, or plain gradient descent (SGD of its learning rate).
function makeOptimizer(c) {
  const config = c.optimizer || {
    name: "sgd", arguments: { lr: c.learning_rate, momentum: 0, dampening: 0, weight_decay: 0, nesterov: false },
  };
  if (!(config.name in UPDATES)) throw new Error(`unknown optimizer ${JSON.stringify(config.name)}`);
  return { name: config.name, a: config.arguments, state: { step: 0 } };
}

// The state's flat buffer `name`, zeros at the first step (torch's start).
function buffer(state, name, size) {
  if (!(name in state)) state[name] = new Array(size).fill(0);
  return state[name];
}

const UPDATES = {
  sgd(a, state, p, g) {
    const b = a.momentum ? buffer(state, "momentum_buffer", p.length) : null;
    return p.map((pi, i) => {
      const gi = a.weight_decay ? g[i] + a.weight_decay * pi : g[i];
      let d = gi;
      if (a.momentum) {
        b[i] = state.step === 1 ? gi : a.momentum * b[i] + (1 - a.dampening) * gi;
        d = a.nesterov ? gi + a.momentum * b[i] : b[i];
      }
      return pi - a.lr * d;
    });
  },
  rmsprop(a, state, p, g) {
    const v = buffer(state, "square_avg", p.length);
    const b = a.momentum ? buffer(state, "momentum_buffer", p.length) : null;
    const gAvg = a.centered ? buffer(state, "grad_avg", p.length) : null;
    return p.map((pi, i) => {
      const gi = a.weight_decay ? g[i] + a.weight_decay * pi : g[i];
      v[i] = a.alpha * v[i] + (1 - a.alpha) * gi * gi;
      let spread = v[i];
      if (a.centered) {
        gAvg[i] = a.alpha * gAvg[i] + (1 - a.alpha) * gi;
        spread = v[i] - gAvg[i] * gAvg[i];
      }
      let d = gi / (Math.sqrt(spread) + a.eps);
      if (a.momentum) {
        b[i] = a.momentum * b[i] + d;
        d = b[i];
      }
      return pi - a.lr * d;
    });
  },
  adam: (a, state, p, g) => adam(a, state, p, g, false),
  adamw: (a, state, p, g) => adam(a, state, p, g, true),
};

function adam(a, state, p, g, decoupled) {
  const [beta1, beta2] = a.betas;
  const m = buffer(state, "exp_avg", p.length);
  const v = buffer(state, "exp_avg_sq", p.length);
  const maxV = a.amsgrad ? buffer(state, "max_exp_avg_sq", p.length) : null;
  const correction1 = 1 - Math.pow(beta1, state.step);
  const correction2 = 1 - Math.pow(beta2, state.step);
  return p.map((p0, i) => {
    let pi = p0;
    let gi = g[i];
    if (a.weight_decay && decoupled) pi = pi * (1 - a.lr * a.weight_decay);
    else if (a.weight_decay) gi = gi + a.weight_decay * pi;
    m[i] = beta1 * m[i] + (1 - beta1) * gi;
    v[i] = beta2 * v[i] + (1 - beta2) * gi * gi;
    let vHat = v[i] / correction2;
    if (a.amsgrad) {
      maxV[i] = Math.max(maxV[i], v[i]);
      vHat = maxV[i] / correction2;
    }
    return pi - (a.lr * (m[i] / correction1)) / (Math.sqrt(vHat) + a.eps);
  });
}

// Every weights[l] row by row, then every biases[l], as one flat array.
const flatten = (W, B) => [...W, ...B].flatMap((M) => M.flat());

// {weights, biases} shaped as W and B again, from a flat array in flatten's order.
function unflatten(flat, W, B) {
  let at = 0;
  const take = (M) => M.map((row) => row.map(() => flat[at++]));
  const weights = W.map(take);
  return { weights, biases: B.map(take) };
}

// One step of the optimizer on {W, B} with gradients grads; its state moves on one step.
function step(optimizer, W, B, grads) {
  optimizer.state.step += 1;
  const p = flatten(W, B);
  const g = flatten(grads.weights, grads.biases);
  return unflatten(UPDATES[optimizer.name](optimizer.a, optimizer.state, p, g), W, B);
}

// The rows of a matrix, in the order listed.
const rowsOf = (M, rows) => rows.map((i) => M[i]);

function runNetwork(c) {
  const net = c.network;
  const X = c.inputs;
  const y = c.targets;
  const steps = c.steps || 0;
  const W0 = c.parameters.weights;
  const B0 = c.parameters.biases;
  const result = {};
  // one step on every row from fresh optimizer state: the quantities at the case's parameters
  const { zs, as } = forward(net, W0, B0, X);
  result.pre_activations = zs;
  result.activations = as.slice(1);
  result.loss = lossOf(net, y, zs, as);
  result.gradients = backward(net, W0, y, zs, as);
  result.updated = step(makeOptimizer(c), W0, B0, result.gradients);
  // the trajectory, from the case's parameters again: step k on the rows batches[k]
  const optimizer = makeOptimizer(c);
  let W = W0;
  let B = B0;
  result.trajectory = [];
  for (let k = 0; k < steps; k++) {
    const Xk = c.batches ? rowsOf(X, c.batches[k]) : X;
    const yk = c.batches ? rowsOf(y, c.batches[k]) : y;
    const pass = forward(net, W, B, Xk);
    result.trajectory.push(lossOf(net, yk, pass.zs, pass.as));
    ({ weights: W, biases: B } = step(optimizer, W, B, backward(net, W, yk, pass.zs, pass.as)));
  }
  if (c.optimizer || c.batches) {
    result.final = { weights: W, biases: B };
    result.optimizer_state = { step: optimizer.state.step };
    for (const [name, flat] of Object.entries(optimizer.state)) {
      if (name !== "step") result.optimizer_state[name] = unflatten(flat, W0, B0);
    }
  }
  return result;
}

// -- an op case --------------------------------------------------------------

function runOp(c) {
  if (c.op === "dense") {
    return {
      output: dense(c.inputs, c.weights, c.biases),
      grad_inputs: timesTransposed(c.upstream, c.weights),
      grad_weights: transposedTimes(c.inputs, c.upstream),
      grad_biases: columnSums(c.upstream),
    };
  }
  if (c.op === "activation") {
    return {
      output: activate(c.activation, c.inputs),
      grad_inputs: activationBackward(c.activation, c.inputs, c.upstream),
    };
  }
  if (c.op === "loss") {
    const [value, gradient] = loss(c.loss);
    return { output: value(c.targets, c.inputs), grad_inputs: gradient(c.targets, c.inputs) };
  }
  throw new Error(`unknown op ${JSON.stringify(c.op)}`);
}

function run(c) {
  if ("network" in c) return runNetwork(c);
  if ("op" in c) return runOp(c);
  throw new Error(`case ${JSON.stringify(c.id)} has neither "network" nor "op"`);
}

// -- files -------------------------------------------------------------------

// The case files of a folder: those its MANIFEST.sha256 lists (sha256sum's format,
// "<hash>  <name>" or "<hash> *<name>"), or every *.json file when it has none.
function caseFiles(folder) {
  const manifest = path.join(folder, "MANIFEST.sha256");
  if (fs.existsSync(manifest)) {
    return fs.readFileSync(manifest, "utf8").split("\n").filter((line) => line.trim())
      .map((line) => {
        const found = /^[0-9a-fA-F]{64} [ *](.+)$/.exec(line.replace(/\r$/, ""));
        if (!found) throw new Error(`${manifest}: not a sha256sum line: ${JSON.stringify(line)}`);
        return path.join(folder, found[1]);
      });
  }
  return fs.readdirSync(folder).filter((name) => name.endsWith(".json")).sort()
    .map((name) => path.join(folder, name));
}

// JSON text of a value. Finite numbers as JSON.stringify writes them: the shortest
// decimal that reads back to the same double, which is what the format asks for.
// −0 keeps its sign; NaN and ±Infinity, which JSON.stringify would turn into null,
// are written as the NaN and Infinity literals that Python's json module reads.
function toJSON(value) {
  if (typeof value === "number") {
    if (Number.isFinite(value)) return Object.is(value, -0) ? "-0.0" : JSON.stringify(value);
    if (Number.isNaN(value)) return "NaN";
    return value > 0 ? "Infinity" : "-Infinity";
  }
  if (Array.isArray(value)) return "[" + value.map(toJSON).join(", ") + "]";
  if (value !== null && typeof value === "object") {
    return "{" + Object.keys(value).map((k) => JSON.stringify(k) + ": " + toJSON(value[k])).join(", ") + "}";
  }
  return JSON.stringify(value);
}

function main(argv) {
  if (argv.length !== 2) {
    process.stderr.write("usage: node backprop.js VECTORS RESULTS\n");
    return 2;
  }
  const [vectors, results] = argv;
  fs.mkdirSync(results, { recursive: true });
  let written = 0;
  for (const file of caseFiles(vectors)) {
    const suite = JSON.parse(fs.readFileSync(file, "utf8"));
    if (suite.format !== "purebp-vectors" || suite.version !== 1) {
      throw new Error(`${file}: not a purebp-vectors file of version 1`);
    }
    for (const c of suite.cases) {
      const out = { format: "purebp-vectors", version: 1, cases: [{ id: c.id, expected: run(c) }] };
      fs.writeFileSync(path.join(results, `${c.id}.json`), toJSON(out) + "\n");
      written++;
    }
  }
  process.stdout.write(`wrote results for ${written} cases to ${results}\n`);
  return 0;
}

if (require.main === module) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (error) {  // a missing folder, a file that is not JSON: one line, not a stack
    process.stderr.write(`backprop.js: error: ${error.message}\n`);
    process.exitCode = 2;
  }
}

module.exports = { run, forward, backward, toJSON };
