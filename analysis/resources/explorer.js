// The explorer page's callbacks (analysis/plots/explorer.py reads this file: one section per
// CustomJS, each after a line `// ---- <name>`; the prelude is prepended to every callback).
// ---- prelude
const AL = JSON.parse(aliases);
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
const shown = (s) => String(s).replace(/_/g, " ");
// The filters keep or drop whole cells (language, outlet, event, day: analysis.stages.explore.filter_cells);
// a document is kept when its cell is (docs.data.cell).
function cell_mask() {
  const C = cells.data, n = C.lang.length, mask = new Uint8Array(n);
  const outl = new Set(outlet_filter ? outlet_filter.value.map(Number) : []);
  const evs = new Set(event_filter ? event_filter.value.map(Number) : []);
  let lo = -Infinity, hi = Infinity, narrowed = false;
  if (date_filter) {
    lo = date_filter.value[0]; hi = date_filter.value[1] + 86399999;
    narrowed = date_filter.value[0] > date_filter.start || date_filter.value[1] < date_filter.end;
  }
  for (let c = 0; c < n; c++) {
    if (outl.size && !outl.has(C.outlet[c])) continue;
    if (evs.size && !evs.has(C.event[c])) continue;
    const day = C.day[c];
    if (narrowed && (!(day >= lo) || day > hi)) continue;
    mask[c] = 1;
  }
  return mask;
}
function norm(q) {
  q = String(q).normalize("NFC").replace(/\u00d0/g, "\u0110").replace(/\u00f0/g, "\u0111").toLowerCase().trim();
  const parts = q.split(/[\s_]+/).filter((p) => p.length);
  return parts.map((p) => (p in AL ? AL[p] : p)).join("_");
}
function line_html(L, k, D) {
  const d = L.doc[k];
  const id = esc(D.doc_id[d]);
  const link = D.url[d] ? `<a href="${esc(D.url[d])}" target="_blank" rel="noopener noreferrer">${id}</a>` : `<b>${id}</b>`;
  const meta = [D.outlet_name[d], D.date[d]].filter((x) => x).map(esc).join(" · ");
  const title = D.title[d] ? ` title="${esc(D.title[d])}"` : "";
  return `<div class="vx-line" data-doc="${id}" lang="${esc(L.language[k])}"${title}><span class="vx-meta">${link} ${meta}</span><br>` +
    `${esc(shown(L.left[k]))} <mark>${esc(shown(L.keyword[k]))}</mark> ${esc(shown(L.right[k]))}</div>`;
}
function item_rates(i) {
  // per cell, the sum over its documents of one item's hits per 100 sentences
  const C = cells.data, H = hits.data;
  const value = new Float64Array(C.lang.length);
  for (let k = 0; k < H.item.length; k++) {
    if (H.item[k] === i) value[H.cell[k]] = H.rate_sum[k];
  }
  return value;
}
function monthly(value, mask) {
  // per month and language: documents kept, or (value given) the mean over them of the item's rate
  const C = cells.data, months = new Map();
  let first = Infinity, last = -Infinity;
  for (let c = 0; c < C.lang.length; c++) {
    if (!mask[c] || !(C.day[c] >= -Infinity) || C.lang[c] > 1) continue;
    const t = new Date(C.day[c]), m = t.getUTCFullYear() * 12 + t.getUTCMonth();
    first = Math.min(first, m); last = Math.max(last, m);
    const key = m * 2 + C.lang[c];
    const acc = months.get(key) || [0, 0];
    acc[0] += value ? value[c] : C.docs[c]; acc[1] += C.docs[c]; months.set(key, acc);
  }
  const out = [{x: [], y: []}, {x: [], y: []}];
  for (let m = first; m <= last; m++) {
    for (let l = 0; l < 2; l++) {
      const acc = months.get(m * 2 + l);
      out[l].x.push(Date.UTC(Math.floor(m / 12), m % 12, 1));
      out[l].y.push(acc ? (value ? acc[0] / acc[1] : acc[0]) : NaN);
    }
  }
  return out;
}
function show_time(i, mask) {
  if (!time_vi) return;
  const value = i === null ? null : item_rates(i);
  const out = monthly(value, mask);
  time_vi.data = {x: out[0].x, y: out[0].y};
  time_en.data = {x: out[1].x, y: out[1].y};
  time_plot.title.text = i === null ? "Documents per month by language (click a point for its rate over time)"
    : `${items.data.label[i]}: mean hits per 100 sentences per month (filters apply)`;
}
function show_item(i, mask) {
  const I = items.data, D = docs.data, L = lines.data, P = patterns.data;
  const fmt = (x, n) => (Number.isFinite(x) ? x.toFixed(n) : "–");
  let out = `<div style="font-family:${font};font-size:13px"><b style="font-size:15px">${esc(I.label[i])}</b> <span class="vx-meta">${esc(I.kind[i])} · ${esc(I.evidence[i])}</span>`;
  out += `<div>vi ${fmt(I.rate_vi[i], 2)} (${I.hits_vi[i]} hits, ${I.docs_hit_vi[i]} of ${I.docs_vi[i]} documents) · en ${fmt(I.rate_en[i], 2)} (${I.hits_en[i]} hits, ${I.docs_hit_en[i]} of ${I.docs_en[i]} documents) per 100 sentences</div>`;
  out += `<div class="vx-meta">whole study: p ${fmt(I.p[i], 3)}, q ${fmt(I.q[i], 3)} (${esc(I.unit[i])}); translations: ${esc(I.equivalence[i])}${Number.isFinite(I.ratio[i]) ? ` (vi/en ${fmt(I.ratio[i], 2)}, 90% ${fmt(I.ratio_low[i], 2)}–${fmt(I.ratio_high[i], 2)})` : ""}</div>`;
  let cols = "";
  for (const lang of ["vi", "en"]) {
    let pats = "";
    for (let k = 0; k < P.item.length; k++) {
      if (P.item[k] === i && P.language[k] === lang) pats += `<tr><td>${esc(P.pattern[k])}</td><td>${P.hits[k]}</td><td>${(100 * P.share[k]).toFixed(0)}%</td></tr>`;
    }
    let shown_lines = "", total = 0, kept = 0;
    for (let k = 0; k < L.item.length; k++) {
      if (L.item[k] !== i || L.language[k] !== lang) continue;
      total++;
      if (!mask[D.cell[L.doc[k]]]) continue;
      kept++;
      shown_lines += line_html(L, k, D);
    }
    cols += `<div class="vx-side-${lang}"><b>${lang === "vi" ? "Vietnamese" : "English"}</b>` +
      `<table class="vx-pat"><tr><th>pattern</th><th>hits</th><th>share</th></tr>${pats}</table>` +
      `<div class="vx-meta">${kept} of ${total} sampled lines (filters apply)</div>${shown_lines || "<i>no line</i>"}</div>`;
  }
  detail.text = out + `<div class="vx-kwic">${cols}</div></div>`;
}
// ---- update
// an item's rate in a language = (sum over kept cells of its rate sums) / (documents in kept cells)
const mask = cell_mask();
const C = cells.data, I = items.data, H = hits.data, m = I.key.length;
const n = [0, 0], total = [0, 0];
for (let c = 0; c < C.lang.length; c++) { if (C.lang[c] < 2) { total[C.lang[c]] += C.docs[c]; if (mask[c]) n[C.lang[c]] += C.docs[c]; } }
const sum = [new Float64Array(m), new Float64Array(m)], h = [new Int32Array(m), new Int32Array(m)], dh = [new Int32Array(m), new Int32Array(m)];
for (let k = 0; k < H.item.length; k++) {
  const c = H.cell[k];
  if (!mask[c]) continue;
  const l = C.lang[c];
  if (l > 1) continue;
  const i = H.item[k];
  sum[l][i] += H.rate_sum[k]; h[l][i] += H.hits[k]; dh[l][i] += H.docs_hit[k];
}
const data = Object.assign({}, I);
const rv = new Float64Array(m), re = new Float64Array(m);
let floor = Infinity;
for (let i = 0; i < m; i++) {
  rv[i] = n[0] ? sum[0][i] / n[0] : NaN; re[i] = n[1] ? sum[1][i] / n[1] : NaN;
  if (rv[i] > 0) floor = Math.min(floor, rv[i]);
  if (re[i] > 0) floor = Math.min(floor, re[i]);
}
floor = Number.isFinite(floor) ? floor / 2 : 0.01;
const x = new Float64Array(m), y = new Float64Array(m);
for (let i = 0; i < m; i++) { x[i] = rv[i] > 0 ? rv[i] : floor; y[i] = re[i] > 0 ? re[i] : floor; }
Object.assign(data, {rate_vi: rv, rate_en: re, x: x, y: y, hits_vi: h[0], hits_en: h[1], docs_hit_vi: dh[0], docs_hit_en: dh[1],
  docs_vi: new Int32Array(m).fill(n[0]), docs_en: new Int32Array(m).fill(n[1])});
items.data = data;
counts.text = `<span class="vx-counts" data-vi="${n[0]}" data-en="${n[1]}">documents kept: vi ${n[0]} of ${total[0]}, en ${n[1]} of ${total[1]}</span>`;
const sel = items.selected.indices;
show_item_or_none(sel.length ? sel[0] : null, mask);
// ---- show
function show_item_or_none(i, mask) {
  if (i === null || i === undefined) { show_time(null, mask); return; }
  show_item(i, mask);
  show_time(i, mask);
  if (items.data.kind[i] === "frame" && frame_select.value !== items.data.key[i]) frame_select.value = items.data.key[i];
}
// ---- tap
const sel = items.selected.indices;
show_item_or_none(sel.length ? sel[0] : null, cell_mask());
// ---- search
const q = norm(search.value_input);
const I = items.data, L = lines.data, D = docs.data;
if (!q) { results.text = ""; return; }
const found = [];
for (let i = 0; i < I.key.length; i++) {
  if (I.search[i].split(" ").some((key) => ("_" + key + "_").includes("_" + q + "_"))) found.push(i);
}
const parts = q.split("_");
let lines_html = "", n = 0;
const mask = cell_mask(), seen = new Set();
for (let k = 0; k < L.item.length; k++) {
  if (!mask[D.cell[L.doc[k]]]) continue;
  // the sampled line's tokens, in the text's canonical form: a match is one token equal to the
  // query (kinh_tế) or a run of tokens equal to its words (United States)
  const toks = (L.left[k] + " " + L.keyword[k] + " " + L.right[k]).split(" ").filter((t) => t.length);
  const low = toks.map((t) => t.toLowerCase()), marked = new Uint8Array(toks.length);
  let hit = false;
  for (let t = 0; t < toks.length; t++) {
    if (low[t] === q) { marked[t] = 1; hit = true; continue; }
    if (parts.length > 1 && parts.every((p, j) => low[t + j] === p)) { parts.forEach((_, j) => (marked[t + j] = 1)); hit = true; }
  }
  const text = toks.join(" ");
  if (!hit || seen.has(L.doc[k] + "\u0001" + text)) continue;
  seen.add(L.doc[k] + "\u0001" + text);
  n++;
  if (n > 40) continue;
  const d = L.doc[k];
  const shown_text = toks.map((t, j) => (marked[j] ? `<mark>${esc(shown(t))}</mark>` : esc(shown(t)))).join(" ");
  const meta = [D.outlet_name[d], D.date[d]].filter((x) => x).map(esc).join(" · ");
  lines_html += `<div class="vx-line" lang="${esc(L.language[k])}"><span class="vx-meta"><b>${esc(D.doc_id[d])}</b> ${meta}</span><br>${shown_text}</div>`;
}
const names = found.map((i) => `<b>${esc(I.label[i])}</b> <span class="vx-meta">(${esc(I.kind[i])})</span>`).join(", ");
results.text = `<div class="vx-search" data-items="${found.length}" data-lines="${n}" style="font-family:${font};font-size:13px">` +
  `<b>${esc(shown(q))}</b>: ${found.length} concept(s) or frame(s) ${names ? "— " + names : ""}; ${n} sampled line(s)` +
  `${n > 40 ? " (first 40 shown)" : ""}${lines_html}</div>`;
if (found.length) items.selected.indices = found;
// ---- frame
const G = groups.data, key = frame_select.value.split(":").slice(1).join(":");
const names = Object.fromEntries(frame_select.options);
const y = [], mean = [], low = [], high = [], colour = [], note = [], nd = [], dh = [];
for (let k = 0; k < G.item.length; k++) {
  if (G.item[k] !== key) continue;
  y.push(G.label[k]); mean.push(G.mean[k]); low.push(G.ci_low[k]); high.push(G.ci_high[k]);
  colour.push(G.colour[k]); note.push(G.note[k]); nd.push(G.n_docs[k]); dh.push(G.docs_with_hits[k]);
}
frame_rows.data = {y: y, mean: mean, ci_low: low, ci_high: high, colour: colour, note: note, n_docs: nd, docs_with_hits: dh};
frame_plot.title.text = "Frame by language and outlet (whole study, 95% intervals): " + names[frame_select.value];
