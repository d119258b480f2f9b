"use strict";
// The approval page: a reviewer's units for a dataset and day (GET /api/v1/approvals),
// approve or accept the ticked ones, return one with a reason (POST /api/v1/approvals).
// A file, not inline: the page's CSP says script-src 'self'. Labels follow the language
// switch; what the server answers (results, refusals, errors) is shown in Vietnamese
// with the English beside it, whatever the switch says.
const T = {
  vi: { title: "Duyệt báo cáo của đơn vị cấp dưới", token: "Mã truy cập của đơn vị",
    token_help: "Mã có quyền duyệt (approve), do tỉnh cấp bằng lệnh baocao tokens create.",
    login: "Đăng nhập", logout: "Đăng xuất", to_form: "Gửi báo cáo", reviewer: "Người duyệt:",
    dataset: "Biểu mẫu", report_date: "Ngày báo cáo", show: "Xem", select_all: "Chọn tất cả",
    approve_selected: "Duyệt các báo cáo đã chọn", accept_selected: "Chấp nhận các báo cáo đã chọn",
    unit: "Đơn vị", report: "Báo cáo", values: "Số liệu", state: "Trạng thái duyệt",
    decision: "Người duyệt · lý do", empty: "Không có đơn vị nào để duyệt với biểu mẫu này.",
    toggle: "English", not_reported: "Chưa báo cáo", submitted: "Chờ duyệt", approved: "Đã duyệt",
    accepted: "Tỉnh đã chấp nhận", returned: "Bị trả lại", reopened: "Mở lại (sửa sau khi duyệt)",
    recording: "Đang ghi…", revision: "lần sửa", on_time: "Đúng hạn", late: "Muộn", by: "gửi bởi",
    n_values: "giá trị", changed: "giá trị đã đổi kể từ lần sửa", return: "Trả lại",
    reason_label: "Lý do trả lại (bắt buộc)", send_return: "Gửi trả lại", cancel: "Huỷ",
    selected: "đã chọn", province: "Tỉnh", district: "Huyện", commune: "Xã", checkpoint: "Chốt" },
  en: { title: "Review the reports of the units below", token: "Unit access token",
    token_help: "A token with the approve role, issued by the province with baocao tokens create.",
    login: "Sign in", logout: "Sign out", to_form: "Submit a report", reviewer: "Reviewer:",
    dataset: "Dataset", report_date: "Report date", show: "Show", select_all: "Select all",
    approve_selected: "Approve the selected reports", accept_selected: "Accept the selected reports",
    unit: "Unit", report: "Report", values: "Values", state: "Approval state",
    decision: "Decided by · reason", empty: "No unit to review for this dataset.",
    toggle: "Tiếng Việt", not_reported: "Not reported", submitted: "Awaiting approval",
    approved: "Approved", accepted: "Accepted by the province", returned: "Returned",
    reopened: "Reopened (corrected after approval)", recording: "Recording…", revision: "revision",
    on_time: "On time", late: "Late", by: "by", n_values: "values",
    changed: "values changed since revision", return: "Return",
    reason_label: "Why it is returned (required)", send_return: "Send back", cancel: "Cancel",
    selected: "selected", province: "Province", district: "District", commune: "Commune",
    checkpoint: "Checkpoint" },
};
// Both languages at once, for what a reviewer may need to pass on or act on.
const MSG = {
  network: ["Không kết nối được máy chủ.", "Cannot reach the server."],
  bad_token: ["Mã truy cập không hợp lệ hoặc đã bị thu hồi.", "The token is invalid or has been revoked."],
  no_reason: ["Cần nêu lý do trả lại.", "A reason is required to return a report."],
  none_selected: ["Chưa chọn báo cáo nào có thể làm việc này.", "No selected report allows this action."],
  recorded: ["Đã ghi nhận", "Recorded"],
  refused: ["Bị từ chối", "Refused"],
  slow: ["Quyết định đã được ghi nhận nhưng kho dữ liệu chưa cập nhật; hãy xem lại sau ít phút.",
    "The decision was recorded but the warehouse has not caught up yet; look again in a few minutes."],
};
const MARKS = { not_reported: "–", submitted: "○", approved: "✓", accepted: "✓✓", returned: "↩",
  reopened: "↻", recording: "…" };
const ACTION_STATE = { approve: "approved", accept: "accepted", return: "returned" };
// How often and how long to look again for decisions on their way to the warehouse.
const RELOAD_MS = 1500, RELOAD_TRIES = 8;

const $ = (s) => document.querySelector(s);
const boot = JSON.parse($("#boot").textContent);
const st = { lang: new URLSearchParams(location.search).get("lang") ||
    localStorage.getItem("baocao.lang") || "vi", token: sessionStorage.getItem("baocao.token"),
  listing: null, selected: new Set(), pending: new Map(), returning: null, timer: null, tries: 0,
  results: null };
const t = (k) => T[st.lang][k];
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => "&#" + c.charCodeAt(0) + ";");
const both = (vi, en) => `<span>${esc(vi)}</span> <span class="en">/ ${esc(en)}</span>`;
const fmt = (iso) => iso ? new Intl.DateTimeFormat(st.lang === "vi" ? "vi-VN" : "en-GB",
  { dateStyle: "short", timeStyle: "short", timeZone: "Asia/Ho_Chi_Minh" }).format(new Date(iso)) : "";

async function api(path, opts = {}) {
  const headers = { Authorization: "Bearer " + st.token, ...(opts.headers || {}) };
  const resp = await fetch(path, { ...opts, headers });
  let body = null;
  try { body = await resp.json(); } catch (e) { body = null; }
  return { status: resp.status, body };
}

function dataset() { return boot.datasets[Number($("#dataset").value) || 0]; }

function applyLang() {
  document.documentElement.lang = st.lang;
  document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
  $("#lang-toggle").textContent = t("toggle");
  const sel = $("#dataset").value;
  $("#dataset").innerHTML = boot.datasets.map((d, i) =>
    `<option value="${i}">${esc(st.lang === "en" ? d.name_en : d.name_vi)}</option>`).join("");
  $("#dataset").value = sel || "0";
  if (st.listing) render();
}

// ---------------------------------------------------------------- listing

async function login(token) {
  st.token = token;
  $("#login-error").innerHTML = "";
  let r;
  try { r = await listingOf(); } catch (e) { $("#login-error").innerHTML = both(...MSG.network); return; }
  if (r.status !== 200) {
    if (r.status === 401) sessionStorage.removeItem("baocao.token");
    const m = r.status === 401 ? MSG.bad_token : message(r.body);
    $("#login-error").innerHTML = both(...m);
    st.token = null;
    return;
  }
  sessionStorage.setItem("baocao.token", token);
  $("#login").hidden = true; $("#choose").hidden = false; $("#logout").hidden = false;
  show(r.body);
}

function listingOf() {
  const q = new URLSearchParams({ dataset: dataset().code, date: $("#report_date").value });
  return api(`/api/v1/approvals?${q}`);
}

// Load the listing; what was just recorded stays marked until the warehouse shows it.
async function load() {
  clearTimeout(st.timer);
  let r;
  try { r = await listingOf(); } catch (e) { showError(0, null); return; }
  if (r.status !== 200) { showError(r.status, r.body); return; }
  show(r.body);
}

function show(body) {
  st.listing = body;
  $("#who").textContent = `${body.reviewer.name} (${body.reviewer.unit_id})`;
  for (const u of body.units) {
    if (st.pending.has(u.unit_id) && st.pending.get(u.unit_id) === u.state) st.pending.delete(u.unit_id);
  }
  const open = new Set(body.units.filter((u) => canTick(u)).map((u) => u.unit_id));
  st.selected = new Set([...st.selected].filter((id) => open.has(id)));
  $("#listing").hidden = false;
  render();
  if (st.pending.size) {
    st.tries += 1;
    if (st.tries <= RELOAD_TRIES) { st.timer = setTimeout(load, RELOAD_MS); return; }
    st.pending.clear(); render();
    $("#results").hidden = false;
    $("#results").insertAdjacentHTML("beforeend", `<p class="help" id="slow">${both(...MSG.slow)}</p>`);
  }
}

const canTick = (u) => u.can.includes("approve") || u.can.includes("accept");

function stateCell(u) {
  const state = st.pending.has(u.unit_id) ? "recording" : u.state;
  let text = t(state);
  if (state === "reopened") text += ` — ${u.changed_values} ${t("changed")} ${u.approved_revision}`;
  return `<td class="state state-${state}" data-state="${state}"><span class="mark">${MARKS[state]}</span>` +
    `${esc(text)}</td>`;
}

function reportCell(u) {
  if (u.revision === null) return `<td>${esc(t("not_reported"))}</td>`;
  const when = u.timeliness ? `<span class="${u.timeliness}">${esc(t(u.timeliness))}</span>` : "";
  return `<td>${esc(t("revision"))} ${u.revision} · ${when}<div class="help">${esc(fmt(u.submitted_at))}` +
    `${u.submitted_by ? " · " + esc(t("by")) + " " + esc(u.submitted_by) : ""}</div></td>`;
}

function valuesCell(u) {
  const keys = Object.keys(u.values || {});
  if (!keys.length) return "<td></td>";
  const labels = dataset().labels;
  const name = (k) => (labels[k] ? labels[k][st.lang === "en" ? 1 : 0] : k);
  return `<td class="values"><details><summary>${keys.length} ${esc(t("n_values"))}</summary><ul>` +
    keys.map((k) => `<li>${esc(name(k))}: <strong>${esc(u.values[k])}</strong></li>`).join("") +
    "</ul></details></td>";
}

function decisionCell(u) {
  const parts = [];
  if (u.by_name) parts.push(`${esc(u.by_name)} <span class="help">${esc(fmt(u.decided_at))}</span>`);
  if (u.reason) parts.push(`<div class="reason">${esc(u.reason)}</div>`);
  return `<td class="decision">${parts.join("")}</td>`;
}

function returnRow(u, typed) {
  return `<tr class="return-row" data-for="${esc(u.unit_id)}"><td></td><td colspan="6">
    <label for="return-reason">${esc(t("reason_label"))} — ${esc(u.name)}</label>
    <textarea id="return-reason" rows="2">${esc(typed)}</textarea>
    <p id="return-error" class="error" role="alert"></p>
    <div class="actions"><button type="button" id="return-send">${esc(t("send_return"))}</button>
    <button type="button" class="plain" id="return-cancel">${esc(t("cancel"))}</button></div></td></tr>`;
}

function render() {
  const typed = $("#return-reason") ? $("#return-reason").value : "";
  const units = st.listing.units;
  $("#units tbody").innerHTML = units.map((u) => {
    const tick = canTick(u) && !st.pending.has(u.unit_id)
      ? `<input type="checkbox" data-unit="${esc(u.unit_id)}"${st.selected.has(u.unit_id) ? " checked" : ""}
          aria-label="${esc(u.name)}">` : "";
    const back = u.can.includes("return") && !st.pending.has(u.unit_id)
      ? `<button type="button" class="plain" data-return="${esc(u.unit_id)}">${esc(t("return"))}</button>` : "";
    const row = `<tr data-unit="${esc(u.unit_id)}" class="${u.revision === null ? "not-reported" : ""}">
      <td>${tick}</td><td>${esc(u.name)}<div class="help">${esc(u.unit_id)} · ${esc(t(u.kind) || u.kind)}</div></td>
      ${reportCell(u)}${valuesCell(u)}${stateCell(u)}${decisionCell(u)}<td>${back}</td></tr>`;
    return row + (st.returning === u.unit_id ? returnRow(u, typed) : "");
  }).join("");
  $("#empty").hidden = units.length > 0;
  const can = (a) => units.some((u) => u.can.includes(a));
  $("#approve-btn").hidden = !can("approve");
  $("#accept-btn").hidden = !can("accept");
  const open = units.filter((u) => canTick(u) && !st.pending.has(u.unit_id));
  $("#select-all").checked = open.length > 0 && open.every((u) => st.selected.has(u.unit_id));
  $("#select-all").disabled = open.length === 0;
  $("#count").textContent = st.selected.size ? `${st.selected.size} ${t("selected")}` : "";
}

// ---------------------------------------------------------------- decisions

function message(body) {
  if (body && body.message_vi) return [body.message_vi, body.message_en || body.message_vi];
  return MSG.network;
}

function showError(status, body) {
  const box = $("#results");
  box.hidden = false;
  const reasons = (body && body.reasons) || [];
  box.innerHTML = `<p class="error" id="result-error" data-status="${status}">${both(...message(body))}</p>` +
    (reasons.length ? "<ul>" + reasons.map((r) =>
      `<li class="error">${both(r.message_vi, r.message_en)}</li>`).join("") + "</ul>" : "");
}

function showResults(body, skipped) {
  const names = new Map(st.listing.units.map((u) => [u.unit_id, u.name]));
  const nameOf = (id) => `${names.get(id) || id} (${id})`;
  const recorded = body.recorded.map((r) =>
    `<li class="ok" data-unit="${esc(r.unit_id)}">${esc(nameOf(r.unit_id))}: ${both(T.vi[r.state] || r.state,
      T.en[r.state] || r.state)}</li>`).join("");
  const refused = body.refused.map((r) =>
    `<li class="error" data-unit="${esc(r.unit_id)}">${esc(nameOf(r.unit_id))}: ${both(r.message_vi,
      r.message_en)}</li>`).join("");
  const box = $("#results");
  box.hidden = false;
  box.innerHTML =
    (recorded ? `<h2>${both(...MSG.recorded)}</h2><ul id="recorded">${recorded}</ul>` : "") +
    (refused ? `<h2>${both(...MSG.refused)}</h2><ul id="refused">${refused}</ul>` : "") +
    (skipped ? `<p class="help">${both(...MSG.none_selected)}</p>` : "");
}

async function decide(action, units, reason) {
  // The revision each unit showed: one corrected since is refused, to be looked at again.
  const revisions = {};
  for (const u of (st.listing ? st.listing.units : [])) {
    if (units.includes(u.unit_id) && u.revision) revisions[u.unit_id] = u.revision;
  }
  const body = { action, dataset: dataset().code, date: $("#report_date").value, units, revisions };
  if (reason !== undefined) body.reason = reason;
  document.querySelectorAll("button[data-action], #return-send").forEach((b) => { b.disabled = true; });
  let r;
  try {
    r = await api("/api/v1/approvals", { method: "POST", body: JSON.stringify(body),
      headers: { "Content-Type": "application/json" } });
  } catch (e) { r = { status: 0, body: null }; }
  document.querySelectorAll("button[data-action], #return-send").forEach((b) => { b.disabled = false; });
  if (r.status !== 202 || !r.body) { showError(r.status, r.body); return false; }
  for (const rec of r.body.recorded) {
    st.pending.set(rec.unit_id, rec.state || ACTION_STATE[action]);
    st.selected.delete(rec.unit_id);
  }
  showResults(r.body, false);
  if (r.body.recorded.length) {  // the decisions reach the warehouse in a second or two
    st.tries = 0;
    clearTimeout(st.timer);
    st.timer = setTimeout(load, RELOAD_MS);
  }
  return true;
}

async function decideSelected(action) {
  const units = st.listing.units.filter((u) => st.selected.has(u.unit_id) && u.can.includes(action));
  if (!units.length) {
    $("#results").hidden = false;
    $("#results").innerHTML = `<p class="error" id="result-error">${both(...MSG.none_selected)}</p>`;
    return;
  }
  await decide(action, units.map((u) => u.unit_id));
  render();
}

async function sendReturn() {
  const reason = $("#return-reason").value.trim();
  if (!reason) {  // the reason is what the submitter reads in the alert: never empty
    $("#return-error").innerHTML = both(...MSG.no_reason);
    $("#return-reason").focus();
    return;
  }
  const unit = st.returning;
  if (await decide("return", [unit], reason)) st.returning = null;
  render();
}

// ---------------------------------------------------------------- wiring

$("#lang-toggle").addEventListener("click", () => {
  st.lang = st.lang === "vi" ? "en" : "vi"; localStorage.setItem("baocao.lang", st.lang); applyLang();
});
$("#login-form").addEventListener("submit", (ev) => { ev.preventDefault(); login($("#token").value.trim()); });
$("#logout").addEventListener("click", () => { sessionStorage.removeItem("baocao.token"); location.reload(); });
const reset = () => {
  st.pending.clear(); st.selected.clear(); st.returning = null; st.tries = 0;
  $("#results").hidden = true; load();
};
$("#choose-form").addEventListener("submit", (ev) => { ev.preventDefault(); reset(); });
$("#dataset").addEventListener("change", reset);
$("#report_date").addEventListener("change", reset);
$("#select-all").addEventListener("change", (ev) => {
  for (const u of st.listing.units) {
    if (!canTick(u) || st.pending.has(u.unit_id)) continue;
    if (ev.target.checked) st.selected.add(u.unit_id); else st.selected.delete(u.unit_id);
  }
  render();
});
document.querySelectorAll("button[data-action]").forEach((b) =>
  b.addEventListener("click", () => decideSelected(b.dataset.action)));
$("#units tbody").addEventListener("change", (ev) => {
  const id = ev.target.dataset.unit;
  if (!id) return;
  if (ev.target.checked) st.selected.add(id); else st.selected.delete(id);
  render();
});
$("#units tbody").addEventListener("click", (ev) => {
  const el = ev.target.closest("button");
  if (!el) return;
  if (el.dataset.return) {
    st.returning = el.dataset.return;
    render();
    $("#return-reason").value = "";
    $("#return-reason").focus();
  } else if (el.id === "return-cancel") {
    st.returning = null; render();
  } else if (el.id === "return-send") {
    sendReturn();
  }
});

$("#report_date").value = boot.today;
$("#report_date").max = boot.today;
applyLang();
if (st.token) login(st.token);
