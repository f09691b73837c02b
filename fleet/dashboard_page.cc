// The dashboard page: static HTML + JS, every resource inline (devices and operators may be
// offline from the internet), reading only the service's JSON API.
#include "fleet/dashboard.h"

namespace tinyforge::fleet {

const char* dashboard_page() {
  return R"html(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tinyforge fleet</title>
<style>
body{font:14px system-ui,sans-serif;margin:20px;color:#222;background:#fafafa}
h1{font-size:20px;margin:0 0 12px} h2{font-size:15px;margin:18px 0 6px}
.cards{display:flex;gap:12px;flex-wrap:wrap}
.card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:10px 14px;min-width:120px}
.card b{display:block;font-size:22px}
table{border-collapse:collapse;background:#fff;font-size:13px}
td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}
th{background:#f0f0f0} td:first-child,th:first-child{text-align:left}
.alarm{color:#a00} svg{background:#fff;border:1px solid #ddd}
</style></head><body>
<h1>tinyforge fleet</h1>
<div class="cards">
 <div class="card">devices<b id="device-count">-</b></div>
 <div class="card">records stored<b id="record-count">-</b></div>
 <div class="card">messages refused<b id="refused-count">-</b></div>
 <div class="card">alarms<b id="alarm-count">-</b></div>
 <div class="card">database<b id="engine">-</b></div>
</div>
<h2>Devices by model version</h2><table id="by-model"></table>
<h2>Trends per minute</h2>
<svg id="latency" width="460" height="140"></svg> <svg id="errors" width="460" height="140"></svg>
<h2>Alarms</h2><table id="alarms"></table>
<h2>Refused messages</h2><table id="refused"></table>
<h2>Devices</h2><table id="devices"></table>
<h2>Rollout audit log</h2><table id="audit"></table>
<script>
"use strict";
function cell(row, text, tag) {
  const c = document.createElement(tag || "td"); c.textContent = text; row.appendChild(c);
}
function fill(id, header, rows) {
  const t = document.getElementById(id); t.textContent = "";
  const h = t.insertRow(); header.forEach(x => cell(h, x, "th"));
  rows.forEach(r => { const tr = t.insertRow(); r.forEach(x => cell(tr, x)); });
}
function line(id, points, label) {
  const svg = document.getElementById(id), w = 460, h = 140, pad = 24;
  const max = Math.max(1, ...points);
  const xy = points.map((v, i) => [pad + i * (w - 2 * pad) / Math.max(1, points.length - 1),
                                   h - pad - v * (h - 2 * pad) / max]);
  svg.innerHTML = '<text x="6" y="14" font-size="12">' + label + ' (max ' +
    max.toLocaleString() + ')</text><polyline fill="none" stroke="#36c" stroke-width="2" ' +
    'points="' + xy.map(p => p.join(",")).join(" ") + '"/>';
}
async function get(path) {
  const r = await fetch(path);
  if (!r.ok) throw new Error(path + ": HTTP " + r.status);
  return r.json();
}
async function refresh() {
  const [s, devices, trends, audit] = await Promise.all(
      [get("/api/summary"), get("/api/devices"), get("/api/trends"), get("/api/audit")]);
  document.getElementById("device-count").textContent = s.devices;
  document.getElementById("record-count").textContent = s.records;
  document.getElementById("refused-count").textContent = s.refused_total;
  document.getElementById("alarm-count").textContent = s.alarms.length;
  document.getElementById("engine").textContent = s.engine;
  fill("by-model", ["model version", "devices"], Object.entries(s.by_model));
  fill("alarms", ["device", "kind", "value"],
       s.alarms.map(a => [a.device_id, a.kind, Number(a.value).toFixed(3)]));
  fill("refused", ["reason", "messages"], Object.entries(s.refused));
  fill("devices", ["device", "model", "boots", "updates", "rollbacks", "inferences", "errors",
                   "drift"],
       devices.map(d => [d.device_id, d.model, d.boot_count, d.update_count, d.rollback_count,
                         d.inferences, d.errors, d.drift === null ? "" : d.drift.toFixed(2)]));
  fill("audit", ["when", "who", "what", "detail"],
       audit.map(e => [new Date(e.at_ms).toISOString(), e.actor, e.action, e.detail]));
  line("latency", trends.map(t => t.latency_p50), "latency p50 (cycles)");
  line("errors", trends.map(t => t.errors / Math.max(1, t.inferences)), "errors per inference");
  document.body.dataset.loaded = "yes";
}
refresh().catch(e => console.error(e));
setInterval(() => refresh().catch(e => console.error(e)), 5000);
</script></body></html>
)html";
}

}  // namespace tinyforge::fleet
