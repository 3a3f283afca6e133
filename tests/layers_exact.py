"""The layers' forward passes again, in 50-digit decimals, and gradients by finite differences.

Independent of purebp.layers: each forward is written here a second time,
differently where it can be (the padding made explicit, the variance from
the mean of squares), with Decimal arithmetic at 50 digits. Central
differences with h = 1e-20 then give each gradient to about 1e-29 (the
error is O(h²) = 1e-40, the rounding 1e-50 / 1e-20), far below a float's
rounding, so a layer's backward is checked to its last few bits.

    D(t)                      a tensor of floats as Decimals (exactly)
    gradient(f, values)       ∂f/∂values[k] by central differences, f a Decimal function
    check(backward, exact)    assert two flat lists agree to rtol (atol relative to the largest)
    conv2d, max_pool2d, avg_pool2d, batch_norm, layer_norm, linear, softmax, ...
"""

from decimal import Decimal, localcontext

from purebp.layers.tensor import flat, unflat

DIGITS = 50
H = Decimal("1e-20")


def D(t):
    """The tensor t with each float as the Decimal of exactly its value."""
    if isinstance(t, list):
        return [D(v) for v in t]
    return Decimal(t)


def gradient(f, values):
    """∂f/∂values[k] for every k, by central differences in 50 digits."""
    with localcontext() as context:
        context.prec = DIGITS
        out = []
        for k in range(len(values)):
            up, down = list(values), list(values)
            up[k] += H
            down[k] -= H
            out.append((f(up) - f(down)) / (2 * H))
        return out


def upstream_sum(g, y):
    """Σ g ⊙ y over two tensors of one shape: the scalar whose gradient is the VJP with g."""
    total = Decimal(0)
    for a, b in zip(flat(g), flat(y)):
        total += Decimal(a) * b
    return total


def check(found, exact, rtol=1e-12, atol=0.0):
    """Each float of found within rtol·max(|exact|, largest|exact|·1e-3) + atol of exact.

    atol is for results that cancel: a sum of terms of size 1 that comes to 1e-6
    cannot be closer than a few ulps of 1 in floats."""
    found, exact = flat(found), [float(v) for v in flat(exact)]
    assert len(found) == len(exact)
    largest = max((abs(v) for v in exact), default=0.0)
    for k, (a, b) in enumerate(zip(found, exact)):
        bound = rtol * max(abs(b), largest * 1e-3, 1e-300) + atol
        assert abs(a - b) <= bound, f"entry {k}: {a!r} vs exact {b!r} (bound {bound:.3g})"


# -- the forwards, in Decimal -------------------------------------------------------------


def linear(x, W, b):
    """y[n][o] = Σ_i x[n][i]·W[o][i] + b[o]."""
    return [[sum((x[n][i] * W[o][i] for i in range(len(W[0]))), Decimal(0)) + (b[o] if b else 0)
             for o in range(len(W))] for n in range(len(x))]


def pad(x, ph, pw, fill):
    """x (N, C, H, W) with ph rows and pw columns of ``fill`` on every side."""
    out = []
    for sample in x:
        channels = []
        for plane in sample:
            width = len(plane[0]) + 2 * pw
            rows = [[fill] * width for _ in range(ph)]
            rows += [[fill] * pw + list(row) + [fill] * pw for row in plane]
            rows += [[fill] * width for _ in range(ph)]
            channels.append(rows)
        out.append(channels)
    return out


def conv2d(x, W, b, stride, padding):
    """The correlation of the explicitly zero-padded input with each kernel, plus the bias."""
    (sh, sw), (ph, pw) = stride, padding
    xp = pad(x, ph, pw, Decimal(0))
    kh, kw = len(W[0][0]), len(W[0][0][0])
    Hp, Wp = len(xp[0][0]), len(xp[0][0][0])
    Ho, Wo = (Hp - kh) // sh + 1, (Wp - kw) // sw + 1
    return [[[[sum((W[o][c][p][q] * xp[n][c][i * sh + p][j * sw + q]
                    for c in range(len(W[0])) for p in range(kh) for q in range(kw)), Decimal(0))
               + (b[o] if b else 0)
               for j in range(Wo)] for i in range(Ho)] for o in range(len(W))]
            for n in range(len(x))]


def _pool(x, kernel, stride, padding, fill, reduce):
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    xp = pad(x, ph, pw, fill)
    Ho, Wo = (len(xp[0][0]) - kh) // sh + 1, (len(xp[0][0][0]) - kw) // sw + 1
    return [[[[reduce([xp[n][c][i * sh + p][j * sw + q] for p in range(kh) for q in range(kw)])
               for j in range(Wo)] for i in range(Ho)] for c in range(len(x[0]))]
            for n in range(len(x))]


def max_pool2d(x, kernel, stride, padding):
    return _pool(x, kernel, stride, padding, Decimal("-Infinity"), max)


def avg_pool2d(x, kernel, stride, padding):
    count = kernel[0] * kernel[1]
    return _pool(x, kernel, stride, padding, Decimal(0), lambda v: sum(v, Decimal(0)) / count)


def _normalized(values, eps):
    """(v − mean)/√(var + eps), the variance as mean of squares minus the squared mean."""
    m = len(values)
    mean = sum(values, Decimal(0)) / m
    var = sum((v * v for v in values), Decimal(0)) / m - mean * mean
    return [(v - mean) / (var + eps).sqrt() for v in values]


def batch_norm(x, gamma, beta, eps):
    """Training-mode batch norm of x (N, C, ...) over everything but dimension 1."""
    shape = _shape(x)
    N, C = shape[0], shape[1]
    values = flat(x)
    per = len(values) // (N * C)
    out = list(values)
    for c in range(C):
        index = [n * C * per + c * per + k for n in range(N) for k in range(per)]
        normal = _normalized([values[i] for i in index], eps)
        for i, v in zip(index, normal):
            out[i] = gamma[c] * v + beta[c]
    return unflat(out, shape)


def layer_norm(x, gamma, beta, eps, dims):
    """Layer norm of x over its last ``dims`` dimensions, γ and β per position."""
    shape = _shape(x)
    m = 1
    for d in shape[len(shape) - dims:]:
        m *= d
    values, g, b = flat(x), flat(gamma), flat(beta)
    out = []
    for start in range(0, len(values), m):
        normal = _normalized(values[start:start + m], eps)
        out.extend(g[k] * normal[k] + b[k] for k in range(m))
    return unflat(out, shape)


def softmax_rows(x):
    """softmax along the last dimension, in Decimal."""
    if isinstance(x[0], list):
        return [softmax_rows(row) for row in x]
    exps = [v.exp() for v in x]
    total = sum(exps, Decimal(0))
    return [e / total for e in exps]


def sigmoid(v):
    return 1 / (1 + (-v).exp())


def tanh(v):
    e = (2 * v).exp()
    return (e - 1) / (e + 1)


def elementwise(f, x):
    if isinstance(x, list):
        return [elementwise(f, v) for v in x]
    return f(x)


def _shape(t):
    shape = []
    while isinstance(t, list):
        shape.append(len(t))
        t = t[0]
    return tuple(shape)


def run(f, *args):
    """f(*args) in 50-digit decimals."""
    with localcontext() as context:
        context.prec = DIGITS
        return f(*args)


def assert_layer_matches(layer, x, exact_forward, rng, rtol=1e-12, atol=0.0):
    """The layer's forward, input gradient and parameter gradients against exact ones.

    exact_forward(x, params) is the Decimal forward, params the layer's
    parameters by name (Decimal tensors). The upstream gradient g is drawn
    from rng; the exact gradients are the central differences of Σ g ⊙ y.
    Returns (y, grad_x) of the layer.
    """
    params = {name: D(value) for name, value in layer.parameters().items()}
    y = layer.forward(x)
    check(y, run(exact_forward, D(x), params), rtol, atol)
    g = unflat([rng.uniform(-1, 1) for _ in flat(y)], _shape(y))
    grad_x = layer.backward(g)
    shape = _shape(x)
    check(grad_x, gradient(lambda v: upstream_sum(g, exact_forward(unflat(v, shape), params)),
                           flat(D(x))), rtol, atol)
    assert set(layer.grads) == set(params)
    for name, value in params.items():
        p_shape = _shape(value)

        def loss(v, name=name, p_shape=p_shape):
            return upstream_sum(g, exact_forward(D(x), {**params, name: unflat(v, p_shape)}))

        check(layer.grads[name], gradient(loss, flat(value)), rtol, atol)
    return y, grad_x
