'use strict';
// An independent float64 Conv1D in plain JavaScript, written from the Keras
// semantics, to check the binding against. Shares no code with the library.

// erf by Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7).
function erf(v) {
  const sign = v < 0 ? -1 : 1;
  const a = Math.abs(v);
  const t = 1 / (1 + 0.3275911 * a);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign * (1 - poly * Math.exp(-a * a));
}

const sigmoid = (z) => 1 / (1 + Math.exp(-z));

const ELEMENTWISE = {
  linear: (z) => z,
  relu: (z) => Math.max(z, 0),
  sigmoid,
  tanh: Math.tanh,
  elu: (z) => (z > 0 ? z : Math.expm1(z)),
  silu: (z) => z * sigmoid(z),
  gelu: (z) => 0.5 * z * (1 + erf(z / Math.SQRT2)),
  leaky_relu: (z) => (z >= 0 ? z : 0.2 * z),
};

/** (left, right) zero padding of the time axis, TensorFlow's split for 'same'. */
function pads(steps, kernelSize, strides, padding, dilation) {
  const span = dilation * (kernelSize - 1);
  if (padding === 'valid') return [0, 0];
  if (padding === 'causal') return [span, 0];
  const out = Math.ceil(steps / strides);
  const total = Math.max((out - 1) * strides + span + 1 - steps, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/**
 * Keras Conv1D forward in float64. x is a flat array in `dataFormat` layout with
 * shape [batch, d1, d2]; kernel is flat (k, channels/groups, filters). Returns
 * { data: Float64Array, shape }.
 */
function conv1d(x, shape, kernel, kernelSize, filters, bias, opts = {}) {
  const { strides = 1, padding = 'valid', dilation = 1, groups = 1, dataFormat = 'channels_last' } = opts;
  const activation = opts.activation || 'linear';
  const last = dataFormat === 'channels_last';
  const [batch, steps, channels] = last ? shape : [shape[0], shape[2], shape[1]];
  const at = (n, t, c) => (last ? x[(n * steps + t) * channels + c] : x[(n * channels + c) * steps + t]);
  const cg = channels / groups;
  const fg = filters / groups;
  const [left] = pads(steps, kernelSize, strides, padding, dilation);
  const [, right] = pads(steps, kernelSize, strides, padding, dilation);
  const outSteps = Math.floor((steps + left + right - dilation * (kernelSize - 1) - 1) / strides) + 1;
  // z[n][t][f] in channels_last order first.
  const z = new Float64Array(batch * outSteps * filters);
  for (let n = 0; n < batch; n++) {
    for (let t = 0; t < outSteps; t++) {
      for (let f = 0; f < filters; f++) {
        const g = Math.floor(f / fg);
        let sum = bias ? bias[f] : 0;
        for (let j = 0; j < kernelSize; j++) {
          const src = t * strides + j * dilation - left;
          if (src < 0 || src >= steps) continue;
          for (let c = 0; c < cg; c++) sum += at(n, src, g * cg + c) * kernel[(j * cg + c) * filters + f];
        }
        z[(n * outSteps + t) * filters + f] = sum;
      }
    }
  }
  // Into the output layout; axis-wise activations then act on its last axis.
  let outShape = last ? [batch, outSteps, filters] : [batch, filters, outSteps];
  let y = z;
  if (!last) {
    y = new Float64Array(z.length);
    for (let n = 0; n < batch; n++)
      for (let t = 0; t < outSteps; t++)
        for (let f = 0; f < filters; f++) y[(n * filters + f) * outSteps + t] = z[(n * outSteps + t) * filters + f];
  }
  const rows = outShape[0] * outShape[1];
  const width = outShape[2];
  if (activation === 'softmax') {
    for (let r = 0; r < rows; r++) {
      const row = y.subarray(r * width, (r + 1) * width);
      const max = Math.max(...row);
      let total = 0;
      for (let i = 0; i < width; i++) total += (row[i] = Math.exp(row[i] - max));
      for (let i = 0; i < width; i++) row[i] /= total;
    }
  } else if (activation === 'glu') {
    const half = width / 2;
    const out = new Float64Array(rows * half);
    for (let r = 0; r < rows; r++)
      for (let i = 0; i < half; i++) out[r * half + i] = y[r * width + i] * sigmoid(y[r * width + half + i]);
    y = out;
    outShape = [outShape[0], outShape[1], half];
  } else {
    const fn = ELEMENTWISE[activation];
    if (!fn) throw new Error(`reference has no activation ${activation}`);
    for (let i = 0; i < y.length; i++) y[i] = fn(y[i]);
  }
  return { data: y, shape: outShape };
}

// ---- backward ----
// Derivatives of the elementwise activations with respect to their input z,
// written by hand (the library's are checked against these).
const DERIVATIVES = {
  linear: () => 1,
  relu: (z) => (z > 0 ? 1 : 0),
  sigmoid: (z) => sigmoid(z) * (1 - sigmoid(z)),
  tanh: (z) => 1 - Math.tanh(z) ** 2,
  elu: (z) => (z > 0 ? 1 : Math.exp(z)),
  silu: (z) => sigmoid(z) * (1 + z * (1 - sigmoid(z))),
  gelu: (z) => 0.5 * (1 + erf(z / Math.SQRT2)) + (z * Math.exp(-0.5 * z * z)) / Math.sqrt(2 * Math.PI),
  leaky_relu: (z) => (z >= 0 ? 1 : 0.2),
};

/**
 * The float64 gradients of the loss whose gradient with respect to the output of
 * conv1d(x, shape, kernel, ...) is dy (flat, in the output's layout): the chain rule through the
 * activation, then the transposed cross-correlation. Returns { dx, dkernel, dbias } as Float64Arrays
 * (dbias null without a bias).
 */
function conv1dBackward(x, shape, kernel, kernelSize, filters, bias, dy, opts = {}) {
  const { strides = 1, padding = 'valid', dilation = 1, groups = 1, dataFormat = 'channels_last' } = opts;
  const activation = opts.activation || 'linear';
  const z = conv1d(x, shape, kernel, kernelSize, filters, bias, { ...opts, activation: 'linear' });
  // dL/dz in the output's layout.
  const dz = new Float64Array(z.data.length);
  if (activation === 'softmax') {
    const width = z.shape[2];
    for (let r = 0; r < z.data.length / width; r++) {
      const row = z.data.subarray(r * width, (r + 1) * width);
      const max = Math.max(...row);
      const e = Array.from(row, (v) => Math.exp(v - max));
      const total = e.reduce((a, b) => a + b, 0);
      const y = e.map((v) => v / total);
      let dot = 0;
      for (let i = 0; i < width; i++) dot += dy[r * width + i] * y[i];
      for (let i = 0; i < width; i++) dz[r * width + i] = y[i] * (dy[r * width + i] - dot);
    }
  } else {
    const derivative = DERIVATIVES[activation];
    if (!derivative) throw new Error(`reference has no derivative of ${activation}`);
    for (let i = 0; i < dz.length; i++) dz[i] = dy[i] * derivative(z.data[i]);
  }
  const last = dataFormat === 'channels_last';
  const [batch, steps, channels] = last ? shape : [shape[0], shape[2], shape[1]];
  const xIndex = (n, t, c) => (last ? (n * steps + t) * channels + c : (n * channels + c) * steps + t);
  const outSteps = last ? z.shape[1] : z.shape[2];
  const zIndex = (n, t, f) => (last ? (n * outSteps + t) * filters + f : (n * filters + f) * outSteps + t);
  const cg = channels / groups;
  const fg = filters / groups;
  const [left] = pads(steps, kernelSize, strides, padding, dilation);
  const dx = new Float64Array(x.length);
  const dkernel = new Float64Array(kernel.length);
  const dbias = bias ? new Float64Array(filters) : null;
  for (let n = 0; n < batch; n++) {
    for (let t = 0; t < outSteps; t++) {
      for (let f = 0; f < filters; f++) {
        const g = Math.floor(f / fg);
        const d = dz[zIndex(n, t, f)];
        if (dbias) dbias[f] += d;
        for (let j = 0; j < kernelSize; j++) {
          const src = t * strides + j * dilation - left;
          if (src < 0 || src >= steps) continue; // a padded zero
          for (let c = 0; c < cg; c++) {
            const w = (j * cg + c) * filters + f;
            const xi = xIndex(n, src, g * cg + c);
            dkernel[w] += x[xi] * d;
            dx[xi] += kernel[w] * d;
          }
        }
      }
    }
  }
  return { dx, dkernel, dbias };
}

/** Central finite differences of the scalar f at `values` (a copy is perturbed). */
function numericalGradient(f, values, h = 1e-6) {
  const v = Float64Array.from(values);
  const grad = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const keep = v[i];
    v[i] = keep + h;
    const up = f(v);
    v[i] = keep - h;
    const down = f(v);
    v[i] = keep;
    grad[i] = (up - down) / (2 * h);
  }
  return grad;
}

module.exports = { conv1d, conv1dBackward, numericalGradient, pads, erf, ELEMENTWISE, DERIVATIVES };
