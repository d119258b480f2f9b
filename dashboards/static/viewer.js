// baocao viewer: fetch /dashboards/<uid>/data and draw each panel; refresh without reload.
"use strict";
(function () {
  const boot = JSON.parse(document.getElementById("boot").textContent);
  let lang = boot.lang;
  let last = null;
  window.baocaoRefreshes = 0;

  const label = (col) => (boot.labels[col] ? boot.labels[col][lang === "en" ? 1 : 0] : col);
  const t = (vi, en) => (lang === "en" ? en : vi);

  function applyLang() {
    document.documentElement.lang = lang;
    document.querySelectorAll("[data-vi]").forEach((el) => {
      el.textContent = el.dataset[lang] || el.dataset.vi;
    });
    const url = new URL(window.location.href);
    url.searchParams.set("lang", lang);
    window.history.replaceState(null, "", url);
    if (last) render(last);
  }

  function dataUrl() {
    const url = new URL(window.location.href);
    url.pathname = boot.dataPath;
    url.searchParams.delete("lang");
    return url.toString();
  }

  // A banded value (a level 1-4): its band, the "missing" band for null. Every band has a
  // name, so nothing is told by colour alone.
  function band(bands, v) {
    if (v === null || v === undefined || v === "") return bands.missing;
    return bands.values.find((b) => b.value === String(v)) || bands.missing;
  }
  const bandName = (b) => (lang === "en" ? b.name_en : b.name_vi);
  const bandCell = (b, text) => `<td class="band" style="background:${esc(b.colour)}" title="${esc(bandName(b))}">${esc(text)}</td>`;

  function table(cols, rows, bands) {
    const head = cols.map((c) => `<th>${esc(label(c))}</th>`).join("");
    // A status is a code (missing, pending, ...): show its name in the page's language.
    const cellText = (v, i) => (cols[i] === "status" ? label(v) : v);
    const cell = (v, i) => (bands && cols[i] === bands.column
      ? bandCell(band(bands, v), bandName(band(bands, v))) : `<td>${esc(cellText(v, i))}</td>`);
    const body = rows.map((r) => `<tr>${r.map(cell).join("")}</tr>`).join("");
    return `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
  }

  function grid(cols, rows, bands) {
    const [ui, di, si] = ["unit", "day", "status"].map((c) => cols.indexOf(c));
    const days = [...new Set(rows.map((r) => r[di]))].sort();
    const units = [...new Set(rows.map((r) => r[ui]))];
    const cell = new Map(rows.map((r) => [r[ui] + "|" + r[di], r[si]]));
    const head = days.map((d) => `<th>${esc(d.slice(5))}</th>`).join("");
    const body = units.map((u) => "<tr><th>" + esc(u) + "</th>" + days.map((d) => {
      const key = u + "|" + d;
      if (bands && cell.has(key)) {
        const b = band(bands, cell.get(key));
        return bandCell(b, b === bands.missing ? "–" : b.value);
      }
      // A mark per status (boot.marks; the legend under the grid names each): not the
      // name's first letter, which is T for both Trễ and Thiếu.
      const s = cell.get(key) || "";
      return `<td class="st-${esc(s)}" title="${esc(label(s))}">${s ? esc(boot.marks[s] || s) : ""}</td>`;
    }).join("") + "</tr>").join("");
    return `<table class="grid"><thead><tr><th></th>${head}</tr></thead><tbody>${body}</tbody></table>`;
  }

  function esc(v) {
    return String(v === null || v === undefined ? "–" : v).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  }

  // A chart's figure is built by the server (dashboards/figures.py), in both languages.
  function plot(el, figure) {
    window.Plotly.react(el, figure.data, figure.layout, { displayModeBar: false, responsive: true });
  }

  function render(data) {
    const asOf = document.getElementById("asof-value");
    asOf.textContent = data.as_of || t("chưa có dữ liệu", "no data yet");
    for (const p of boot.panels) {
      const box = document.querySelector(`[data-panel="${p.key}"] .chart`);
      const res = data.panels[p.key];
      box.parentElement.dataset.points = String(res.rows.length);
      if (p.kind === "stat" && p.bands) {
        const b = band(p.bands, res.rows.length ? res.rows[0][0] : null);
        box.innerHTML = `<div class="value band" style="background:${esc(b.colour)}">${esc(bandName(b))}</div>`;
      } else if (p.kind === "stat") {
        const v = res.rows.length ? res.rows[0][0] : null;
        box.innerHTML = `<div class="value">${esc(v === "" ? null : v)}</div>`;
      } else if (p.kind === "table") {
        box.innerHTML = table(res.columns, res.rows, p.bands);
      } else if (p.kind === "grid") {
        box.innerHTML = grid(res.columns, res.rows, p.bands);
      } else {
        plot(box, res.figure[lang]);
      }
    }
  }

  async function refresh() {
    const status = document.getElementById("status");
    try {
      const resp = await fetch(dataUrl(), { cache: "no-store" });
      const data = await resp.json();
      if (!resp.ok) throw new Error(data.error || resp.statusText);
      last = data;
      render(data);
      status.textContent = "";
      window.baocaoRefreshes += 1;
    } catch (err) {
      status.textContent = t("Lỗi tải dữ liệu: ", "Could not load data: ") + err.message;
    }
  }

  document.getElementById("lang-toggle").addEventListener("click", () => {
    lang = lang === "en" ? "vi" : "en";
    applyLang();
  });
  applyLang();
  refresh();
  window.setInterval(refresh, boot.refreshSeconds * 1000);
})();
