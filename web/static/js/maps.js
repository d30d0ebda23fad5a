// The map pages: every word or every document of a model as a point, drawn by our own
// WebGL2 renderer (no library: scripts come from this app only, and nothing is evaluated).
//
// - Data: one binary buffer (textlatent/explore/map_views.py, point_payload): a JSON header,
//   then Float32 coordinates and small integer codes (topic, frequency, label, date); and,
//   in a request beside it, the words or titles as lines of text (point_texts).
// - View: a centre and a scale (CSS pixels per map unit); the vertex shader pans and zooms,
//   so panning redraws without touching the point buffers.
// - Hover, click and search find points through a uniform grid over the map.
// - After its first frame the canvas carries data-points (points drawn) and
//   data-first-frame-ms, and data-texts once the words or titles have come; every draw sets
//   data-draw-ms (with ?timing, until a pixel is read back) and data-layer-draws (how often
//   every point was drawn: a pan only moves the layer, see the renderer).
// Everything from the corpus is shown as text (textContent, fillText), never as HTML.
const {api, say, follow} = window.textlatent;

const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
  "#bcbd22", "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2",
  "#dbdb8d", "#9edae5", "#393b79"].map(hex);
const GREY = [185, 185, 180];
const VIRIDIS = [[68, 1, 84], [72, 40, 120], [62, 74, 137], [49, 104, 142], [38, 130, 142], [31, 158, 137],
  [53, 183, 121], [109, 205, 89], [180, 222, 44], [253, 231, 37]];
const NONE16 = 0xffff, NONE8 = 0xff;
const MEASURE = new URLSearchParams(location.search).has("timing");
const PIXEL = new Uint8Array(4);

function hex(h) { return [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16)); }
function sequential(t) {
  const x = Math.min(1, Math.max(0, t)) * (VIRIDIS.length - 1), i = Math.min(VIRIDIS.length - 2, Math.floor(x)), f = x - i;
  return VIRIDIS[i].map((c, j) => Math.round(c + f * (VIRIDIS[i + 1][j] - c)));
}
function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) { e.textContent = text; }
  if (cls) { e.className = cls; }
  return e;
}

// -- the binary points ---------------------------------------------------------------------------
export function parsePoints(buf) {
  const bytes = new Uint8Array(buf);
  if (new TextDecoder().decode(bytes.subarray(0, 6)) !== "TLMAP1") { throw new Error("not map data"); }
  const length = new DataView(buf).getUint32(8, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + length)));
  const arrays = {};
  let offset = 12 + length;
  for (const a of header.arrays) {
    const size = a.length * {float32: 4, uint16: 2, uint8: 1, utf8: 1}[a.type];
    if (a.type === "float32") { arrays[a.name] = new Float32Array(buf, offset, a.length); }
    else if (a.type === "uint16") { arrays[a.name] = new Uint16Array(buf, offset, a.length); }
    else if (a.type === "uint8") { arrays[a.name] = new Uint8Array(buf, offset, a.length); }
    else { arrays[a.name] = new TextDecoder().decode(bytes.subarray(offset, offset + size)).split("\n"); }
    offset += size + ((4 - size % 4) % 4);
  }
  return {header, ...arrays};
}

// -- the renderer --------------------------------------------------------------------------------
const VERTEX = `#version 300 es
in vec2 a_pos; in vec4 a_color; in float a_flag;
uniform vec2 u_center; uniform vec2 u_scale; uniform float u_size; uniform float u_dim;
out vec4 v_color;
void main() {
  gl_Position = vec4((a_pos - u_center) * u_scale, 0.0, 1.0);
  gl_PointSize = u_size * (1.0 + 0.7 * a_flag);
  v_color = vec4(a_color.rgb, (u_dim > 0.5 && a_flag < 0.5) ? 0.13 : 0.85);
}`;
const FRAGMENT = `#version 300 es
precision mediump float;
in vec4 v_color; out vec4 color;
void main() {
  vec2 d = gl_PointCoord - vec2(0.5);
  if (dot(d, d) > 0.25) { discard; }
  color = v_color;
}`;

// The points are drawn into a layer (a texture about twice the canvas's size, centred on the view)
// and the canvas shows that layer as one textured rectangle: panning and small zooms redraw
// four corners instead of every point (SwiftShader spent 45-90 ms on 110,000 points). The
// layer is drawn again when the view leaves it or its scale changes by more than a third,
// and whenever the points' positions, colours, highlights or path change.
const QUAD_VERTEX = `#version 300 es
in vec2 a_corner;
uniform vec4 u_rect;
out vec2 v_uv;
void main() {
  v_uv = a_corner;
  gl_Position = vec4(mix(u_rect.xy, u_rect.zw, a_corner), 0.0, 1.0);
}`;
const QUAD_FRAGMENT = `#version 300 es
precision mediump float;
uniform sampler2D u_layer;
in vec2 v_uv; out vec4 color;
void main() { color = texture(u_layer, v_uv); }`;
const LAYER_SCALE = 4 / 3;     // a layer serves views from 3/4 to 4/3 of its own scale

class Renderer {
  constructor(canvas) {
    const gl = canvas.getContext("webgl2", {antialias: false, alpha: false});
    if (!gl) { throw new Error("this browser cannot draw WebGL2"); }
    this.gl = gl;
    const program = this._program(VERTEX, FRAGMENT);
    this.program = program;
    this.quad = this._program(QUAD_VERTEX, QUAD_FRAGMENT);
    this.quadRect = gl.getUniformLocation(this.quad, "u_rect");
    this.quadCorners = gl.createVertexArray();
    gl.bindVertexArray(this.quadCorners);
    const corners = gl.createBuffer();
    this._attribute(corners, gl.getAttribLocation(this.quad, "a_corner"), 2, gl.FLOAT, false);
    gl.bufferData(gl.ARRAY_BUFFER, new Float32Array([0, 0, 1, 0, 0, 1, 1, 1]), gl.STATIC_DRAW);
    gl.bindVertexArray(null);
    this.layer = null;             // {texture, framebuffer, width, height, cx, cy, s} of the points drawn
    this.layerDraws = 0;
    this.loc = Object.fromEntries(["u_center", "u_scale", "u_size", "u_dim"].map((u) => [u, gl.getUniformLocation(program, u)]));
    this.attr = Object.fromEntries(["a_pos", "a_color", "a_flag"].map((a) => [a, gl.getAttribLocation(program, a)]));
    this.points = gl.createVertexArray();
    this.buffers = {pos: gl.createBuffer(), color: gl.createBuffer(), flag: gl.createBuffer(), index: gl.createBuffer(),
                    path: gl.createBuffer()};
    gl.bindVertexArray(this.points);
    this._attribute(this.buffers.pos, this.attr.a_pos, 2, gl.FLOAT, false);
    this._attribute(this.buffers.color, this.attr.a_color, 4, gl.UNSIGNED_BYTE, true);
    this._attribute(this.buffers.flag, this.attr.a_flag, 1, gl.UNSIGNED_BYTE, false);
    gl.bindBuffer(gl.ELEMENT_ARRAY_BUFFER, this.buffers.index);
    this.line = gl.createVertexArray();
    gl.bindVertexArray(this.line);
    this._attribute(this.buffers.path, this.attr.a_pos, 2, gl.FLOAT, false);
    gl.bindVertexArray(null);
    gl.enable(gl.BLEND);
    gl.blendFunc(gl.SRC_ALPHA, gl.ONE_MINUS_SRC_ALPHA);
    this.n = 0; this.nHighlighted = 0; this.nPath = 0;
  }

  _program(vertex, fragment) {
    const gl = this.gl, program = gl.createProgram();
    for (const [type, source] of [[gl.VERTEX_SHADER, vertex], [gl.FRAGMENT_SHADER, fragment]]) {
      const s = gl.createShader(type);
      gl.shaderSource(s, source);
      gl.compileShader(s);
      if (!gl.getShaderParameter(s, gl.COMPILE_STATUS)) { throw new Error(gl.getShaderInfoLog(s)); }
      gl.attachShader(program, s);
    }
    gl.linkProgram(program);
    if (!gl.getProgramParameter(program, gl.LINK_STATUS)) { throw new Error(gl.getProgramInfoLog(program)); }
    return program;
  }

  _attribute(buffer, location, size, type, normalized) {
    const gl = this.gl;
    gl.bindBuffer(gl.ARRAY_BUFFER, buffer);
    gl.enableVertexAttribArray(location);
    gl.vertexAttribPointer(location, size, type, normalized, 0, 0);
  }

  _upload(buffer, data, target) {
    const gl = this.gl;
    gl.bindBuffer(target || gl.ARRAY_BUFFER, buffer);
    gl.bufferData(target || gl.ARRAY_BUFFER, data, gl.STATIC_DRAW);
  }

  invalidate() { if (this.layer) { this.layer.stale = true; } }
  positions(xy) { this.n = xy.length / 2; this._upload(this.buffers.pos, xy); this.invalidate(); }
  colours(rgba) { this._upload(this.buffers.color, rgba); this.invalidate(); }
  flags(flags, highlighted) {
    this.invalidate();
    this._upload(this.buffers.flag, flags);
    this.gl.bindVertexArray(this.points);
    this._upload(this.buffers.index, highlighted, this.gl.ELEMENT_ARRAY_BUFFER);
    this.gl.bindVertexArray(null);
    this.nHighlighted = highlighted.length;
  }
  path(xy) { this.nPath = xy.length / 2; this._upload(this.buffers.path, xy); this.invalidate(); }

  // Whether the layer can show this view: drawn for this canvas, covering the view, at
  // nearly its scale.
  _serves(view, W, H, ratio) {
    const L = this.layer;
    if (!L || L.stale || L.W !== W || L.H !== H || L.ratio !== ratio) { return false; }
    const r = view.s / L.s;
    if (r > LAYER_SCALE || r < 1 / LAYER_SCALE) { return false; }
    return Math.abs(view.cx - L.cx) + W / ratio / 2 / view.s <= L.width / ratio / 2 / L.s &&
           Math.abs(view.cy - L.cy) + H / ratio / 2 / view.s <= L.height / ratio / 2 / L.s;
  }

  // The layer's texture for a canvas of W x H pixels: a margin of half the canvas on every
  // side (fewer where the GPU's largest texture is smaller), a whole number of pixels, so
  // that a pan shifts it by whole pixels.
  _layerTarget(W, H, ratio) {
    const gl = this.gl, most = gl.getParameter(gl.MAX_TEXTURE_SIZE);
    const w = W + 2 * Math.max(0, Math.min(Math.floor(W / 2), Math.floor((most - W) / 2)));
    const h = H + 2 * Math.max(0, Math.min(Math.floor(H / 2), Math.floor((most - H) / 2)));
    if (!this.layer || this.layer.width !== w || this.layer.height !== h) {
      if (this.layer) { gl.deleteTexture(this.layer.texture); gl.deleteFramebuffer(this.layer.framebuffer); }
      const texture = gl.createTexture();
      gl.bindTexture(gl.TEXTURE_2D, texture);
      gl.texStorage2D(gl.TEXTURE_2D, 1, gl.RGBA8, w, h);
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
      const framebuffer = gl.createFramebuffer();
      gl.bindFramebuffer(gl.FRAMEBUFFER, framebuffer);
      gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, texture, 0);
      if (gl.checkFramebufferStatus(gl.FRAMEBUFFER) !== gl.FRAMEBUFFER_COMPLETE) {
        gl.bindFramebuffer(gl.FRAMEBUFFER, null);
        gl.deleteTexture(texture); gl.deleteFramebuffer(framebuffer);
        this.layer = null;
        return null;
      }
      this.layer = {texture, framebuffer, width: w, height: h};
    }
    return Object.assign(this.layer, {W, H, ratio});
  }

  draw(view, width, height, ratio) {
    const gl = this.gl, W = Math.round(width * ratio), H = Math.round(height * ratio);
    if (!this._serves(view, W, H, ratio)) {
      const L = this.direct ? null : this._layerTarget(W, H, ratio);
      this.layerDraws++;
      if (!L) {                       // no layer to be had: every point, every frame
        this.direct = true;
        gl.bindFramebuffer(gl.FRAMEBUFFER, null);
        this._points(view, width, height, ratio, W, H);
        return;
      }
      gl.bindFramebuffer(gl.FRAMEBUFFER, L.framebuffer);
      this._points(view, L.width / ratio, L.height / ratio, ratio, L.width, L.height);
      Object.assign(L, {cx: view.cx, cy: view.cy, s: view.s, stale: false});
      gl.bindFramebuffer(gl.FRAMEBUFFER, null);
    }
    // The layer's corners in the canvas's clip space.
    const L = this.layer, sx = 2 * view.s / width, sy = 2 * view.s / height;
    const hw = L.width / ratio / 2 / L.s, hh = L.height / ratio / 2 / L.s;
    gl.viewport(0, 0, W, H);
    gl.disable(gl.BLEND);
    gl.useProgram(this.quad);
    gl.bindTexture(gl.TEXTURE_2D, L.texture);
    const filter = view.s === L.s ? gl.NEAREST : gl.LINEAR;
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, filter);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, filter);
    gl.uniform4f(this.quadRect, (L.cx - hw - view.cx) * sx, (L.cy - hh - view.cy) * sy,
                 (L.cx + hw - view.cx) * sx, (L.cy + hh - view.cy) * sy);
    gl.bindVertexArray(this.quadCorners);
    gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
    gl.bindVertexArray(null);
  }

  // Every point (and the path) at ``view``, into a target of width x height CSS pixels.
  _points(view, width, height, ratio, pixelsWide, pixelsHigh) {
    const gl = this.gl;
    gl.viewport(0, 0, pixelsWide, pixelsHigh);
    gl.clearColor(1, 1, 1, 1);
    gl.clear(gl.COLOR_BUFFER_BIT);
    gl.enable(gl.BLEND);
    gl.useProgram(this.program);
    gl.uniform2f(this.loc.u_center, view.cx, view.cy);
    gl.uniform2f(this.loc.u_scale, 2 * view.s / width, 2 * view.s / height);
    gl.uniform1f(this.loc.u_size, ratio * Math.min(9, Math.max(2.5, 2 + Math.log2(view.zoom + 1))));
    gl.uniform1f(this.loc.u_dim, this.nHighlighted ? 1 : 0);
    gl.bindVertexArray(this.points);
    gl.drawArrays(gl.POINTS, 0, this.n);
    if (this.nHighlighted) {            // highlighted points again, on top of the others
      gl.uniform1f(this.loc.u_dim, 0);
      gl.drawElements(gl.POINTS, this.nHighlighted, gl.UNSIGNED_INT, 0);
    }
    if (this.nPath > 1) {
      gl.bindVertexArray(this.line);
      gl.vertexAttrib4f(this.attr.a_color, 0.05, 0.05, 0.05, 1);
      gl.vertexAttrib1f(this.attr.a_flag, 1);
      gl.drawArrays(gl.LINE_STRIP, 0, this.nPath);
    }
    gl.bindVertexArray(null);
  }
}

// -- a grid over the map, for hover, click and box selection --------------------------------------
class Grid {
  constructor(xy) {
    const n = xy.length / 2;
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (let i = 0; i < n; i++) {
      const x = xy[2 * i], y = xy[2 * i + 1];
      if (x < x0) { x0 = x; } if (x > x1) { x1 = x; } if (y < y0) { y0 = y; } if (y > y1) { y1 = y; }
    }
    if (!(x1 > x0)) { x1 = x0 + 1; } if (!(y1 > y0)) { y1 = y0 + 1; }
    this.xy = xy; this.n = n; this.bounds = [x0, y0, x1, y1];
    this.g = Math.max(1, Math.min(1024, Math.ceil(Math.sqrt(n / 3))));
    this.w = (x1 - x0) / this.g; this.h = (y1 - y0) / this.g;
    const start = new Int32Array(this.g * this.g + 1), cell = new Int32Array(n);
    for (let i = 0; i < n; i++) { cell[i] = this._cell(xy[2 * i], xy[2 * i + 1]); start[cell[i] + 1]++; }
    for (let c = 0; c < this.g * this.g; c++) { start[c + 1] += start[c]; }
    const fill = start.slice(0, -1), order = new Uint32Array(n);
    for (let i = 0; i < n; i++) { order[fill[cell[i]]++] = i; }
    this.start = start; this.order = order;
  }
  _col(x) { return Math.min(this.g - 1, Math.max(0, Math.floor((x - this.bounds[0]) / this.w))); }
  _row(y) { return Math.min(this.g - 1, Math.max(0, Math.floor((y - this.bounds[1]) / this.h))); }
  _cell(x, y) { return this._row(y) * this.g + this._col(x); }

  nearest(x, y, radius) {
    let best = -1, bestD = radius * radius;
    for (let r = this._row(y - radius); r <= this._row(y + radius); r++) {
      for (let c = this._col(x - radius); c <= this._col(x + radius); c++) {
        for (let k = this.start[r * this.g + c]; k < this.start[r * this.g + c + 1]; k++) {
          const i = this.order[k], dx = this.xy[2 * i] - x, dy = this.xy[2 * i + 1] - y, d = dx * dx + dy * dy;
          if (d < bestD) { best = i; bestD = d; }
        }
      }
    }
    return best;
  }

  inside(xa, ya, xb, yb) {
    const out = [];
    const [x0, x1] = xa < xb ? [xa, xb] : [xb, xa], [y0, y1] = ya < yb ? [ya, yb] : [yb, ya];
    for (let r = this._row(y0); r <= this._row(y1); r++) {
      for (let c = this._col(x0); c <= this._col(x1); c++) {
        for (let k = this.start[r * this.g + c]; k < this.start[r * this.g + c + 1]; k++) {
          const i = this.order[k], x = this.xy[2 * i], y = this.xy[2 * i + 1];
          if (x >= x0 && x <= x1 && y >= y0 && y <= y1) { out.push(i); }
        }
      }
    }
    return out.sort((a, b) => a - b);
  }
}

// -- the page --------------------------------------------------------------------------------------
class MapPage {
  constructor(canvas) {
    this.canvas = canvas;
    this.stage = canvas.parentElement;
    this.what = canvas.dataset.what;
    this.labelCtx = document.getElementById("map-labels").getContext("2d");
    this.tip = document.getElementById("map-tip");
    this.status = document.getElementById("map-status");
    this.renderer = new Renderer(canvas);
    this.view = {cx: 0, cy: 0, s: 1, zoom: 1};
    this.colourBy = "topic";
    this.highlight = null;           // {kind, value, indices}
    this.focus = -1;
    this.frame = 0;
    canvas.mapView = this;           // for the browser test and the benchmark: screenOf, indexOf, view
  }

  async load() {
    const started = performance.now();
    const get = async (url) => {
      const r = await fetch(url, {credentials: "same-origin"});
      if (!r.ok) {
        const body = await r.json().catch(() => ({}));
        throw new Error((body.error && body.error.message) || "the server answered " + r.status);
      }
      return r;
    };
    // The words or titles come in a request of their own, beside the points: the first
    // frame does not wait for them; labels, tips and search do.
    const texts = get(this.canvas.dataset.textsUrl).then((r) => r.text());
    texts.catch(() => {});
    this.data = parsePoints(await (await get(this.canvas.dataset.pointsUrl)).arrayBuffer());
    this.loadedMs = performance.now() - started;
    const {header} = this.data;
    this.n = header.n;
    this.texts = null;
    this.index = new Map();
    this.topicNames = new Map(header.topics.map((t) => [t.topic, t.name]));
    this.base = this.data.xy;
    this.setPositions(this.base);
    this.renderer.flags(new Uint8Array(this.n), new Uint32Array(0));
    this.colour(this.colourBy);
    this.resize();
    this.fit();
    this.drawNow();
    this.canvas.dataset.points = String(this.renderer.n);
    this.canvas.dataset.firstFrameMs = performance.now().toFixed(1);
    this.status.textContent = "";
    new ResizeObserver(() => { this.resize(); this.draw(); }).observe(this.stage);
    this.textsLoaded = texts.then((t) => {
      this.texts = t.split("\n");
      if (this.what === "words") { this.texts.forEach((w, i) => this.index.set(w, i)); }
      this.canvas.dataset.texts = String(this.texts.length);
      this.canvas.dataset.textsMs = performance.now().toFixed(1);
      this.drawLabels();
    }, (e) => {
      this.status.textContent = "The " + (this.what === "words" ? "words" : "titles") + " could not be loaded: " + e.message;
      this.status.classList.add("error");
    });
  }

  // What point i is (its word or title): "…" until the texts have arrived.
  text(i) { return this.texts ? this.texts[i] : "…"; }

  setPositions(xy) {
    this.xy = xy;
    this.grid = new Grid(xy);
    this.renderer.positions(xy);
  }

  // -- view ---------------------------------------------------------------------------------------
  resize() {
    const r = this.stage.getBoundingClientRect();
    this.width = Math.max(1, r.width); this.height = Math.max(1, r.height);
    this.ratio = window.devicePixelRatio || 1;
    for (const c of [this.canvas, this.labelCtx.canvas]) {
      c.width = Math.round(this.width * this.ratio); c.height = Math.round(this.height * this.ratio);
    }
  }

  fit() {
    const [x0, y0, x1, y1] = this.grid.bounds;
    this.fitS = 0.92 * Math.min(this.width / (x1 - x0), this.height / (y1 - y0));
    this.view = {cx: (x0 + x1) / 2, cy: (y0 + y1) / 2, s: this.fitS, zoom: 1};
  }

  toMap(px, py) {
    return [this.view.cx + (px - this.width / 2) / this.view.s, this.view.cy - (py - this.height / 2) / this.view.s];
  }

  screenOf(i) {
    return [(this.xy[2 * i] - this.view.cx) * this.view.s + this.width / 2,
            this.height / 2 - (this.xy[2 * i + 1] - this.view.cy) * this.view.s];
  }

  indexOf(word) { return this.index.has(word) ? this.index.get(word) : -1; }

  draw() {
    if (!this.frame) { this.frame = requestAnimationFrame(() => { this.frame = 0; this.drawNow(); }); }
  }

  drawNow() {
    const t = performance.now();
    this.view.zoom = this.view.s / this.fitS;
    this.renderer.draw(this.view, this.width, this.height, this.ratio);
    // Reading a pixel back waits for the drawing to end (finish() may return before it).
    if (MEASURE || !this.canvas.dataset.points) {
      const gl = this.renderer.gl;
      gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, PIXEL);
    }
    this.canvas.dataset.drawMs = (performance.now() - t).toFixed(2);
    this.canvas.dataset.layerDraws = String(this.renderer.layerDraws);
    // A zoom shows the layer scaled, its points a little blurred: once the view rests for
    // a moment, the points are drawn again at the new scale.
    clearTimeout(this.settle);
    if (this.renderer.layer && this.renderer.layer.s !== this.view.s) {
      this.settle = setTimeout(() => { this.renderer.invalidate(); this.drawNow(); }, 200);
    }
    this.drawLabels();
    this.canvas.dataset.center = this.view.cx.toFixed(4) + "," + this.view.cy.toFixed(4);
  }

  zoomAt(px, py, factor) {
    const [mx, my] = this.toMap(px, py);
    this.view.s = Math.min(this.fitS * 4000, Math.max(this.fitS * 0.2, this.view.s * factor));
    this.view.cx = mx - (px - this.width / 2) / this.view.s;
    this.view.cy = my + (py - this.height / 2) / this.view.s;
    this.draw();
  }

  flyTo(i, zoom) {
    const from = {...this.view}, to = {cx: this.xy[2 * i], cy: this.xy[2 * i + 1], s: Math.max(from.s, this.fitS * zoom)};
    const t0 = performance.now(), duration = 450;
    return new Promise((done) => {
      const step = (now) => {
        const t = Math.min(1, (now - t0) / duration), e = t * t * (3 - 2 * t);
        const s = Math.exp(Math.log(from.s) + e * (Math.log(to.s) - Math.log(from.s)));
        this.view = {cx: from.cx + e * (to.cx - from.cx), cy: from.cy + e * (to.cy - from.cy), s, zoom: s / this.fitS};
        this.drawNow();
        if (t < 1) { requestAnimationFrame(step); } else { done(); }
      };
      requestAnimationFrame(step);
    });
  }

  // -- labels of the most frequent words in view ----------------------------------------------------
  drawLabels() {
    const ctx = this.labelCtx, r = this.ratio;
    ctx.setTransform(r, 0, 0, r, 0, 0);
    ctx.clearRect(0, 0, this.width, this.height);
    if (this.what !== "words" || !this.texts) { return; }
    ctx.font = "12px system-ui, sans-serif";
    ctx.textBaseline = "middle";
    const taken = new Set(), cw = 70, ch = 16;
    let placed = 0;
    const tryLabel = (i, strong) => {
      const [x, y] = this.screenOf(i);
      if (x < 4 || y < 8 || x > this.width - 40 || y > this.height - 8) { return; }
      const word = this.texts[i], w = Math.min(160, ctx.measureText(word).width);
      const c0 = Math.floor((x + 5) / cw), c1 = Math.floor((x + 5 + w) / cw), row = Math.floor(y / ch);
      for (let c = c0; c <= c1; c++) { if (taken.has(row * 1000 + c)) { return; } }
      for (let c = c0; c <= c1; c++) { taken.add(row * 1000 + c); }
      ctx.lineWidth = 3; ctx.strokeStyle = "rgba(255,255,255,0.85)"; ctx.fillStyle = strong ? "#000" : "#333";
      ctx.strokeText(word, x + 5, y, 160); ctx.fillText(word, x + 5, y, 160);
      placed++;
    };
    const h = this.highlight;
    if (h) { for (let k = 0; k < h.indices.length && placed < 40; k++) { tryLabel(h.indices[k], true); } }
    for (let i = 0; i < this.n && i < 40000 && placed < 70; i++) {
      if (!h || h.set.has(i)) { tryLabel(i, false); }
    }
    this.canvas.dataset.labels = String(placed);
  }

  // -- colours and the legend --------------------------------------------------------------------------
  colour(by) {
    this.colourBy = by;
    const d = this.data, n = this.n, rgba = new Uint8Array(4 * n);
    const codes = by === "topic" ? d.topic : by === "label" ? d.label : by === "date" ? d.date : d.freq;
    const none = by === "topic" || by === "label" ? NONE16 : by === "date" ? NONE8 : -1;
    const categorical = by === "topic" || by === "label";
    for (let i = 0; i < n; i++) {
      const code = codes[i];
      const c = code === none ? GREY : categorical ? PALETTE[code % PALETTE.length] : sequential(code / 254);
      rgba.set(c, 4 * i); rgba[4 * i + 3] = 255;
    }
    this.renderer.colours(rgba);
    this.legend(by, codes, none, categorical);
    this.draw();
  }

  legend(by, codes, none, categorical) {
    const list = document.getElementById("map-legend"), note = document.getElementById("legend-note");
    list.textContent = ""; note.textContent = "";
    const h = this.data.header;
    if (!categorical) {
      const li = el("li"), bar = el("div", null, "map-gradient");
      bar.style.background = "linear-gradient(to right, " + VIRIDIS.map((c) => "rgb(" + c.join(",") + ")").join(", ") + ")";
      const ends = el("div", null, "map-gradient-ends");
      if (by === "date") {
        ends.append(el("span", h.dates ? h.dates[0] : "no dates"), el("span", h.dates ? h.dates[1] : ""));
      } else {
        ends.append(el("span", "1"), el("span", h.frequency.max.toLocaleString() + " " + h.frequency.of + " (log scale)"));
      }
      li.append(bar, ends); list.appendChild(li);
      return;
    }
    const counts = new Map();
    for (let i = 0; i < this.n; i++) { counts.set(codes[i], (counts.get(codes[i]) || 0) + 1); }
    const entries = by === "topic" ? h.topics.map((t) => [t.topic, t.topic + " · " + t.name])
                                   : h.labels.map((name, k) => [k, name]);
    if (by === "topic" && !h.topics.length) { note.textContent = "No LDA model of this corpus yet: every point is grey."; }
    for (const [code, name] of entries.concat(counts.has(none) ? [[none, by === "topic" ? "no topic" : "no label"]] : [])) {
      const b = el("button");
      b.type = "button";
      b.dataset.code = String(code);
      b.setAttribute("aria-pressed", String(!!(this.highlight && this.highlight.kind === by && this.highlight.value === code)));
      const swatch = el("span", null, "swatch");
      const c = code === none ? GREY : PALETTE[code % PALETTE.length];
      swatch.style.background = "rgb(" + c.join(",") + ")";
      b.append(swatch, el("span", name, "name"), el("span", (counts.get(code) || 0).toLocaleString(), "count"));
      b.title = "highlight these " + this.what;
      b.addEventListener("click", () => {
        const on = this.highlight && this.highlight.kind === by && this.highlight.value === code;
        if (on) { this.clearHighlight(); } else { this.highlightCode(by, code); }
      });
      const li = el("li"); li.appendChild(b); list.appendChild(li);
    }
    if (by === "topic" && this.canvas.dataset.topicsUrl) {
      const a = el("a", "the topics page");
      a.href = this.canvas.dataset.topicsUrl;
      note.append("Topics of LDA model " + h.lda_model_id + (this.what === "words"
        ? ": a word's is its most probable one (grey: a word the model does not use). See "
        : ": a document's is its largest share. See "), a, ".");
    }
  }

  // -- highlighting ----------------------------------------------------------------------------------
  setHighlight(kind, value, indices) {
    const flags = new Uint8Array(this.n);
    for (const i of indices) { flags[i] = 1; }
    if (this.focus >= 0) { flags[this.focus] = 2; }
    const all = this.focus >= 0 && !flags[this.focus] ? [...indices, this.focus] : indices;
    this.renderer.flags(flags, Uint32Array.from(all));
    this.highlight = indices.length || this.focus >= 0 ? {kind, value, indices, set: new Set(indices)} : null;
    this.canvas.dataset.highlighted = String(indices.length);
    this.canvas.dataset.highlight = kind ? kind + ":" + value : "";
    document.querySelectorAll("#map-legend button").forEach((b) =>
      b.setAttribute("aria-pressed", String(kind === this.colourBy && String(value) === b.dataset.code)));
    this.draw();
  }

  highlightCode(by, code) {
    const codes = by === "topic" ? this.data.topic : this.data.label, out = [];
    for (let i = 0; i < this.n; i++) { if (codes[i] === code) { out.push(i); } }
    this.setHighlight(by, code, out);
  }

  highlightTopic(k) {
    if (this.colourBy !== "topic") { document.getElementById("map-colour").value = "topic"; this.colour("topic"); }
    this.highlightCode("topic", k);
  }

  clearHighlight() { this.focus = -1; this.setHighlight(null, null, []); }

  // -- hover, click, selection ---------------------------------------------------------------------------
  pick(px, py) {
    const [mx, my] = this.toMap(px, py);
    return this.grid.nearest(mx, my, 7 / this.view.s);
  }

  describe(i) {
    const d = this.data, topic = d.topic[i];
    const topicLine = topic === NONE16 ? "no topic" : "topic " + topic + " · " + (this.topicNames.get(topic) || "");
    if (this.what === "words") { return [this.text(i), topicLine]; }
    const label = d.label[i] === NONE16 ? "" : d.header.labels[d.label[i]] + " · ";
    return [this.text(i), label + topicLine];
  }

  showTip(i, px, py) {
    if (i < 0) { this.tip.hidden = true; this.canvas.classList.remove("pointing"); return; }
    const [title, sub] = this.describe(i);
    this.tip.textContent = "";
    this.tip.append(title, el("span", sub, "sub"));
    this.tip.hidden = false;
    this.tip.dataset.index = String(i);
    const left = Math.min(px + 12, this.width - this.tip.offsetWidth - 4), top = py > 40 ? py - this.tip.offsetHeight - 8 : py + 14;
    this.tip.style.left = Math.max(4, left) + "px";
    this.tip.style.top = Math.max(4, top) + "px";
    this.canvas.classList.add("pointing");
  }

  async choose(i) {
    this.focus = i;
    const box = document.getElementById("map-point");
    box.textContent = "";
    box.appendChild(el("p", this.text(i), "muted"));
    const c = this.canvas.dataset;
    let info;
    try {
      info = await api(c.infoUrl + i + "?method=" + encodeURIComponent(c.method));
    } catch (e) { box.textContent = e.message; return; }
    box.textContent = "";
    if (this.what === "words") {
      box.appendChild(el("h3", info.word));
      box.appendChild(el("p", info.frequency.toLocaleString() + " occurrences", "small muted"));
    } else {
      const h = el("h3"), a = el("a", info.title || info.doc_key);
      a.href = c.documentUrl + info.position;
      h.appendChild(a);
      box.appendChild(h);
      box.appendChild(el("p", [info.label, info.date, "document " + info.position].filter(Boolean).join(" · "), "small muted"));
    }
    if (info.topics.length) {
      const p = el("p", "Topics: ", "map-topics small");
      info.topics.forEach((t, k) => {
        const b = el("button", t.topic + " · " + t.name + " (" + Math.round(100 * t.weight) + "%)", "btn-small btn-quiet");
        b.type = "button";
        b.addEventListener("click", () => this.highlightTopic(t.topic));
        if (k) { p.append(" "); }
        p.appendChild(b);
      });
      box.appendChild(p);
    }
    box.appendChild(el("p", "Nearest " + this.what + ":", "small"));
    const list = el("ol", null, "map-point-list");
    for (const nb of info.neighbours) {
      const li = el("li"), b = el("button", nb.word || nb.title);
      b.type = "button";
      b.addEventListener("click", () => this.flyTo(nb.index, this.view.zoom).then(() => this.choose(nb.index)));
      li.append(b, el("span", nb.similarity.toFixed(3), "sim"));
      list.appendChild(li);
    }
    box.appendChild(list);
    this.setHighlight("neighbours", i, info.neighbours.map((nb) => nb.index));
  }

  select(indices) {
    const box = document.getElementById("map-selection");
    box.textContent = "";
    if (!indices.length) { box.appendChild(el("p", "No " + this.what + " in that box.", "muted small")); this.clearHighlight(); return; }
    box.appendChild(el("p", indices.length.toLocaleString() + " " + this.what + " selected; their topics:", "small"));
    const counts = new Map();
    for (const i of indices) { counts.set(this.data.topic[i], (counts.get(this.data.topic[i]) || 0) + 1); }
    const bars = el("div", null, "bars");
    for (const [k, c] of [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, 6)) {
      const bar = el("div", null, "bar"), fill = el("span");
      fill.style.width = (100 * c / indices.length).toFixed(1) + "%";
      bar.appendChild(fill);
      bars.append(el("span", k === NONE16 ? "no topic" : k + " · " + (this.topicNames.get(k) || ""), "bar-label small"), bar,
                  el("span", Math.round(100 * c / indices.length) + "%", "bar-value small"));
    }
    box.appendChild(bars);
    const list = el("ol", null, "map-point-list");
    for (const i of indices.slice(0, 100)) { list.appendChild(el("li", this.text(i))); }
    box.appendChild(list);
    if (indices.length > 100) { box.appendChild(el("p", "… and " + (indices.length - 100).toLocaleString() + " more", "small muted")); }
    this.focus = -1;
    this.setHighlight("selection", indices.length, indices);
  }

  async find(q) {
    q = q.trim();
    if (!q) { return -1; }
    await this.textsLoaded;
    if (!this.texts) { return -1; }
    if (this.what === "words") {
      const exact = this.indexOf(q) >= 0 ? this.indexOf(q) : this.indexOf(q.toLowerCase().replace(/\s+/g, "_"));
      if (exact >= 0) { return exact; }
      const low = q.toLowerCase();
      return this.texts.findIndex((w) => w.startsWith(low));
    }
    const low = q.toLowerCase();
    return this.texts.findIndex((t) => t.toLowerCase().includes(low));
  }
}

// -- events ----------------------------------------------------------------------------------------
function wire(page) {
  const canvas = page.canvas, box = document.getElementById("map-box");
  let drag = null;
  canvas.tabIndex = 0;
  canvas.addEventListener("pointerdown", (ev) => {
    canvas.setPointerCapture(ev.pointerId);
    drag = {x: ev.offsetX, y: ev.offsetY, cx: page.view.cx, cy: page.view.cy, box: ev.shiftKey, moved: false};
    if (!drag.box) { canvas.classList.add("panning"); }
  });
  canvas.addEventListener("pointermove", (ev) => {
    if (!drag) { page.showTip(page.pick(ev.offsetX, ev.offsetY), ev.offsetX, ev.offsetY); return; }
    const dx = ev.offsetX - drag.x, dy = ev.offsetY - drag.y;
    drag.moved = drag.moved || Math.abs(dx) + Math.abs(dy) > 3;
    if (drag.box) {
      Object.assign(box.style, {left: Math.min(drag.x, ev.offsetX) + "px", top: Math.min(drag.y, ev.offsetY) + "px",
                                width: Math.abs(dx) + "px", height: Math.abs(dy) + "px"});
      box.hidden = false;
    } else if (drag.moved) {
      page.tip.hidden = true;
      page.view.cx = drag.cx - dx / page.view.s;
      page.view.cy = drag.cy + dy / page.view.s;
      page.draw();
    }
  });
  canvas.addEventListener("pointerup", (ev) => {
    canvas.classList.remove("panning");
    const d = drag;
    drag = null;
    if (!d) { return; }
    if (d.box && d.moved) {
      box.hidden = true;
      const [xa, ya] = page.toMap(d.x, d.y), [xb, yb] = page.toMap(ev.offsetX, ev.offsetY);
      page.select(page.grid.inside(xa, ya, xb, yb));
    } else if (!d.moved) {
      const i = page.pick(ev.offsetX, ev.offsetY);
      if (i >= 0) { page.choose(i); } else { page.clearHighlight(); }
    }
  });
  canvas.addEventListener("dblclick", (ev) => {
    const i = page.pick(ev.offsetX, ev.offsetY);
    if (i >= 0 && page.what === "documents") { location.href = canvas.dataset.documentUrl + i; }
  });
  canvas.addEventListener("pointerleave", () => { page.tip.hidden = true; });
  canvas.addEventListener("wheel", (ev) => {
    ev.preventDefault();
    page.zoomAt(ev.offsetX, ev.offsetY, Math.exp(-ev.deltaY * (ev.deltaMode ? 0.05 : 0.0015)));
  }, {passive: false});
  canvas.addEventListener("keydown", (ev) => {
    const step = 60 / page.view.s, keys = {
      "+": () => page.zoomAt(page.width / 2, page.height / 2, 1.4), "-": () => page.zoomAt(page.width / 2, page.height / 2, 1 / 1.4),
      ArrowLeft: () => { page.view.cx -= step; }, ArrowRight: () => { page.view.cx += step; },
      ArrowUp: () => { page.view.cy += step; }, ArrowDown: () => { page.view.cy -= step; },
      "0": () => page.fit(), Escape: () => page.clearHighlight()};
    if (keys[ev.key]) { ev.preventDefault(); keys[ev.key](); page.draw(); }
  });
  document.getElementById("map-colour").addEventListener("change", (ev) => {
    page.colour(ev.target.value);
    if (page.highlight && ["topic", "label"].includes(page.highlight.kind)) { page.clearHighlight(); }
  });
  const search = document.getElementById("map-search");
  search.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const q = search.elements.q.value, i = await page.find(q);
    if (i < 0) { say(search, "not on this map: " + q, true); return; }
    say(search, "");
    canvas.dataset.focus = page.texts[i];
    page.flyTo(i, 6).then(() => {
      const [x, y] = page.screenOf(i);
      page.showTip(i, x, y);
      page.choose(i);
    });
  });
}

// -- semantic axes and the interpolation path (the word map) -----------------------------------------
async function scores(page, from, to) {
  const c = page.canvas.dataset;
  const q = new URLSearchParams({from, to, format: "float32", model: c.model});
  const r = await fetch(c.axisUrl + "?" + q, {credentials: "same-origin"});
  if (!r.ok) {
    const body = await r.json().catch(() => ({}));
    throw new Error((body.error && body.error.message) || "the server answered " + r.status);
  }
  return new Float32Array(await r.arrayBuffer());
}

function wireAxes(page) {
  const form = document.getElementById("map-axis");
  if (!form) { return; }
  const reset = document.getElementById("axis-reset"), names = document.getElementById("map-axis-names");
  const ends = document.getElementById("axis-ends");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = form.elements, two = f.from2.value.trim() && f.to2.value.trim();
    say(form, "…");
    try {
      const x = await scores(page, f.from.value, f.to.value), y = two ? await scores(page, f.from2.value, f.to2.value) : null;
      const base = page.base, [, y0, , y1] = new Grid(base).bounds, xy = new Float32Array(2 * page.n);
      for (let i = 0; i < page.n; i++) {
        xy[2 * i] = x[i];
        xy[2 * i + 1] = y ? y[i] : -1 + 2 * (base[2 * i + 1] - y0) / (y1 - y0);
      }
      page.setPositions(xy);
      page.fit();
      page.draw();
      names.hidden = false;
      const [xf, xt, yf, yt] = names.children;
      xf.textContent = "← " + f.from.value; xt.textContent = f.to.value + " →";
      yf.textContent = two ? "↓ " + f.from2.value : ""; yt.textContent = two ? "↑ " + f.to2.value : "";
      reset.disabled = false;
      ends.textContent = "";
      const order = Array.from(x.keys()).sort((a, b) => x[b] - x[a]);
      for (const [title, part] of [[f.to.value + " end", order.slice(0, 8)], [f.from.value + " end", order.slice(-8).reverse()]]) {
        const col = el("div");
        col.appendChild(el("h3", title));
        const list = el("ol", null, "map-point-list");
        for (const i of part) { list.appendChild(el("li", page.texts[i] + " " + x[i].toFixed(2))); }
        col.appendChild(list);
        ends.appendChild(col);
      }
      say(form, "x: cosine with the axis" + (two ? "; y: the second axis" : "; y: the map's"));
      page.canvas.dataset.layout = "axes";
    } catch (e) { say(form, e.message, true); }
  });
  reset.addEventListener("click", () => {
    page.setPositions(page.base);
    page.fit(); page.draw();
    names.hidden = true; reset.disabled = true; ends.textContent = "";
    page.canvas.dataset.layout = "map";
    say(form, "");
  });
}

function wirePath(page) {
  const form = document.getElementById("map-path");
  if (!form) { return; }
  const list = document.getElementById("path-steps-list");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = form.elements, c = page.canvas.dataset;
    say(form, "…");
    try {
      const q = new URLSearchParams({from: f.from.value, to: f.to.value, steps: f.steps.value, topn: 3, model: c.model});
      const r = await api(c.interpolateUrl + "?" + q);
      const chosen = r.steps.map((s) => s.words[0].index);
      const xy = new Float32Array(2 * chosen.length);
      chosen.forEach((i, k) => { xy[2 * k] = page.xy[2 * i]; xy[2 * k + 1] = page.xy[2 * i + 1]; });
      page.renderer.path(xy);
      page.focus = -1;
      page.setHighlight("path", r.from + "→" + r.to, [...new Set(r.steps.flatMap((s) => s.words.map((w) => w.index)))]);
      list.textContent = "";
      for (const s of r.steps) { list.appendChild(el("li", s.t.toFixed(2) + ": " + s.words.map((w) => w.word).join(", "))); }
      say(form, "the path joins each step's nearest word");
    } catch (e) { say(form, e.message, true); }
  });
}

// -- a model without its map yet ----------------------------------------------------------------------
function wireMakeMap() {
  const form = document.getElementById("make-map");
  if (!form) { return; }
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const button = form.querySelector("button");
    button.disabled = true;
    api(form.dataset.api, {method: "POST", headers: {"Content-Type": "application/json"},
                           body: JSON.stringify({what: form.dataset.what, params: {method: form.elements.method.value}})})
      .then((job) => follow(job, (j) => say(form, "job " + j.id + " " + j.status + ": " + (j.progress.message || "")), (j) => {
        if (j.status === "finished") { location.reload(); } else { button.disabled = false; say(form, j.error || j.status, true); }
      }))
      .catch((e) => { button.disabled = false; say(form, e.message, true); });
  });
}

async function main() {
  wireMakeMap();
  const canvas = document.getElementById("map-canvas");
  if (!canvas) { return; }
  let page;
  try {
    page = new MapPage(canvas);
    await page.load();
  } catch (e) {
    const status = document.getElementById("map-status");
    status.textContent = "The map could not be drawn: " + e.message;
    status.classList.add("error");
    return;
  }
  wire(page);
  wireAxes(page);
  wirePath(page);
  const topic = canvas.dataset.topic;
  if (topic !== "" && !isNaN(+topic)) { page.highlightTopic(+topic); }
}

main();
