// Tainik's browser uploader: seals files in the page with age (the reference TypeScript
// implementation) and uploads them segment by segment, resumably (docs/protocol.md).
//
// Progressive enhancement only: without JavaScript the same form posts multipart to /submit
// and the server seals on arrival. With it, the server never sees plaintext, even in memory.

import { Encrypter } from "age-encryption";
import { sha256 } from "@noble/hashes/sha2.js";

const SEGMENT = 4 * 1024 * 1024;
const IN_FLIGHT = 2;
const MAX_BACKOFF = 60000;

const form = document.getElementById("submit-form");
const ui = document.getElementById("upload-ui");
if (form && ui && window.fetch && window.crypto && window.crypto.subtle) {
  start(form, ui);
}

function start(form, ui) {
  const text = JSON.parse(ui.dataset.strings);
  const csrf = form.querySelector("input[name=csrf]").value;
  const status = ui.querySelector("#upload-status");
  const bar = ui.querySelector("#upload-bar");
  const detail = ui.querySelector("#upload-detail");
  const pauseButton = ui.querySelector("#upload-pause");
  const unfinished = ui.querySelector("#unfinished");
  let paused = false;
  let busy = false;
  ui.hidden = false;
  form.dataset.enhanced = "js";

  pauseButton.addEventListener("click", () => {
    paused = !paused;
    pauseButton.textContent = paused ? text.resume : text.pause;
    status.textContent = paused ? text.paused : text.uploading;
  });

  listUnfinished().catch(() => {});

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (busy) return;
    busy = true;
    run().catch((error) => {
      status.textContent = text.failed + " " + (error && error.message ? error.message : "");
      status.className = "error";
      busy = false;
    });
  });

  async function api(method, path, body, expect = [200]) {
    const headers = { "X-CSRF-Token": csrf };
    let payload = body;
    if (body !== undefined && !(body instanceof Uint8Array)) {
      headers["Content-Type"] = "application/json";
      payload = JSON.stringify(body);
    } else if (body instanceof Uint8Array) {
      headers["Content-Type"] = "application/octet-stream";
    }
    let backoff = 1000;
    for (;;) {
      while (paused) await sleep(300);
      let response;
      try {
        response = await fetch(path, { method, headers, body: payload, credentials: "same-origin" });
      } catch (networkError) {
        response = null;
      }
      if (response && expect.includes(response.status)) {
        return response.status === 204 ? null : response.json();
      }
      if (response && response.status < 500 && response.status !== 429) {
        let message = response.statusText;
        try { message = (await response.json()).message || message; } catch (e) { /* keep */ }
        if (response.status === 401) message = text.session;
        throw new Error(message);
      }
      status.textContent = text.retrying;
      await sleep(backoff * (0.5 + Math.random() / 2));
      backoff = Math.min(backoff * 2, MAX_BACKOFF);
      status.textContent = paused ? text.paused : text.uploading;
    }
  }

  async function listUnfinished() {
    const listing = await api("GET", "/api/uploads");
    unfinished.replaceChildren();
    for (const upload of listing.uploads) {
      if (!upload.note || upload.note.kind !== "file") continue;
      const done = upload.received.length / upload.segments;
      const item = document.createElement("li");
      item.className = "unfinished-upload";
      item.textContent = `${upload.note.name} — ${formatBytes(upload.note.size)} — ${Math.floor(done * 100)}% ${text.received}`;
      unfinished.appendChild(item);
    }
    ui.querySelector("#unfinished-box").hidden = unfinished.children.length === 0;
    return listing.uploads;
  }

  async function run() {
    const files = Array.from(form.querySelector("#files").files || []);
    const message = form.querySelector("#message").value;
    if (form.querySelector("#website") && form.querySelector("#website").value) {
      window.location.assign("/lookup?sent=1");
      return;
    }
    if (!files.length && !message.trim()) {
      window.location.assign("/lookup?sent=0");
      return;
    }
    // Ready to send: a new codename's keys are derived now, once (docs/protocol.md).
    const session = await api("POST", "/api/session");
    const limit = session.max_upload_bytes;
    const tooLarge = files.find((f) => limit && f.size > limit);
    if (tooLarge) {
      // The server would refuse it too (docs/protocol.md), but only after a long read.
      throw new Error(text.too_large.replace("{name}", tooLarge.name));
    }
    const messageBytes = new TextEncoder().encode(message.replace(/\r\n/g, "\n"));
    const total = files.reduce((sum, f) => sum + f.size, 0) +
      (message.trim() ? messageBytes.length : 0);
    const progress = new Progress(total);
    const job = { aborted: false };
    const existing = (await api("GET", "/api/uploads")).uploads;
    let count = 0;
    for (const file of files) {
      status.textContent = text.preparing + " " + file.name;
      const plan = await planFile(file, (bytes) => {
        detail.textContent = `${text.preparing} ${file.name}: ${formatBytes(bytes)} / ${formatBytes(file.size)}`;
      });
      status.textContent = text.uploading;
      await send(plan, session, existing, progress, job);
      count += 1;
    }
    if (message.trim()) {
      const plan = await planBytes(messageBytes, "", "message");
      await send(plan, session, existing, progress, job);
      count += 1;
    }
    status.textContent = text.done;
    window.location.assign(`/lookup?sent=${count}`);
  }

  async function send(plan, session, existing, progress, job) {
    const match = existing.find((u) => u.note && u.note.name === plan.name &&
      u.note.size === plan.size && u.note.sha256 === hex(plan.whole));
    let upload;
    if (match) {
      plan.id = match.id;
      upload = match;
    } else {
      const note = await seal(new TextEncoder().encode(JSON.stringify({
        v: 1, name: plan.name, size: plan.size, segment_size: SEGMENT, sha256: hex(plan.whole),
        segments: plan.hashes.map(hex), kind: plan.kind,
      })), [session.recipient]);
      upload = await api("POST", "/api/uploads",
        { id: plan.id, segments: plan.hashes.length, note: base64(note) }, [200, 201]);
    }
    const have = new Set(upload.received);
    for (const index of have) progress.add(segmentLength(plan, index), false);
    const queue = [];
    for (let i = 0; i < plan.hashes.length; i++) if (!have.has(i)) queue.push(i);
    progress.begin();
    const worker = async () => {
      while (queue.length && !job.aborted) {
        const index = queue.shift();
        const data = await plan.read(index);
        const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
        if (hex(digest) !== hex(plan.hashes[index])) throw new Error(text.changed);
        const sealed = await seal(data, session.organisation);
        await api("PUT", `/api/uploads/${plan.id}/segments/${index}`, sealed);
        progress.add(data.length, true);
      }
    };
    try {
      await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    } catch (error) {
      job.aborted = true; // stop the other worker too
      throw error;
    }
    if (!upload.manifest) {
      const manifest = await seal(manifestBytes(plan), session.organisation);
      await api("PUT", `/api/uploads/${plan.id}/manifest`, manifest);
    }
    await api("POST", `/api/uploads/${plan.id}/complete`);
  }

  function Progress(total) {
    // The rate counts only sending time: the clock starts when the first segment goes out.
    let startedAt = null;
    let done = 0;
    let sentNow = 0;
    this.begin = () => {
      if (startedAt === null) startedAt = performance.now();
    };
    this.add = (bytes, sentHere) => {
      done += bytes;
      if (sentHere) sentNow += bytes;
      const seconds = startedAt === null ? 0 : (performance.now() - startedAt) / 1000;
      const rate = sentNow / Math.max(seconds, 0.001);
      const left = rate > 0 ? (total - done) / rate : 0;
      bar.max = Math.max(total, 1);
      bar.value = done;
      detail.textContent = `${formatBytes(done)} / ${formatBytes(total)} · ${formatBytes(rate)}/s · ${text.left.replace("{time}", formatTime(left))}`;
    };
  }
}

async function planFile(file, onProgress) {
  const count = Math.max(1, Math.ceil(file.size / SEGMENT));
  const whole = sha256.create();
  const hashes = [];
  for (let i = 0; i < count; i++) {
    const data = new Uint8Array(await file.slice(i * SEGMENT, Math.min((i + 1) * SEGMENT, file.size)).arrayBuffer());
    whole.update(data);
    hashes.push(new Uint8Array(await crypto.subtle.digest("SHA-256", data)));
    onProgress(Math.min((i + 1) * SEGMENT, file.size));
  }
  return {
    id: newId(), name: file.name, size: file.size, kind: "file", whole: whole.digest(), hashes,
    read: async (i) => new Uint8Array(await file.slice(i * SEGMENT, Math.min((i + 1) * SEGMENT, file.size)).arrayBuffer()),
  };
}

async function planBytes(bytes, name, kind) {
  const hashes = [];
  const count = Math.max(1, Math.ceil(bytes.length / SEGMENT));
  for (let i = 0; i < count; i++) {
    hashes.push(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes.subarray(i * SEGMENT, (i + 1) * SEGMENT))));
  }
  return {
    id: newId(), name, size: bytes.length, kind, whole: sha256(bytes), hashes,
    read: async (i) => bytes.slice(i * SEGMENT, (i + 1) * SEGMENT),
  };
}

function segmentLength(plan, index) {
  return Math.min(SEGMENT, plan.size - index * SEGMENT);
}

// docs/format.md, "Manifest": the exact canonical text.
function manifestBytes(plan) {
  const lines = [
    "tainik.org/sealed/v1",
    `id ${plan.id}`,
    `kind ${plan.kind}`,
    `name ${base64(new TextEncoder().encode(plan.name)).replace(/=+$/, "")}`,
    `size ${plan.size}`,
    `segment-size ${SEGMENT}`,
    `sha256 ${hex(plan.whole)}`,
    ...plan.hashes.map((h) => `segment ${hex(h)}`),
    "end",
  ];
  return new TextEncoder().encode(lines.join("\n") + "\n");
}

async function seal(bytes, recipients) {
  const encrypter = new Encrypter();
  for (const recipient of recipients) encrypter.addRecipient(recipient);
  return encrypter.encrypt(bytes);
}

function newId() {
  const raw = crypto.getRandomValues(new Uint8Array(16));
  const alphabet = "abcdefghijklmnopqrstuvwxyz234567";
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of raw) {
    value = ((value << 8) | byte) & 0xfff;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}

function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function base64(bytes) {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

function formatBytes(n) {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}

function formatTime(seconds) {
  if (!isFinite(seconds)) return "…";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h} h ${m} min` : m ? `${m} min ${s % 60} s` : `${s % 60} s`;
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
