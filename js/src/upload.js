// Tainik's browser uploader: seals files in the page with age (the reference TypeScript
// implementation) and uploads them segment by segment, resumably (docs/protocol.md).
//
// Progressive enhancement only: without JavaScript the same form posts multipart to /submit
// and the server seals on arrival. With it, the server never sees plaintext, even in memory.
//
// The message goes first (it is small) and is resumable too: its one segment, sealed to the
// organisation, travels inside the upload's note (sealed to the source), so a page reloaded
// before the segment arrived still sends it, without the plaintext and with nothing typed
// again. Segments go by XMLHttpRequest, whose upload events count the bytes as they leave.

import { Encrypter } from "age-encryption";
import { sha256 } from "@noble/hashes/sha2.js";

const SEGMENT = 4 * 1024 * 1024;
const IN_FLIGHT = 2;
const MAX_BACKOFF = 60000;
const TICK_MS = 500; // how often the rate is sampled and the line redrawn
const RATE_TIME_S = 5; // time constant of the smoothed rate (exponential moving average)
// The first bytes of a connection fill the buffers between the page and the network (the
// system's, a local Tor client's) at once: they are not measured, and until this much time
// after the first byte there is no rate and no time left.
const RATE_WARMUP_S = 1;

const form = document.getElementById("submit-form");
const ui = document.getElementById("upload-ui");
if (form && ui && window.XMLHttpRequest && window.crypto && window.crypto.subtle) {
  start(form, ui);
}

function start(form, ui) {
  const text = JSON.parse(ui.dataset.strings);
  const units = new Units(document.documentElement.lang || "en");
  const csrf = form.querySelector("input[name=csrf]").value;
  const status = ui.querySelector("#upload-status");
  const bar = ui.querySelector("#upload-bar");
  const detail = ui.querySelector("#upload-detail");
  const pauseButton = ui.querySelector("#upload-pause");
  const unfinished = ui.querySelector("#unfinished");
  let paused = false;
  let busy = false; // the form's sending runs
  let resumingMessages = false; // unfinished messages are being finished after a reload
  let resumed = 0; // messages finished by this page after a reload, counted in the thank-you
  let progress = null;
  ui.hidden = false;
  form.dataset.enhanced = "js";
  phase("idle");

  pauseButton.addEventListener("click", () => {
    paused = !paused;
    pauseButton.textContent = paused ? text.resume : text.pause;
    status.textContent = paused ? text.paused : text.uploading;
    if (progress) progress.render();
  });

  // Leaving now would stop what is being sent; the browser asks first (its own words).
  window.addEventListener("beforeunload", (event) => {
    if (!busy && !resumingMessages) return;
    event.preventDefault();
    event.returnValue = "";
  });

  let resumeFailed = false; // tried again at the next Send
  const resuming = resumeMessages().catch((error) => {
    resumingMessages = false;
    resumeFailed = true;
    phase("idle");
    showError(error);
  });

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (busy) return;
    busy = true;
    run().catch((error) => {
      busy = false;
      phase("idle");
      showError(error);
      listUnfinished().catch(() => {});
    });
  });

  function showError(error) {
    status.textContent = text.failed + " " + (error && error.message ? error.message : "");
    status.className = "error";
  }

  // What shows: the bar and Pause only while segments are being sent.
  function phase(name) {
    bar.hidden = name !== "sending";
    pauseButton.hidden = name !== "sending";
    if (name === "idle") {
      detail.textContent = "";
      if (progress) progress.stop();
      progress = null;
      paused = false;
      pauseButton.textContent = text.pause;
    }
  }

  function request(method, path, body, onSent) {
    return new Promise((resolve) => {
      const xhr = new XMLHttpRequest();
      xhr.open(method, path);
      xhr.setRequestHeader("X-CSRF-Token", csrf);
      let payload = null;
      if (body instanceof Uint8Array) {
        xhr.setRequestHeader("Content-Type", "application/octet-stream");
        payload = body;
      } else if (body !== undefined) {
        xhr.setRequestHeader("Content-Type", "application/json");
        payload = JSON.stringify(body);
      }
      if (onSent) {
        xhr.upload.addEventListener("progress", (event) => {
          if (event.lengthComputable) onSent(event.loaded / Math.max(event.total, 1));
        });
      }
      xhr.addEventListener("load", () => resolve(xhr));
      for (const name of ["error", "abort", "timeout"]) {
        xhr.addEventListener(name, () => resolve(null));
      }
      xhr.send(payload);
    });
  }

  function parsed(xhr) {
    try { return JSON.parse(xhr.responseText); } catch (e) { return null; }
  }

  // One API call, retried on network errors, 429 and 5xx with exponential backoff; onSent
  // gets the fraction of the body that has left (0 again at each try).
  async function api(method, path, body, expect = [200], onSent = null) {
    let backoff = 1000;
    for (;;) {
      while (paused) await sleep(300);
      if (onSent) onSent(0);
      const xhr = await request(method, path, body, onSent);
      if (xhr && expect.includes(xhr.status)) {
        if (onSent) onSent(1);
        return xhr.status === 204 ? null : parsed(xhr);
      }
      if (onSent) onSent(0);
      if (xhr && xhr.status && xhr.status < 500 && xhr.status !== 429) {
        const answer = parsed(xhr);
        let message = (answer && answer.message) || xhr.statusText;
        if (xhr.status === 401) message = text.session;
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
      const note = upload.note;
      if (!note || (note.kind !== "file" && note.kind !== "message")) continue;
      const done = upload.received.length / upload.segments;
      const item = document.createElement("li");
      item.className = "unfinished-upload";
      item.dataset.kind = note.kind;
      const what = note.kind === "message" ? text.message_item : note.name;
      item.textContent = `${what} — ${units.bytes(note.size)} — ${units.percent(Math.floor(done * 100))} ${text.received}`;
      unfinished.appendChild(item);
    }
    ui.querySelector("#unfinished-box").hidden = unfinished.children.length === 0;
    return listing.uploads;
  }

  // After a reload: list what is unfinished, and finish the messages (their sealed segment
  // is in the note; nothing needs to be typed or chosen again).
  async function resumeMessages() {
    const uploads = await listUnfinished();
    const messages = uploads.filter((u) => u.note && u.note.kind === "message" &&
      typeof u.note.sealed === "string");
    if (!messages.length) return;
    resumingMessages = true;
    const session = await api("POST", "/api/session");
    status.className = "";
    status.textContent = text.uploading;
    progress = new Progress(messages.reduce((sum, u) => sum + u.note.size, 0));
    for (const upload of messages) {
      await send(planFromNote(upload), session, [upload], progress);
      resumed += 1;
    }
    resumingMessages = false;
    phase("idle");
    status.textContent = text.message_resumed;
    await listUnfinished();
  }

  async function run() {
    status.className = "";
    await resuming;
    if (resumeFailed) {
      resumeFailed = false;
      await resumeMessages();
    }
    const files = Array.from(form.querySelector("#files").files || []);
    const message = form.querySelector("#message").value;
    if (form.querySelector("#website") && form.querySelector("#website").value) {
      leave("/lookup?sent=1");
      return;
    }
    if (!files.length && !message.trim()) {
      leave(`/lookup?sent=${resumed}`);
      return;
    }
    // Ready to send: a new codename's keys are derived now, once (docs/protocol.md).
    const session = await api("POST", "/api/session");
    const limit = session.max_upload_bytes;
    const tooLarge = files.find((f) => limit && f.size > limit);
    if (tooLarge) {
      // The server would refuse it too (docs/protocol.md), but only after a long read.
      throw new Error(text.too_large.replace("{name}", tooLarge.name)
        .replace("{limit}", units.bytes(limit)));
    }
    const messageBytes = new TextEncoder().encode(message.replace(/\r\n/g, "\n"));
    const total = files.reduce((sum, f) => sum + f.size, 0) +
      (message.trim() ? messageBytes.length : 0);
    progress = new Progress(total);
    const existing = (await api("GET", "/api/uploads")).uploads;
    let count = resumed;
    if (message.trim()) {
      status.textContent = text.uploading;
      const plan = await planBytes(messageBytes, "", "message");
      plan.sealed = await seal(messageBytes, session.organisation);
      await send(plan, session, existing, progress);
      count += 1;
    }
    for (const file of files) {
      phase("reading");
      status.textContent = text.preparing + " " + file.name;
      detail.textContent = `${units.bytes(0)} / ${units.bytes(file.size)}`;
      const plan = await planFile(file, (bytes) => {
        detail.textContent = `${units.bytes(bytes)} / ${units.bytes(file.size)}`;
      }, text.changed);
      status.textContent = paused ? text.paused : text.uploading;
      phase("sending"); // the line under the bar says what is sent from now on, not what was read
      progress.render();
      await send(plan, session, existing, progress);
      count += 1;
    }
    status.textContent = text.done;
    leave(`/lookup?sent=${count}`);
  }

  function leave(path) {
    busy = false; // everything is on the server: no question on the way out
    phase("idle");
    window.location.assign(path);
  }

  async function send(plan, session, existing, progress) {
    const match = existing.find((u) => u.id === plan.id || (u.note && u.note.name === plan.name &&
      u.note.size === plan.size && u.note.sha256 === hex(plan.whole) &&
      (u.note.kind || "file") === plan.kind));
    let upload;
    if (match) {
      plan.id = match.id;
      upload = match;
    } else {
      const note = {
        v: 1, name: plan.name, size: plan.size, segment_size: SEGMENT, sha256: hex(plan.whole),
        segments: plan.hashes.map(hex), kind: plan.kind,
      };
      if (plan.sealed) note.sealed = base64(plan.sealed);
      const sealedNote = await seal(new TextEncoder().encode(JSON.stringify(note)),
        [session.recipient]);
      upload = await api("POST", "/api/uploads",
        { id: plan.id, segments: plan.hashes.length, note: base64(sealedNote) }, [200, 201]);
    }
    const have = new Set(upload.received);
    for (const index of have) progress.held(segmentLength(plan, index));
    const queue = [];
    for (let i = 0; i < plan.hashes.length; i++) if (!have.has(i)) queue.push(i);
    phase("sending");
    progress.render();
    let failed = false;
    const worker = async () => {
      while (queue.length && !failed) {
        const index = queue.shift();
        const length = segmentLength(plan, index);
        const sealed = await plan.sealedSegment(index, session.organisation);
        const key = `${plan.id}/${index}`;
        await api("PUT", `/api/uploads/${plan.id}/segments/${index}`, sealed, [200],
          (fraction) => progress.sending(key, Math.floor(length * fraction)));
        progress.landed(key, length);
      }
    };
    try {
      await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    } catch (error) {
      failed = true; // stop the other worker too
      throw error;
    }
    if (!upload.manifest) {
      const manifest = await seal(manifestBytes(plan), session.organisation);
      await api("PUT", `/api/uploads/${plan.id}/manifest`, manifest);
    }
    await api("POST", `/api/uploads/${plan.id}/complete`, { kind: plan.kind });
  }

  // The bar and the line under it: bytes held by the server plus the bytes of the segments
  // in flight that have left; a rate smoothed over a few seconds, shown (with the time left)
  // only once there is one.
  function Progress(total) {
    let done = 0; // plaintext bytes of the segments the server holds
    const flying = new Map(); // segment -> plaintext bytes of it that have left
    let sent = 0; // bytes that left this page, for the rate
    let lastAt = null;
    let lastSent = 0;
    let firstByteAt = null;
    let smoothed = 0; // exponential moving average of the rate, started at 0 ...
    let weight = 0; // ... and the weight it has gathered (so smoothed / weight is unbiased)
    let rate = null;
    const timer = setInterval(tick, TICK_MS);

    this.held = (bytes) => { done += bytes; };
    this.sending = (key, bytes) => {
      const before = flying.get(key) || 0;
      if (bytes > before) sent += bytes - before;
      flying.set(key, bytes);
      render();
    };
    this.landed = (key, length) => {
      const before = flying.get(key) || 0;
      if (length > before) sent += length - before;
      flying.delete(key);
      done += length;
      render();
    };
    this.stop = () => clearInterval(timer);
    this.render = render;

    function value() {
      let inFlight = 0;
      for (const bytes of flying.values()) inFlight += bytes;
      return Math.min(done + inFlight, total);
    }

    function tick() {
      const now = performance.now();
      if (paused || lastAt === null) {
        lastAt = now; // time paused is not sending time
        lastSent = sent;
        return;
      }
      const seconds = (now - lastAt) / 1000;
      const instant = (sent - lastSent) / seconds;
      lastAt = now;
      lastSent = sent;
      if (firstByteAt === null) {
        if (sent === 0) return;
        firstByteAt = now;
      }
      if ((now - firstByteAt) / 1000 < RATE_WARMUP_S) return;
      const alpha = 1 - Math.exp(-seconds / RATE_TIME_S);
      smoothed += alpha * (instant - smoothed);
      weight += alpha * (1 - weight);
      if (smoothed > 0) rate = smoothed / weight;
      render();
    }

    function render() {
      if (bar.hidden) return;
      const shown = value();
      bar.max = Math.max(total, 1);
      bar.value = shown;
      let line = `${units.bytes(shown)} / ${units.bytes(total)}`;
      if (!paused && rate !== null) {
        const left = text.left.replace("{time}", units.time((total - shown) / rate));
        line += ` · ${text.rate.replace("{size}", units.bytes(rate))} · ${left}`;
      }
      detail.textContent = line;
    }
  }
}

// Numbers and units in the page's language (CLDR, as the server's Babel: decimal units). A rate
// is a size in the page's "{size}/s" (CLDR's Russian "per second" has a Latin "c").
function Units(lang) {
  const cache = new Map();
  const format = (unit, digits, n) => {
    const key = `${unit}/${digits}`;
    if (!cache.has(key)) {
      cache.set(key, new Intl.NumberFormat(lang, {
        style: "unit", unit, unitDisplay: unit === "byte" ? "long" : "short", // "12 bytes"
        minimumFractionDigits: digits, maximumFractionDigits: digits,
      }));
    }
    return cache.get(key).format(n);
  };
  const BYTES = ["byte", "kilobyte", "megabyte", "gigabyte", "terabyte"];
  const scaled = (n) => {
    let i = 0;
    while (i < BYTES.length - 1 && (i ? Math.round(n * 10) / 10 : Math.round(n)) >= 1000) {
      n /= 1000;
      i++;
    }
    return [n, i];
  };
  this.bytes = (count) => {
    const [n, i] = scaled(count);
    return format(BYTES[i], i ? 1 : 0, n);
  };
  this.time = (seconds) => {
    const s = Math.max(1, Math.round(seconds));
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    if (h) return `${format("hour", 0, h)} ${format("minute", 0, m)}`;
    if (m) return `${format("minute", 0, m)} ${format("second", 0, s % 60)}`;
    return format("second", 0, s);
  };
  const percent = new Intl.NumberFormat(lang, { style: "percent", maximumFractionDigits: 0 });
  this.percent = (whole) => percent.format(whole / 100);
}

async function planFile(file, onProgress, changed) {
  const count = Math.max(1, Math.ceil(file.size / SEGMENT));
  const whole = sha256.create();
  const hashes = [];
  const read = async (i) =>
    new Uint8Array(await file.slice(i * SEGMENT, Math.min((i + 1) * SEGMENT, file.size)).arrayBuffer());
  for (let i = 0; i < count; i++) {
    const data = await read(i);
    whole.update(data);
    hashes.push(new Uint8Array(await crypto.subtle.digest("SHA-256", data)));
    onProgress(Math.min((i + 1) * SEGMENT, file.size));
  }
  return {
    id: newId(), name: file.name, size: file.size, kind: "file", whole: whole.digest(), hashes,
    sealedSegment: async (index, recipients) => {
      const data = await read(index);
      const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
      if (hex(digest) !== hex(hashes[index])) throw new Error(changed);
      return seal(data, recipients);
    },
  };
}

// A message: one segment, sealed once; the same sealed bytes go into the note and the PUT.
async function planBytes(bytes, name, kind) {
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const plan = {
    id: newId(), name, size: bytes.length, kind, whole: sha256(bytes), hashes: [hash],
    sealed: null,
    sealedSegment: async () => plan.sealed,
  };
  return plan;
}

// A message left unfinished before a reload, from its note alone.
function planFromNote(upload) {
  const note = upload.note;
  const plan = {
    id: upload.id, name: note.name, size: note.size, kind: note.kind,
    whole: fromHex(note.sha256), hashes: note.segments.map(fromHex),
    sealed: fromBase64(note.sealed),
    sealedSegment: async () => plan.sealed,
  };
  return plan;
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

function fromHex(text) {
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.substr(i * 2, 2), 16);
  return out;
}

function base64(bytes) {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

function fromBase64(text) {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
