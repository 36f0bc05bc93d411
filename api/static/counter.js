// The counter page: sign in, look up first, reuse, scan, follow progress, review, receipt.
// Plain ES module, standard APIs only (Chromium and Firefox), no network beyond this server.

const API = "/api/v1";
const KEY = "sohoa.key";
const DOSSIER = "sohoa.dossier";

const FIELD_LABELS = {
  ten_giay_to: "Tên giấy tờ", so_ky_hieu: "Số, ký hiệu", ngay_cap: "Ngày cấp",
  co_quan_cap: "Cơ quan cấp", trich_yeu: "Trích yếu", hieu_luc_den: "Hiệu lực đến",
  pham_vi_hieu_luc: "Phạm vi hiệu lực", ma_dinh_danh: "Số định danh cá nhân", so_cmnd: "Số CMND",
  ho_ten: "Họ và tên", ngay_sinh: "Ngày sinh", ma_so_doanh_nghiep: "Mã số doanh nghiệp",
  ten_doanh_nghiep: "Tên doanh nghiệp", so_phat_hanh: "Số phát hành", mau_so: "Mẫu số",
  cong_trinh: "Công trình", chu_dau_tu: "Chủ đầu tư", ten_ban_ve: "Tên bản vẽ",
  ky_hieu_ban_ve: "Ký hiệu bản vẽ", ty_le: "Tỷ lệ", co_quan_chu_quan: "Cơ quan chủ quản",
  gioi_tinh: "Giới tính", dia_chi: "Địa chỉ", noi_sinh: "Nơi sinh", quoc_tich: "Quốc tịch",
};
const DATE_FIELDS = new Set(["ngay_cap", "ngay_sinh", "hieu_luc_den"]);
const SOURCES = { ocr: "OCR", qr: "mã QR", mrz: "MRZ", clerk: "cán bộ", barcode: "mã vạch" };
const COMPONENT_STATUS = {
  queued: "Đang chờ đọc", processing: "Đang đọc", reviewable: "Chờ kiểm tra",
  done: "Chờ kiểm tra", failed: "Không đọc được",
};
const PAGE_STATUS = { queued: "đang chờ", reading: "đang đọc", done: "xong", failed: "lỗi" };
const REGISTRY = {
  draft: "Chưa xác nhận", verified: "Đã xác nhận", duplicate: "Bản trùng với giấy tờ đã có",
  superseded: "Đã thay thế", revoked: "Đã thu hồi",
};
const STATES = {
  reused: "Dùng lại", scanned: "Đã quét", illegible: "Không đọc được", missing: "Cần quét",
  pending: "Đang đọc",
};

const $ = (sel) => document.querySelector(sel);
const nfc = (s) => (s ?? "").toString().normalize("NFC");
const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(node.dataset, v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c !== null && c !== undefined && c !== false) node.append(c instanceof Node ? c : nfc(c));
  }
  return node;
};
const viDate = (iso) => {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso || "");
  return m ? `${m[3]}/${m[2]}/${m[1]}` : nfc(iso || "");
};
// what the clerk types (dd/mm/yyyy) -> what is stored (ISO); null when not a date
const isoDate = (text) => {
  const t = nfc(text).trim();
  if (!t || /^\d{4}-\d{2}-\d{2}$/.test(t)) return t;
  const m = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$/.exec(t);
  if (!m) return null;
  const [d, mo, y] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const dt = new Date(Date.UTC(y, mo - 1, d));
  if (dt.getUTCDate() !== d || dt.getUTCMonth() !== mo - 1) return null;
  return `${y}-${String(mo).padStart(2, "0")}-${String(d).padStart(2, "0")}`;
};
const shown = (name, value) => (DATE_FIELDS.has(name) ? viDate(value) : nfc(value));
const stored = (name, text) => (DATE_FIELDS.has(name) ? isoDate(text) : nfc(text).trim());
const secs = (s) => `${s.toFixed(1).replace(".", ",")} s`;

const state = {
  key: sessionStorage.getItem(KEY),
  catalogue: null, // {types: [...], procedures: {...}}
  dossier: null, // {code, owner, ownerName, procedure}
  lookup: null,
  view: null, // last dossier view from the server
  current: null, // id of the component under review
  drafts: {}, // component id -> {type, fields: {name: value}}
  seen: {}, // "cid/page" -> when the page was first seen reading (for the ticking counter)
  took: {}, // "cid/page" -> seconds it took, as seen here, when the server does not say
  stream: null, // AbortController of the live stream
  thumbs: new Map(), // url -> object URL
  rendered: "", // JSON of the component last rendered in the review panel
  pending: new Set(), // components to confirm as soon as they are registered
  busy: new Set(), // components being confirmed
};

// ------------------------------------------------------------------ talking to the server

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function api(path, { method = "GET", body, form, raw } = {}) {
  const headers = { "X-API-Key": state.key || "" };
  let payload;
  if (form) payload = form;
  else if (body !== undefined) { headers["Content-Type"] = "application/json"; payload = JSON.stringify(body); }
  let r;
  try {
    r = await fetch(path.startsWith("/") ? path : `${API}/${path}`, { method, headers, body: payload });
  } catch {
    throw new ApiError(0, "Không kết nối được máy chủ. Kiểm tra mạng rồi thử lại.");
  }
  if (r.status === 401 && state.key) { signOut("Khóa API không đúng hoặc đã bị thu hồi. Vui lòng đăng nhập lại."); }
  if (!r.ok) {
    let detail = "";
    try { detail = (await r.json()).error || ""; } catch { /* not JSON */ }
    throw new ApiError(r.status, detail || `HTTP ${r.status}`);
  }
  return raw ? r : r.json();
}

function say(text, kind = "error") {
  const m = $("#message");
  m.textContent = nfc(text);
  m.className = kind === "info" ? "info" : "";
  m.hidden = !text;
  if (kind === "info" && text) setTimeout(() => { if (m.textContent === nfc(text)) m.hidden = true; }, 6000);
}

function friendly(err, what) {
  if (!(err instanceof ApiError)) return `${what}: ${err}`;
  const map = {
    0: err.message,
    401: "Khóa API không đúng hoặc đã bị thu hồi.",
    403: "Khóa này không có quyền của cán bộ tiếp nhận (vai trò clerk).",
    404: "Không tìm thấy.",
    409: `Không thực hiện được: ${err.message}`,
    413: "Tệp quá lớn.",
    422: `Dữ liệu không hợp lệ: ${err.message}`,
    501: "Chức năng này chưa có trên máy chủ.",
  };
  return `${what}: ${map[err.status] || err.message}`;
}

// ------------------------------------------------------------------ 1. sign in

function show(section) {
  for (const id of ["login", "start", "dossier", "receipt"]) $(`#${id}`).hidden = id !== section;
  $("#who").hidden = section === "login";
}

async function signIn(key) {
  state.key = key.trim();
  try {
    state.catalogue = await api("counter/catalogue");
  } catch (err) {
    state.key = null;
    sessionStorage.removeItem(KEY);
    throw err;
  }
  sessionStorage.setItem(KEY, state.key);
}

function signOut(message) {
  stopStream();
  state.key = null;
  sessionStorage.removeItem(KEY);
  sessionStorage.removeItem(DOSSIER);
  state.dossier = null;
  show("login");
  say(message || "");
  $("#api-key").value = "";
  $("#api-key").focus();
}

$("#login-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  say("");
  try {
    await signIn($("#api-key").value);
    await openStart();
  } catch (err) {
    say(err instanceof ApiError && err.status === 401
      ? "Khóa API không đúng hoặc đã bị thu hồi. Vui lòng kiểm tra lại."
      : friendly(err, "Không đăng nhập được"));
  }
});
$("#logout").addEventListener("click", () => signOut(""));

// ------------------------------------------------------------------ 2. start a dossier

async function openStart() {
  stopStream();
  state.dossier = null;
  sessionStorage.removeItem(DOSSIER);
  show("start");
  $("#who-dossier").textContent = "";
  const sel = $("#procedure");
  if (!sel.options.length) {
    const procs = await api("procedures");
    for (const p of procs) sel.append(el("option", { value: p.code }, p.name));
  }
  $("#owner-id").value = "";
  $("#owner-name").textContent = "";
  await newCode();
  $("#owner-id").focus();
}

async function newCode() {
  try { $("#dossier-code").value = (await api("counter/dossier-code")).code; } catch (err) {
    say(friendly(err, "Không tạo được mã hồ sơ"));
  }
}
$("#code-new").addEventListener("click", newCode);
$("#new-dossier").addEventListener("click", () => openStart().catch((e) => say(friendly(e, "Lỗi"))));

async function readCard(blob, name) {
  const form = new FormData();
  form.append("file", blob, name);
  $("#owner-name").textContent = "Đang đọc mã QR…";
  try {
    const card = await api("counter/id-card", { method: "POST", form });
    $("#owner-id").value = card.owner_id;
    $("#owner-name").textContent = [card.name, card.birth_date && `sinh ngày ${viDate(card.birth_date)}`,
      card.old_id && `CMND cũ ${card.old_id}`].filter(Boolean).join(" · ");
    $("#owner-name").dataset.name = card.name || "";
    say("");
    $("#procedure").focus();
  } catch (err) {
    $("#owner-name").textContent = "";
    say(err.status === 422
      ? "Không đọc được mã QR trên ảnh thẻ. Hãy chụp rõ hơn, hoặc nhập số định danh bằng tay."
      : friendly(err, "Không đọc được thẻ"));
  }
}
$("#card-file").addEventListener("change", (ev) => {
  const f = ev.target.files[0];
  if (f) readCard(f, f.name);
  ev.target.value = "";
});

// webcam: getUserMedia -> canvas -> the same endpoint
let cameraStream = null;
if (navigator.mediaDevices && navigator.mediaDevices.getUserMedia) $("#camera-open").hidden = false;
$("#camera-open").addEventListener("click", async () => {
  try {
    cameraStream = await navigator.mediaDevices.getUserMedia({ video: { width: 1920, height: 1080 } });
    $("#camera-video").srcObject = cameraStream;
    $("#camera").hidden = false;
    $("#camera-shot").focus();
  } catch {
    say("Không mở được camera (chưa cho phép, hoặc máy không có camera).");
  }
});
function closeCamera() {
  if (cameraStream) for (const t of cameraStream.getTracks()) t.stop();
  cameraStream = null;
  $("#camera").hidden = true;
}
$("#camera-close").addEventListener("click", closeCamera);
$("#camera-shot").addEventListener("click", () => {
  const video = $("#camera-video");
  const canvas = el("canvas", { width: video.videoWidth, height: video.videoHeight });
  canvas.getContext("2d").drawImage(video, 0, 0);
  canvas.toBlob((blob) => { if (blob) readCard(blob, "camera.jpg").then(closeCamera); }, "image/jpeg", 0.92);
});

$("#start-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  say("");
  const owner = $("#owner-id").value.trim();
  if (!/^(\d{9}|\d{12})$/.test(owner)) {
    say("Số định danh phải gồm 12 chữ số (CCCD) hoặc 9 chữ số (CMND).");
    $("#owner-id").focus();
    return;
  }
  const dossier = {
    code: $("#dossier-code").value.trim(),
    owner,
    ownerName: $("#owner-name").dataset.name || "",
    procedure: $("#procedure").value,
  };
  try {
    await openDossier(dossier);
  } catch (err) {
    say(friendly(err, "Không mở được hồ sơ"));
  }
});

// ------------------------------------------------------------------ 3. look up first

async function openDossier(dossier) {
  await api(`dossiers/${encodeURIComponent(dossier.code)}/procedure`, {
    method: "PUT", body: { procedure_code: dossier.procedure },
  });
  state.dossier = dossier;
  state.view = null;
  state.current = null;
  state.drafts = {};
  state.rendered = "";
  sessionStorage.setItem(DOSSIER, JSON.stringify(dossier));
  $("#who-dossier").textContent = `Hồ sơ ${dossier.code}`;
  $("#components").replaceChildren();
  $("#uploads").replaceChildren();
  $("#review").hidden = true;
  show("dossier");
  await refreshLookup();
  follow(dossier.code);
  $("#drop").focus();
}

async function refreshLookup() {
  const d = state.dossier;
  const q = new URLSearchParams({ owner_id: d.owner, procedure: d.procedure, purpose: `tiếp nhận hồ sơ ${d.code}` });
  state.lookup = await api(`lookup?${q}`);
  renderReuse();
}

function typeName(code) {
  const t = state.catalogue?.types.find((x) => x.code === code);
  return t ? t.name : code || "Chưa rõ loại";
}

function renderReuse() {
  const lk = state.lookup;
  if (!lk) return;
  const d = state.dossier;
  $("#lookup-owner").textContent = `— công dân ${d.owner}${d.ownerName ? ` (${d.ownerName})` : ""}, thủ tục: ${lk.procedure.name}`;
  const reused = new Set((state.view?.reused || []).map((r) => r.id));
  const states = Object.fromEntries((state.view?.states || []).filter((s) => s.type).map((s) => [s.type, s]));
  const docs = Object.fromEntries(lk.documents.map((x) => [x.id, x]));
  const rows = [];
  const types = [...lk.procedure.required, ...lk.procedure.optional];
  for (const t of types) {
    const ids = lk.available[t] || [];
    const required = lk.procedure.required.includes(t);
    let st = states[t]?.state || "missing";
    if (st === "missing" && ids.length) st = "available"; // on file: reuse instead of scanning
    const label = st === "available" ? "Đã có, dùng lại được" : STATES[st] || st;
    const cls = st === "available" ? "state-scanned" : `state-${st}`;
    const cells = ids.length
      ? ids.map((id) => {
        const x = docs[id];
        const bits = [x.so_ky_hieu || x.fields?.ma_dinh_danh?.value || x.fields?.so_phat_hanh?.value,
          x.ngay_cap && `cấp ngày ${viDate(x.ngay_cap)}`, x.co_quan_cap, x.result_code && `mã ${x.result_code}`];
        return el("div", {}, bits.filter(Boolean).join(" · "));
      })
      : [el("span", { class: "hint" }, required ? "Chưa có: cần quét bản giấy" : "Không bắt buộc")];
    const buttons = ids.map((id) => reused.has(id)
      ? el("span", { class: "state state-reused" }, "✓ Đã dùng lại")
      : el("button", { type: "button", class: "primary reuse", dataset: { id }, onclick: () => reuse(id) }, "Dùng lại"));
    rows.push(el("tr", { dataset: { type: t } },
      el("td", {}, typeName(t), required ? "" : el("span", { class: "hint" }, " (không bắt buộc)")),
      el("td", { class: `state ${cls}` }, label),
      el("td", {}, cells),
      el("td", {}, buttons)));
  }
  $("#reuse tbody").replaceChildren(...rows);
  $("#reuse-empty").hidden = lk.documents.length > 0;
}

async function reuse(documentId) {
  try {
    await api(`dossiers/${encodeURIComponent(state.dossier.code)}/links`, {
      method: "POST", body: { document_id: documentId },
    });
    say("Đã dùng lại giấy tờ từ kho dữ liệu: công dân không phải nộp bản giấy.", "info");
    await refreshView();
  } catch (err) {
    say(friendly(err, "Không dùng lại được"));
  }
}

// ------------------------------------------------------------------ 4. scan or upload

const drop = $("#drop");
drop.addEventListener("dragover", (ev) => { ev.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (ev) => {
  ev.preventDefault();
  drop.classList.remove("over");
  uploadAll([...ev.dataTransfer.files]);
});
drop.addEventListener("keydown", (ev) => {
  if (ev.target === drop && (ev.key === "Enter" || ev.key === " ")) {
    ev.preventDefault();
    ev.stopPropagation();
    $("#files").click();
  }
});
$("#files").addEventListener("change", (ev) => { uploadAll([...ev.target.files]); ev.target.value = ""; });

async function uploadAll(files) {
  await Promise.all(files.map(uploadOne));
}

async function uploadOne(file) {
  const item = el("li", {}, `${file.name}: đang tải lên…`);
  $("#uploads").append(item);
  const form = new FormData();
  form.append("file", file, file.name);
  form.append("owner", state.dossier.owner);
  try {
    const r = await api(`dossiers/${encodeURIComponent(state.dossier.code)}/files`, { method: "POST", form });
    item.textContent = nfc(`${file.name}: đã nhận${r.duplicate ? " (tệp này đã có trong hồ sơ)" : ""}.`);
    if (!state.current) state.current = r.id;
    setTimeout(() => item.remove(), 4000);
    await refreshView();
  } catch (err) {
    item.textContent = friendly(err, `${file.name}: không nhận được`);
    item.className = "state-missing";
  }
}

// live progress: the server-sent events read with fetch, so the key stays in a header
function stopStream() {
  if (state.stream) state.stream.abort();
  state.stream = null;
}

async function follow(code) {
  stopStream();
  const ctrl = new AbortController();
  state.stream = ctrl;
  const url = `${API}/counter/dossiers/${encodeURIComponent(code)}/events`;
  while (!ctrl.signal.aborted) {
    try {
      const r = await fetch(url, { headers: { "X-API-Key": state.key, Accept: "text/event-stream" }, signal: ctrl.signal });
      if (r.status === 401) { signOut("Khóa API không đúng hoặc đã bị thu hồi. Vui lòng đăng nhập lại."); return; }
      if (!r.ok || !r.body) throw new Error(`HTTP ${r.status}`);
      const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value.replace(/\r\n/g, "\n");
        let cut;
        while ((cut = buf.indexOf("\n\n")) >= 0) {
          const chunk = buf.slice(0, cut);
          buf = buf.slice(cut + 2);
          const data = chunk.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trimStart()).join("\n");
          if (data && !ctrl.signal.aborted) onView(JSON.parse(data));
        }
      }
    } catch (err) {
      if (ctrl.signal.aborted) return;
    }
    await new Promise((ok) => setTimeout(ok, 1000)); // reconnect
  }
}

async function refreshView() {
  try {
    onView(await api(`counter/dossiers/${encodeURIComponent(state.dossier.code)}`));
  } catch { /* the stream will catch up */ }
}

function onView(view) {
  if (!view || !state.dossier || view.code !== state.dossier.code) return;
  state.view = view;
  $("#drop-folder").textContent = view.drop_folder
    ? `Máy quét cũng có thể lưu thẳng vào thư mục ${view.drop_folder}: tệp sẽ tự hiện ra ở đây.` : "";
  if (!state.current && view.components.length) state.current = view.components[0].id;
  renderReuse();
  renderComponents();
  renderReview();
  for (const id of state.pending) {
    const c = view.components.find((x) => x.id === id);
    if (!c || c.status === "failed" || c.registry_status === "duplicate") state.pending.delete(id);
    else if (c.registry_status) confirmComponent(id);
  }
}

function pageLine(c, p) {
  const key = `${c.id}/${p.id ?? p.position}`;
  let text = PAGE_STATUS[p.status] || p.status;
  if (p.status === "reading") {
    state.seen[key] ??= performance.now();
    text += ` ${secs((performance.now() - state.seen[key]) / 1000)}`;
  } else if (p.status === "done") {
    // the server's reading time; else what this page saw (from "reading" to "done")
    if (p.seconds == null && state.seen[key] && !state.took[key]) {
      state.took[key] = (performance.now() - state.seen[key]) / 1000;
    }
    const took = p.seconds ?? state.took[key];
    if (took != null) text += ` ${secs(took)}`;
  }
  if (p.blank) text += " · trang trắng";
  if (p.needs_attention) text += " · cần xem lại";
  if (p.error) text += ` · ${p.error}`;
  return el("li", { class: `st-${p.status}`, dataset: { status: p.status, page: p.position } },
    `Trang ${p.position + 1}: ${text}`);
}

function renderComponents() {
  const comps = state.view?.components || [];
  $("#components-empty").hidden = comps.length > 0;
  $("#components").replaceChildren(...comps.map((c, i) => {
    const attention = c.status === "failed" || c.needs_review || Object.values(c.fields).some((f) => f.low)
      || c.pages.some((p) => p.needs_attention);
    const status = c.registry_status === "verified" ? REGISTRY.verified
      : c.registry_status === "duplicate" ? REGISTRY.duplicate : COMPONENT_STATUS[c.status] || c.status;
    return el("li", {
      class: [c.id === state.current ? "current" : "", attention ? "attention" : ""].join(" "),
      dataset: { id: c.id, status: c.status }, tabindex: 0,
      onclick: () => select(c.id),
      onkeydown: (ev) => {
        if (ev.key === " " || ev.key === "Enter") { ev.preventDefault(); ev.stopPropagation(); select(c.id); }
      },
    },
    el("div", { class: "name" }, `${i + 1}. ${c.reviewable ? typeName(c.type) : c.source}`),
    el("div", { class: `state st-${c.status} ${c.registry_status === "verified" ? "state-verified" : ""}` }, status),
    c.reviewable ? el("div", { class: "hint" }, c.source) : null,
    el("ul", { class: "progress" }, c.pages.map((p) => pageLine(c, p))));
  }));
}

// ticking seconds of pages being read
setInterval(() => {
  if (state.view?.components.some((c) => c.pages.some((p) => p.status === "reading"))) renderComponents();
}, 500);

function select(id) {
  state.current = id;
  renderComponents();
  renderReview(true);
  const first = document.querySelector("#fields .low input") || $("#doc-type");
  if (!$("#review").hidden && first) first.focus();
}

function step(delta) {
  const comps = state.view?.components || [];
  if (!comps.length) return;
  const at = comps.findIndex((c) => c.id === state.current);
  select(comps[Math.min(comps.length - 1, Math.max(0, at + delta))].id);
}

// ------------------------------------------------------------------ 5. review

async function thumb(url) {
  if (state.thumbs.has(url)) return state.thumbs.get(url);
  const r = await api(url, { raw: true });
  const obj = URL.createObjectURL(await r.blob());
  state.thumbs.set(url, obj);
  return obj;
}

function figure(url, caption, status) {
  if (!url) return el("figure", {}, el("div", { class: "placeholder" }, PAGE_STATUS[status] || "…"), el("figcaption", {}, caption));
  const img = el("img", { alt: caption });
  if (url) thumb(url).then((src) => { img.src = src; }).catch(() => { img.alt = `${caption}: chưa có`; });
  return el("figure", {}, img, el("figcaption", {}, caption));
}

function renderReview(force = false) {
  const c = state.view?.components.find((x) => x.id === state.current);
  $("#review").hidden = !c;
  if (!c) return;
  const snapshot = JSON.stringify(c);
  if (!force && snapshot === state.rendered) return;
  state.rendered = snapshot;
  // the panel is rebuilt: keep the clerk's caret where it was
  const active = document.activeElement;
  const keep = active && active.closest && active.closest("#review") && active.id
    ? { id: active.id, start: active.selectionStart, end: active.selectionEnd } : null;
  renderReviewOf(c);
  const again = keep && document.getElementById(keep.id);
  if (again && !again.disabled) {
    again.focus();
    if (keep.start != null && again.setSelectionRange) again.setSelectionRange(keep.start, keep.end);
  }
}

function renderReviewOf(c) {
  const idx = state.view.components.indexOf(c) + 1;
  $("#review-title").textContent = nfc(`Kiểm tra thành phần ${idx}: ${c.source}`);

  const status = [];
  if (c.status === "failed") status.push(el("p", { class: "state state-missing" }, `Không đọc được: ${c.error || ""}`));
  else if (!c.reviewable) status.push(el("p", { class: "state state-pending" }, "Đang đọc các trang…"));
  if (c.reviewable && !c.registry_status && c.status !== "failed") {
    status.push(el("p", { class: "state state-pending" }, "Đang lập bản lưu trữ (PDF/A): có thể kiểm tra ngay, xác nhận khi xong."));
  }
  if (c.registry_status) {
    status.push(el("p", { class: `state state-${c.registry_status}` }, REGISTRY[c.registry_status] || c.registry_status,
      c.result_code ? ` · Mã kết quả số hóa: ${c.result_code}` : ""));
  }
  $("#review-status").replaceChildren(...status);

  // pages: before / after, with reorder, delete, scan again
  const ids = c.pages.map((p) => p.id);
  const canEdit = c.page_edit && c.reviewable && ids.every((x) => x != null);
  $("#pages").replaceChildren(...c.pages.map((p, i) => el("div", {
    class: `page${p.needs_attention || p.blank ? " attention" : ""}`, dataset: { position: i },
  },
  el("div", { class: "thumbs" }, figure(p.thumb_before, "Bản quét", p.status), figure(p.thumb_after, "Sau khi xoay, chỉnh nghiêng", p.status)),
  el("div", {}, `Trang ${i + 1}`, p.rotation ? ` · xoay ${p.rotation}°` : "",
    Math.abs(p.skew) >= 0.1 ? ` · nghiêng ${p.skew.toFixed(1).replace(".", ",")}°` : ""),
  canEdit ? el("div", { class: "row" },
    el("button", { type: "button", title: "Lên trước", disabled: i === 0, onclick: () => movePage(c, i, -1) }, "↑"),
    el("button", { type: "button", title: "Xuống sau", disabled: i === ids.length - 1, onclick: () => movePage(c, i, 1) }, "↓"),
    el("button", {
      type: "button", disabled: ids.length < 2,
      onclick: () => { if (window.confirm(`Xóa trang ${i + 1} khỏi thành phần này?`)) editPages(c, ids.filter((x) => x !== p.id)); },
    }, "Xóa"),
    el("button", { type: "button", onclick: () => rescan(c, p.id) }, "Quét lại")) : null)),
  ...(canEdit ? [el("button", { type: "button", class: "ghost add-page", onclick: () => rescan(c, null) }, "+ Thêm trang")] : []));

  // type and fields
  const draft = state.drafts[c.id] ||= { type: null, fields: {} };
  const sel = $("#doc-type");
  sel.replaceChildren(...state.catalogue.types.map((t) => el("option", { value: t.code }, t.name)));
  sel.value = draft.type || c.type || "khac";
  sel.disabled = !c.reviewable;
  $("#review-form").hidden = !c.reviewable;
  const conf = $("#type-confidence");
  conf.textContent = c.reviewable ? `độ tin cậy ${Math.round(c.type_confidence * 100)}%${c.needs_review ? " · cần kiểm tra" : ""}` : "";
  conf.className = `badge ${c.needs_review ? "review" : "ok"}`;
  renderFields(c);
  const verified = c.registry_status === "verified";
  $("#confirm").disabled = !c.reviewable || c.registry_status === "duplicate" || state.busy.has(c.id);
  $("#confirm").firstChild.textContent = verified ? "Lưu sửa đổi " : "Xác nhận ";
  const pdf = $("#pdf-link");
  pdf.hidden = !c.pdf;
  pdf.onclick = async (ev) => {
    ev.preventDefault();
    const r = await api(c.pdf, { raw: true });
    window.open(URL.createObjectURL(await r.blob()), "_blank");
  };
}

function renderFields(c) {
  const draft = state.drafts[c.id];
  const type = draft.type || c.type;
  const spec = state.catalogue.types.find((t) => t.code === type);
  const names = [...new Set([...(spec ? spec.fields : []), ...Object.keys(c.fields)])];
  $("#fields").replaceChildren(...names.map((name) => {
    const f = c.fields[name];
    const value = draft.fields[name] ?? shown(name, f?.value ?? "");
    const differs = () => name in draft.fields && stored(name, draft.fields[name]) !== (f?.value ?? "");
    const changed = differs();
    const badge = f
      ? el("span", { class: `badge${f.low ? " low" : ""}` }, `${SOURCES[f.source] || f.source}${f.source === "clerk" ? "" : ` ${Math.round(f.confidence * 100)}%`}${f.low ? " · cần kiểm tra" : ""}`)
      : el("span", { class: "badge" }, "chưa có");
    const input = el("input", {
      id: `f-${name}`, name, value, disabled: !c.reviewable,
      placeholder: DATE_FIELDS.has(name) ? "ngày/tháng/năm" : null,
    });
    input.addEventListener("input", () => {
      draft.fields[name] = nfc(input.value);
      input.closest(".field").classList.toggle("changed", differs());
    });
    return el("div", { class: `field${f?.low ? " low" : ""}${changed ? " changed" : ""}`, dataset: { field: name } },
      el("label", { for: `f-${name}` }, FIELD_LABELS[name] || name, badge), input);
  }));
}

$("#doc-type").addEventListener("change", () => {
  const c = state.view?.components.find((x) => x.id === state.current);
  if (!c) return;
  state.drafts[c.id].type = $("#doc-type").value === c.type ? null : $("#doc-type").value;
  renderFields(c);
});

$("#review-form").addEventListener("submit", (ev) => { ev.preventDefault(); confirmCurrent(); });

function confirmCurrent() {
  if (state.current && !$("#confirm").disabled) confirmComponent(state.current);
}

// Confirm a component: the clerk's corrections, then verify. A component still building its
// archival copy is not registered yet: it is confirmed as soon as it is (see onView).
async function confirmComponent(id) {
  const c = state.view?.components.find((x) => x.id === id);
  if (!c || !c.reviewable || state.busy.has(id)) return;
  const draft = state.drafts[c.id] || { type: null, fields: {} };
  const fields = {};
  for (const [name, text] of Object.entries(draft.fields)) {
    const value = stored(name, text);
    if (value === null) {
      say(`${FIELD_LABELS[name] || name}: ngày phải có dạng ngày/tháng/năm, ví dụ 05/05/2023.`);
      document.getElementById(`f-${name}`)?.focus();
      return;
    }
    if (value !== (c.fields[name]?.value ?? "")) fields[name] = value;
  }
  const type = draft.type && draft.type !== c.type ? draft.type : null;
  if (!c.registry_status) {
    state.pending.add(c.id);
    say("Đang lập bản lưu trữ: sẽ xác nhận ngay khi xong.", "info");
    return;
  }
  state.pending.delete(c.id);
  state.busy.add(c.id);
  if (id === state.current) $("#confirm").disabled = true;
  try {
    if (type || Object.keys(fields).length) {
      await api(`documents/${c.id}/corrections`, { method: "POST", body: { type, fields } });
    }
    let rec = null;
    if (c.registry_status === "draft") rec = await api(`documents/${c.id}/verify`, { method: "POST", body: { fields: {} } });
    state.drafts[c.id] = { type: null, fields: {} };
    say(`Đã xác nhận ${typeName(type || c.type)}${rec?.result_code ? `, mã kết quả số hóa ${rec.result_code}` : ""}.`, "info");
    await refreshView();
    const next = state.view.components.find((x) => x.reviewable && x.registry_status === "draft");
    if (next && id === state.current) select(next.id);
  } catch (err) {
    say(friendly(err, "Không xác nhận được"));
  } finally {
    state.busy.delete(c.id);
    renderReview(true);
  }
}

async function editPages(c, pageIds) {
  try {
    await api(`counter/components/${c.id}/pages`, { method: "PUT", body: { page_ids: pageIds } });
    await refreshView();
  } catch (err) {
    say(friendly(err, "Không sửa được trang"));
  }
}

function movePage(c, i, delta) {
  const ids = c.pages.map((p) => p.id);
  [ids[i], ids[i + delta]] = [ids[i + delta], ids[i]];
  editPages(c, ids);
}

function rescan(c, pageId) {
  const input = $("#rescan-file");
  input.onchange = async () => {
    const f = input.files[0];
    input.value = "";
    if (!f) return;
    const form = new FormData();
    form.append("file", f, f.name);
    if (pageId != null) form.append("replace", String(pageId));
    try {
      await api(`counter/components/${c.id}/pages`, { method: "POST", form });
      await refreshView();
    } catch (err) {
      say(friendly(err, pageId != null ? "Không quét lại được" : "Không thêm được trang"));
    }
  };
  input.click();
}

// ------------------------------------------------------------------ 6. receipt

async function openReceipt() {
  if (!state.dossier) return;
  let r;
  try {
    r = await api(`counter/dossiers/${encodeURIComponent(state.dossier.code)}/receipt`);
  } catch (err) {
    say(friendly(err, "Không lập được biên nhận"));
    return;
  }
  const d = state.dossier;
  const printed = new Date(r.printed_at);
  const head = [
    ["Mã hồ sơ", r.code], ["Thủ tục", r.procedure_name || r.procedure_code || ""],
    ["Công dân", `${d.ownerName ? `${d.ownerName} — ` : ""}số định danh ${d.owner}`],
    ["Thời gian", printed.toLocaleString("vi-VN")],
  ];
  $("#receipt-head").replaceChildren(...head.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
  const rows = (items) => items.length
    ? items.map((x, i) => el("tr", {}, el("td", {}, String(i + 1)), el("td", {}, x.type_name),
      el("td", {}, x.number || ""), el("td", {}, viDate(x.date)), el("td", {}, x.result_code || "")))
    : [el("tr", {}, el("td", { colspan: 5, class: "hint" }, "Không có"))];
  $("#receipt-digitized tbody").replaceChildren(...rows(r.digitized));
  $("#receipt-reused tbody").replaceChildren(...rows(r.reused));
  const notes = [];
  if (r.missing.length) notes.push(`Còn thiếu: ${r.missing.join("; ")}.`);
  if (r.pending) notes.push(`${r.pending} thành phần đang được đọc.`);
  $("#receipt-missing").textContent = nfc(notes.join(" "));
  show("receipt");
  $("#receipt-print").focus();
}

function closeReceipt() {
  show("dossier");
  $("#drop").focus();
}
$("#receipt-open").addEventListener("click", openReceipt);
$("#receipt-print").addEventListener("click", () => window.print());
$("#receipt-close").addEventListener("click", closeReceipt);

// ------------------------------------------------------------------ keyboard

document.addEventListener("keydown", (ev) => {
  const inDossier = !$("#dossier").hidden;
  const typing = ev.target instanceof HTMLElement && ev.target.matches("input, select, textarea");
  if (ev.key === "Escape" && !$("#receipt").hidden) { ev.preventDefault(); closeReceipt(); return; }
  if (!inDossier) return;
  const alt = ev.altKey && !ev.ctrlKey && !ev.metaKey;
  const key = ev.key.toLowerCase();
  if (alt && key === "n") { ev.preventDefault(); step(1); }
  else if (alt && key === "p") { ev.preventDefault(); step(-1); }
  else if (alt && key === "u") { ev.preventDefault(); $("#files").click(); }
  else if (alt && key === "i") { ev.preventDefault(); openReceipt(); }
  else if (ev.key === "Enter" && !typing && !(ev.target instanceof HTMLButtonElement)
           && !(ev.target instanceof HTMLAnchorElement) && !$("#review").hidden) {
    ev.preventDefault();
    confirmCurrent();
  }
});

// ------------------------------------------------------------------ start

async function boot() {
  if (!state.key) { show("login"); $("#api-key").focus(); return; }
  try {
    await signIn(state.key);
  } catch {
    signOut("Phiên làm việc đã hết. Vui lòng đăng nhập lại.");
    return;
  }
  const saved = JSON.parse(sessionStorage.getItem(DOSSIER) || "null");
  if (saved) {
    try { await openDossier(saved); return; } catch { /* start afresh */ }
  }
  await openStart();
}
boot();
