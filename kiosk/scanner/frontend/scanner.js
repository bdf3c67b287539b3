// The kiosk's viewfinder. The camera's picture stays in this page: each frame is drawn to a
// canvas and decoded here (ZXing C++ as WebAssembly); only the text of a code goes to the
// server. A USB scanner is a keyboard that types the code and Enter: its keys are caught on
// the whole page, so no text field needs focus (and no on-screen keyboard opens).
//
// Streamlit's component protocol (apiVersion 1, as streamlit-component-lib speaks it), by hand:
// we post streamlit:componentReady, streamlit:setComponentValue and streamlit:setFrameHeight to
// the parent, and receive streamlit:render with the args given in Python.
"use strict";

(function () {
  const DECODE_EVERY_MS = 100;
  const MAX_DECODE_WIDTH = 960;
  // A scanner types a whole code in a few milliseconds a key; a longer gap starts a new code,
  // so keys pressed by hand before a scan are not glued to its front.
  const SCANNER_KEY_GAP_MS = 1500;
  const MIN_CODE_LENGTH = 4;
  const MAX_CODE_LENGTH = 2048;
  // After a code is sent the next screen is on its way: the same code is not sent again
  // meanwhile (it would rerun the app for nothing).
  const SAME_CODE_QUIET_MS = 4000;
  const READER_OPTIONS = { formats: ["QRCode"], tryHarder: true, maxNumberOfSymbols: 1 };

  const box = document.getElementById("box");
  const video = document.getElementById("video");
  const hint = document.getElementById("hint");
  const canvas = document.createElement("canvas");
  const context = canvas.getContext("2d", { willReadFrequently: true });

  let words = {};
  let state = "starting"; // starting | scanning | read | denied | missing
  let started = false;
  let stopped = false;
  let stream = null;
  let lastSent = { text: "", at: 0 };
  let sentCount = 0;
  let keys = "";
  let lastKeyAt = 0;

  // --- Talking to Streamlit ---------------------------------------------------------------

  function post(type, data) {
    window.parent.postMessage(Object.assign({ isStreamlitMessage: true, type: type }, data), "*");
  }

  function setFrameHeight() {
    post("streamlit:setFrameHeight", { height: Math.ceil(box.getBoundingClientRect().height) + 4 });
  }

  function send(text, source) {
    const code = text.trim();
    const now = Date.now();
    if (!code || code.length > MAX_CODE_LENGTH) return;
    if (code === lastSent.text && now - lastSent.at < SAME_CODE_QUIET_MS) return;
    lastSent = { text: code, at: now };
    sentCount += 1;
    // The nonce makes the same code shown twice a new value for the app.
    const nonce = now.toString(36) + "-" + sentCount + "-" + Math.random().toString(36).slice(2, 10);
    post("streamlit:setComponentValue", {
      value: { code: code, nonce: nonce, source: source },
      dataType: "json",
    });
    if (state === "scanning") show("read");
  }

  // --- What the patient sees ---------------------------------------------------------------

  function show(next) {
    state = next;
    box.classList.toggle("off", next === "denied" || next === "missing");
    box.classList.toggle("read", next === "read");
    const text = {
      starting: words.starting,
      scanning: words.hint,
      read: words.read,
      denied: words.denied,
      missing: words.missing,
    }[next];
    hint.textContent = text || "";
    if (next === "read") {
      setTimeout(function () {
        if (!stopped && state === "read") show("scanning");
      }, SAME_CODE_QUIET_MS);
    }
    setFrameHeight();
  }

  // --- The camera and the decoder -----------------------------------------------------------

  const decoderReady = fetch("vendor/zxing-wasm/zxing_reader.wasm")
    .then(function (response) {
      if (!response.ok) throw new Error("zxing_reader.wasm: HTTP " + response.status);
      return response.arrayBuffer();
    })
    .then(function (bytes) {
      // The .wasm comes from this folder, never from the package's default CDN.
      return ZXingWASM.prepareZXingModule({
        overrides: { wasmBinary: bytes },
        fireImmediately: true,
      });
    });

  function stopCamera() {
    if (stream) stream.getTracks().forEach(function (track) { track.stop(); });
    stream = null;
  }

  async function startCamera() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      // No camera API: an insecure (http, not localhost) page, or no camera at all.
      show("missing");
      return;
    }
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        audio: false,
        video: { facingMode: { ideal: "environment" }, width: { ideal: 1280 },
                 height: { ideal: 720 } },
      });
    } catch (error) {
      const refused = error && (error.name === "NotAllowedError" || error.name === "SecurityError");
      show(refused ? "denied" : "missing");
      return;
    }
    if (stopped) { stopCamera(); return; }
    const track = stream.getVideoTracks()[0];
    const settings = track && track.getSettings ? track.getSettings() : {};
    // A camera facing the patient shows a mirror image, as a mirror would.
    box.classList.toggle("mirrored", settings.facingMode === "user");
    if (track) track.addEventListener("ended", function () { if (!stopped) show("missing"); });
    video.srcObject = stream;
    try { await video.play(); } catch (error) { /* autoplay of a muted video is allowed */ }
    try {
      await decoderReady;
    } catch (error) {
      console.error("scanner: the decoder did not load", error);
      stopCamera();
      show("missing");
      return;
    }
    show("scanning");
    decodeLoop();
  }

  async function decodeOnce() {
    if (state !== "scanning" || video.readyState < 2 || !video.videoWidth) return;
    const scale = Math.min(1, MAX_DECODE_WIDTH / video.videoWidth);
    const width = Math.round(video.videoWidth * scale);
    const height = Math.round(video.videoHeight * scale);
    if (canvas.width !== width) canvas.width = width;
    if (canvas.height !== height) canvas.height = height;
    context.drawImage(video, 0, 0, width, height);
    const results = await ZXingWASM.readBarcodes(context.getImageData(0, 0, width, height),
                                                 READER_OPTIONS);
    const found = results.find(function (result) { return result.isValid && result.text; });
    if (found && !stopped) send(found.text, "camera");
  }

  async function decodeLoop() {
    if (stopped) return;
    try {
      await decodeOnce();
    } catch (error) {
      console.warn("scanner: a frame could not be decoded", error);
    }
    setTimeout(decodeLoop, DECODE_EVERY_MS);
  }

  // --- A USB scanner typing on the page -----------------------------------------------------

  function typingInAField(target) {
    if (!target || target.nodeType !== 1) return false;
    const tag = target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable;
  }

  function onKeyDown(event) {
    if (stopped || event.ctrlKey || event.altKey || event.metaKey) return;
    // The typed-code field, or any other, keeps its keys: its own form handles them.
    if (typingInAField(event.target)) return;
    const now = Date.now();
    if (now - lastKeyAt > SCANNER_KEY_GAP_MS) keys = "";
    lastKeyAt = now;
    if (event.key === "Enter") {
      if (keys.length >= MIN_CODE_LENGTH) {
        event.preventDefault();
        event.stopImmediatePropagation();
        send(keys, "keys");
      }
      keys = "";
      return;
    }
    if (event.key.length === 1) {
      keys = (keys + event.key).slice(-MAX_CODE_LENGTH);
      // The code's letters are not the app's keyboard shortcuts.
      event.stopImmediatePropagation();
    }
  }

  const keyTargets = [window];
  try {
    // The component's page comes from the app's own server (same origin), so it can listen on
    // the app's page too, where the keys go when nothing in here has focus.
    if (window.parent !== window && window.parent.document) keyTargets.push(window.parent);
  } catch (error) {
    console.warn("scanner: keys are caught inside the viewfinder only", error);
  }
  keyTargets.forEach(function (target) { target.addEventListener("keydown", onKeyDown, true); });

  window.addEventListener("pagehide", function () {
    stopped = true;
    stopCamera();
    keyTargets.forEach(function (target) {
      try { target.removeEventListener("keydown", onKeyDown, true); } catch (error) { /* gone */ }
    });
  });

  // The app's typeface (Streamlit's Source Sans), so the viewfinder's words look like the
  // page's: its @font-face rules are copied from the app's page with their URLs made absolute.
  function borrowAppFont(theme) {
    try {
      const rules = [];
      Array.from(window.parent.document.styleSheets).forEach(function (sheet) {
        let list;
        try { list = sheet.cssRules; } catch (error) { return; }
        const base = sheet.href || window.parent.location.href;
        Array.from(list).forEach(function (rule) {
          if (rule.type !== 5) return; // CSSRule.FONT_FACE_RULE
          rules.push(rule.cssText.replace(/url\((['"]?)([^'")]+)\1\)/g, function (all, quote, url) {
            return 'url("' + new URL(url, base).href + '")';
          }));
        });
      });
      const style = document.createElement("style");
      style.textContent = rules.join("\n");
      document.head.appendChild(style);
    } catch (error) { /* the fallback typeface will do */ }
    if (theme && theme.font) document.body.style.fontFamily = theme.font;
  }

  // --- Start --------------------------------------------------------------------------------

  window.addEventListener("message", function (event) {
    const data = event.data;
    if (event.source !== window.parent || !data || data.type !== "streamlit:render") return;
    const args = data.args || {};
    words = args.words || {};
    document.documentElement.lang = args.lang || "en";
    video.setAttribute("aria-label", words.camera || "");
    // A screen reader names the frame in the patient's language, not by the component's name.
    try {
      if (window.frameElement && words.camera) window.frameElement.title = words.camera;
    } catch (error) { /* another origin: Streamlit's title stays */ }
    if (args.keys_only) {
      // The welcome screen: no camera and nothing to see, only a USB scanner's keys.
      if (!started) {
        started = true;
        box.style.display = "none";
        post("streamlit:setFrameHeight", { height: 0 });
        // Nothing to see or reach: hidden from screen readers and the Tab key.
        try {
          const frame = window.frameElement;
          if (frame) {
            frame.setAttribute("aria-hidden", "true");
            frame.setAttribute("tabindex", "-1");
            frame.title = "";
          }
        } catch (error) { /* another origin: nothing to tidy */ }
      }
      return;
    }
    show(state);
    if (!started) {
      started = true;
      borrowAppFont(data.theme);
      startCamera();
    }
  });

  if (window.ResizeObserver) new ResizeObserver(setFrameHeight).observe(box);
  post("streamlit:componentReady", { apiVersion: 1 });
})();
