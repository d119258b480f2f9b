"use strict";
const T = {
  vi: { title: "Gửi báo cáo dịch hằng ngày", token: "Mã truy cập của đơn vị",
    token_help: "Mã do tỉnh cấp bằng lệnh baocao tokens create.", login: "Đăng nhập",
    logout: "Đăng xuất", signed_in: "Đăng nhập:", unit: "Đơn vị", dataset: "Biểu mẫu",
    report_date: "Ngày báo cáo", deadline: "Hạn chót", note: "Ghi chú",
    reason: "Lý do sửa (bắt buộc khi sửa sau hạn chót)", submit: "Gửi báo cáo",
    last_days: "Các ngày gần đây", date: "Ngày", status: "Trạng thái", left: "còn",
    overdue: "đã quá hạn", receipt: "Biên nhận", report_id: "Mã báo cáo", sent_at: "Lúc",
    by: "Người gửi", warnings: "Cảnh báo", bad_token: "Mã truy cập không hợp lệ.",
    network: "Không kết nối được máy chủ.", toggle: "English", blank: "bỏ trống = chưa báo cáo",
    on_time: "Đúng hạn", late: "Muộn", missing: "Thiếu", pending: "Đang chờ",
    upload_title: "Gửi nhiều báo cáo bằng tệp Excel hoặc CSV",
    upload_help: "Tải tệp mẫu của đơn vị và biểu mẫu đã chọn, điền số rồi tải lên; " +
      "mọi dòng được kiểm tra trước khi gửi.",
    template: "Tải tệp Excel mẫu (.xlsx)", upload_file: "Tệp đã điền (.xlsx hoặc .csv)",
    upload: "Tải lên và gửi", no_file: "Hãy chọn một tệp." },
  en: { title: "Daily epidemic report", token: "Unit access token",
    token_help: "Issued by the province with baocao tokens create.", login: "Sign in",
    logout: "Sign out", signed_in: "Signed in:", unit: "Unit", dataset: "Dataset",
    report_date: "Report date", deadline: "Deadline", note: "Note",
    reason: "Reason for correction (required after the deadline)", submit: "Submit report",
    last_days: "Last days", date: "Date", status: "Status", left: "left",
    overdue: "overdue", receipt: "Receipt", report_id: "Report id", sent_at: "At",
    by: "Submitted by", warnings: "Warnings", bad_token: "Invalid token.",
    network: "Cannot reach the server.", toggle: "Tiếng Việt", blank: "blank = not reported",
    on_time: "On time", late: "Late", missing: "Missing", pending: "Pending",
    upload_title: "Send many reports with an Excel or CSV file",
    upload_help: "Download the template of the chosen unit and dataset, fill in the numbers, " +
      "then upload it; every row is checked before any is sent.",
    template: "Download the Excel template (.xlsx)", upload_file: "Filled-in file (.xlsx or .csv)",
    upload: "Upload and send", no_file: "Choose a file." },
};
const $ = (s) => document.querySelector(s);
const st = { lang: new URLSearchParams(location.search).get("lang") ||
    localStorage.getItem("baocao.lang") || "vi", token: sessionStorage.getItem("baocao.token"),
  me: null, forms: null, skew: 0, last: null, history: null };
const t = (k) => T[st.lang][k];
const pick = (o, base) => o[base + "_" + st.lang] || o[base + "_vi"] || "";
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => "&#" + c.charCodeAt(0) + ";");

async function api(path, opts = {}) {
  const headers = { Authorization: "Bearer " + st.token, ...(opts.headers || {}) };
  const resp = await fetch(path, { ...opts, headers });
  let body = null;
  try { body = await resp.json(); } catch (e) { body = null; }
  return { status: resp.status, body };
}

function applyLang() {
  document.documentElement.lang = st.lang;
  document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
  $("#lang-toggle").textContent = t("toggle");
  if (st.forms) renderFields(true);
  if (st.last) showErrors(st.last);
  if (st.receipt) showReceipt(st.receipt);
  if (st.history) showDays(st.history);
  tick();
}

async function login(token) {
  st.token = token;
  const me = await api("/api/v1/me");
  if (me.status !== 200) { st.token = null; sessionStorage.removeItem("baocao.token");
    $("#login-error").textContent = t("bad_token"); return; }
  sessionStorage.setItem("baocao.token", token);
  st.me = me.body;
  st.skew = Date.parse(me.body.now) - Date.now();  // the server's clock decides deadlines
  $("#who").textContent = me.body.name + " — " + me.body.unit.name;
  $("#unit").innerHTML = me.body.units.map((u) =>
    `<option value="${esc(u.unit_id)}">${esc(u.unit_id)} — ${esc(u.name)}</option>`).join("");
  $("#report_date").value = me.body.today;
  $("#report_date").max = me.body.today;
  $("#login").hidden = true; $("#report-form").hidden = false; $("#logout").hidden = false;
  $("#upload-box").hidden = false;
  await loadUnit();
}

async function loadUnit() {
  const unit = $("#unit").value;
  const r = await api(`/api/v1/units/${encodeURIComponent(unit)}/datasets`);
  st.forms = r.body.datasets;
  $("#dataset").innerHTML = st.forms.map((d, i) =>
    `<option value="${i}">${esc(pick(d, "name"))}</option>`).join("");
  renderFields(false);
  loadHistory();
}

function renderFields(keep) {
  const old = {};
  if (keep) document.querySelectorAll("#fields input").forEach((i) => { old[i.name] = i.value; });
  const sel = $("#dataset").value;
  $("#dataset").innerHTML = st.forms.map((d, i) =>
    `<option value="${i}">${esc(pick(d, "name"))}</option>`).join("");
  $("#dataset").value = sel || "0";
  const ds = st.forms[Number($("#dataset").value) || 0];
  if (!ds) { $("#fields").innerHTML = ""; return; }
  $("#fields").innerHTML = `<p class="help">${t("blank")}</p>` + ds.metrics.map((m) => {
    const help = pick(m, "help") ? `<div class="help">${esc(pick(m, "help"))}</div>` : "";
    if (!m.options.length) {
      return `<div class="metric"><label for="v-${m.code}">${esc(pick(m, "name"))}</label>${help}
        <input id="v-${m.code}" name="${m.code}" type="number" min="0" step="1" inputmode="numeric">
        <div class="field-msg" data-for="${m.code}"></div></div>`;
    }
    return `<div class="metric"><label>${esc(pick(m, "name"))}</label>${help}<div class="bands">` +
      m.options.map((o) => `<label>${esc(pick(o, "name"))}<input id="v-${m.code}.${o.code}"
        name="${m.code}.${o.code}" type="number" min="0" step="1" inputmode="numeric"></label>`).join("") +
      `</div><div class="field-msg" data-for="${m.code}"></div></div>`;
  }).join("");
  document.querySelectorAll("#fields input").forEach((i) => { if (old[i.name]) i.value = old[i.name]; });
}

function deadline() {
  const ds = st.forms && st.forms[Number($("#dataset").value) || 0];
  if (!ds || !$("#report_date").value) return null;
  const shift = Date.parse($("#report_date").value) - Date.parse(st.me.today);
  return Date.parse(ds.deadline_today) + shift;
}

function tick() {
  const due = deadline();
  if (due === null) return;
  const left = due - (Date.now() + st.skew);
  const fmt = new Intl.DateTimeFormat(st.lang === "vi" ? "vi-VN" : "en-GB",
    { dateStyle: "short", timeStyle: "short", timeZone: "Asia/Ho_Chi_Minh" });
  $("#deadline").textContent = fmt.format(new Date(due));
  const h = Math.floor(Math.abs(left) / 3600000), m = Math.floor(Math.abs(left) % 3600000 / 60000);
  $("#countdown").textContent = left > 0 ? `${t("left")} ${h}h ${m}m` : t("overdue");
  $("#countdown").className = left > 0 ? "" : "late";
}

function clearErrors() {
  document.querySelectorAll(".field-msg").forEach((e) => { e.innerHTML = ""; });
  document.querySelectorAll(".bad").forEach((e) => e.classList.remove("bad"));
}

function place(key) {
  key = key.replace(/^values\./, "");
  const input = document.getElementById("v-" + key) || document.getElementById(key);
  const box = document.querySelector(`.field-msg[data-for="${key}"]`) ||
    document.querySelector(`.field-msg[data-for="${key.split(".")[0]}"]`);
  return { input, box };
}

function showErrors(body) {
  clearErrors();
  const items = [...(body.reasons || []).map((r) => ({ r, cls: "error" })),
    ...(body.warnings || []).map((r) => ({ r, cls: "warning" }))];
  if (!items.length && body.message_vi) items.push({ r: body, cls: "error" });
  for (const { r, cls } of items) {
    const keys = (r.fields && r.fields.length) ? r.fields : [r.field || ""];
    let shown = false;
    for (const k of keys) {
      const { input, box } = place(k || "");
      if (input && cls === "error") input.classList.add("bad");
      if (box) {
        box.insertAdjacentHTML("beforeend", `<div class="${cls}">${esc(pick(r, "message"))}</div>`);
        shown = true;
      }
    }
    if (!shown) $("#form-errors").insertAdjacentHTML("beforeend",
      `<div class="${cls}">${esc(pick(r, "message"))}</div>`);
  }
}

function showReceipt(rc) {
  const box = $("#receipt");
  box.hidden = false;
  box.className = rc.status === "queued" ? "queued" : "";
  box.innerHTML = `<h2>${t("receipt")}</h2><p id="receipt-status"><strong>${esc(pick(rc, "message"))}</strong></p>
    <p>${t("report_id")}: <code id="receipt-id">${esc(rc.report_id)}</code><br>${t("sent_at")}:
    ${esc(rc.submitted_at)}<br>${t("by")}: ${esc(rc.submitted_by)}</p>`;
}

function showDays(h) {
  $("#days-box").hidden = false;
  $("#days tbody").innerHTML = h.days.map((d) =>
    `<tr><td>${esc(d.report_date)}</td><td>${esc(d.dataset)}</td>
     <td class="st-${d.status}">${t(d.status)}</td></tr>`).join("");
}

async function loadHistory() {
  const r = await api(`/api/v1/units/${encodeURIComponent($("#unit").value)}/history?days=7`);
  if (r.status === 200) { st.history = r.body; showDays(r.body); }
}

async function submitReport(ev) {
  ev.preventDefault();
  const ds = st.forms[Number($("#dataset").value) || 0];
  const values = {};
  document.querySelectorAll("#fields input").forEach((i) => {
    if (i.value.trim() !== "") values[i.name] = Number(i.value);
  });
  const report = { dataset: ds.code, unit_id: $("#unit").value, report_date: $("#report_date").value,
    values, note: $("#note").value, reason: $("#reason").value };
  $("#submit-btn").disabled = true;
  try {
    const r = await api("/api/v1/reports", { method: "POST", body: JSON.stringify(report),
      headers: { "Content-Type": "application/json" } });
    if (r.status >= 200 && r.status < 300) {
      st.last = { reasons: [], warnings: r.body.warnings }; showErrors(st.last);
      st.receipt = r.body; showReceipt(r.body); loadHistory();
    } else {
      st.last = r.body || { message_vi: t("network"), message_en: t("network") };
      st.receipt = null; $("#receipt").hidden = true; showErrors(st.last);
    }
  } catch (e) {
    st.last = { message_vi: T.vi.network, message_en: T.en.network }; showErrors(st.last);
  } finally { $("#submit-btn").disabled = false; }
}

// Uploads: a person fixing a spreadsheet reads every row's problem in Vietnamese, with
// the English beside it, whatever the page's language.
const both = (vi, en) => `<span>${esc(vi)}</span> <span class="en">/ ${esc(en)}</span>`;

function showUpload(status, body) {
  $("#upload-errors").innerHTML = "";
  if (status >= 200 && status < 300 && body) {
    const n = body.count;
    const [vi, en] = status === 202
      ? [`Đã nhận ${n} báo cáo; một số đang chờ gửi tới máy chủ tin nhắn.`,
        `${n} report(s) received; some wait in the outbox for the broker.`]
      : status === 200 ? [`${n} báo cáo này đã được gửi trước đó.`, `These ${n} report(s) were sent before.`]
      : [`Đã gửi ${n} báo cáo; đang xử lý.`, `${n} report(s) sent; being processed.`];
    $("#upload-result").innerHTML = `<p class="ok" id="upload-ok">${both(vi, en)}</p>`;
    return;
  }
  body = body || { message_vi: T.vi.network, message_en: T.en.network };
  $("#upload-result").innerHTML = `<p class="error">${both(body.message_vi, body.message_en)}</p>`;
  $("#upload-errors").innerHTML = (body.reasons || []).map((r) =>
    `<li class="error">${both(r.message_vi, r.message_en)}</li>`).join("");
}

async function downloadTemplate() {
  const ds = st.forms && st.forms[Number($("#dataset").value) || 0];
  if (!ds) return;
  const unit = $("#unit").value, day = $("#report_date").value;
  const query = new URLSearchParams({ unit_id: unit });
  if (day) query.set("date", day);
  try {
    const resp = await fetch(`/api/v1/templates/${encodeURIComponent(ds.code)}.xlsx?${query}`,
      { headers: { Authorization: "Bearer " + st.token } });
    if (!resp.ok) {
      let body = null;
      try { body = await resp.json(); } catch (e) { body = null; }
      showUpload(resp.status, body); return;
    }
    const link = document.createElement("a");
    link.href = URL.createObjectURL(await resp.blob());
    link.download = `baocao-${ds.code}-${unit}-${day || st.me.today}.xlsx`;
    document.body.appendChild(link); link.click(); link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  } catch (e) { showUpload(0, null); }
}

async function uploadFile(ev) {
  ev.preventDefault();
  const file = $("#upload-file").files[0];
  if (!file) { showUpload(0, { message_vi: T.vi.no_file, message_en: T.en.no_file }); return; }
  const data = new FormData();
  data.append("file", file, file.name);
  $("#upload-btn").disabled = true;
  try {
    const r = await api("/api/v1/reports:upload", { method: "POST", body: data });
    showUpload(r.status, r.body);
    if (r.status >= 200 && r.status < 300) loadHistory();
  } catch (e) { showUpload(0, null); } finally { $("#upload-btn").disabled = false; }
}

$("#template-btn").addEventListener("click", downloadTemplate);
$("#upload-form").addEventListener("submit", uploadFile);
$("#lang-toggle").addEventListener("click", () => {
  st.lang = st.lang === "vi" ? "en" : "vi"; localStorage.setItem("baocao.lang", st.lang); applyLang();
});
$("#login-form").addEventListener("submit", (ev) => { ev.preventDefault(); login($("#token").value.trim()); });
$("#logout").addEventListener("click", () => { sessionStorage.removeItem("baocao.token"); location.reload(); });
$("#unit").addEventListener("change", loadUnit);
$("#dataset").addEventListener("change", () => { renderFields(false); tick(); });
$("#report_date").addEventListener("change", tick);
$("#report-form").addEventListener("submit", submitReport);
setInterval(tick, 1000);
applyLang();
if (st.token) login(st.token);
