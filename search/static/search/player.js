/*
 * The reviewing player of OPVideo (search/jinja2/search/_reviewer.html).
 *
 * One <video> plays the parts of the page: the parts of a call on the recording's page, the
 * results on the search page. It goes on by itself (and by "Next part", N) only to the next
 * part of the same call: a part's `call` names it, and the search page's rows are many
 * calls, whose recordings nobody chose to watch. Its contract with the pages:
 *   - <script type="application/json" id="reviewer-parts">: the parts, each
 *     {id, call, play, page, notes, label, poster, sprite, preview, duration, playable, url};
 *   - #reviewer data-start-index / data-start-time (seconds, from ?t=);
 *   - a part without `url` is fetched from `play` (POST, CSRF) when it is first played:
 *     handing out a link is what the audit calls a view, so nothing is fetched before;
 *   - window.opvideoReviewer.select(index, {autoplay: true}) plays another part, and the
 *     document gets an "opvideo:part" event ({index, id}) whenever the part changes.
 * The notes (notes.js, loaded after this) use window.opvideoReviewer too: part(), time(),
 * duration(), seek(), clock(), postJson(), text, root, video.
 * Keys (when no text field has the focus): Space/K play-pause, J/L -10/+10 s, arrows -5/+5 s,
 * 0-9 jump to 0-90 %, N next part, "," and "." a frame back/forward. The speed is kept in
 * localStorage. Texts come translated from the page (#reviewer-text).
 */
(() => {
  "use strict";

  const root = document.getElementById("reviewer");
  if (!root) return;

  const readJson = (id) => JSON.parse(document.getElementById(id)?.textContent || "null");
  const parts = readJson(root.dataset.parts) || [];
  const text = readJson(root.dataset.text) || {};
  const video = document.getElementById("reviewer-video");
  const $ = (selector) => root.querySelector(selector);
  const ui = {
    main: $(".reviewer-main"),
    label: $(".reviewer-label"),
    page: $(".reviewer-page"),
    message: $(".reviewer-message"),
    bar: $(".reviewer-bar"),
    progress: $(".reviewer-progress"),
    buffered: $(".reviewer-buffered"),
    thumb: $(".reviewer-thumb"),
    thumbImage: $(".reviewer-thumb-image"),
    thumbTime: $(".reviewer-thumb-time"),
    current: $(".reviewer-current"),
    duration: $(".reviewer-duration"),
    next: $(".reviewer-next"),
    mute: $(".reviewer-mute"),
    speed: $("[data-speed]"),
    link: $("#reviewer-link"),
    copyStatus: $(".reviewer-copy-status"),
  };
  const SPEEDS = [0.5, 0.75, 1, 1.25, 1.5, 2];
  const SPEED_KEY = "opvideo.reviewer.speed";
  const FRAME = 1 / 25; // "frame-ish": screen recordings run at 10-30 frames a second
  const THUMB_WIDTH = 160;

  const state = {
    index: -1,
    pendingSeek: null, // seconds to seek to once the part's metadata is loaded
    dragging: false,
    shownSecond: -1,
  };

  // --- small helpers ------------------------------------------------------------------------

  const clamp = (value, low, high) => Math.min(high, Math.max(low, value));

  function clock(seconds) {
    const whole = Math.max(0, Math.floor(seconds || 0));
    const h = Math.floor(whole / 3600);
    const m = Math.floor((whole % 3600) / 60);
    const s = String(whole % 60).padStart(2, "0");
    return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
  }

  function csrfToken() {
    const field = root.querySelector('input[name="csrfmiddlewaretoken"]');
    if (field) return field.value;
    const cookie = document.cookie.split("; ").find((c) => c.startsWith("csrftoken="));
    return cookie ? decodeURIComponent(cookie.slice(10)) : "";
  }

  async function postJson(url, body) {
    const response = await fetch(url, {
      method: "POST",
      body,
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": csrfToken() },
    });
    const data = await response.json().catch(() => ({}));
    return { response, data };
  }

  const part = () => parts[state.index];

  function duration() {
    if (Number.isFinite(video.duration) && video.duration > 0) return video.duration;
    return part()?.duration || 0;
  }

  function say(message) {
    ui.message.textContent = message || "";
    ui.message.hidden = !message;
  }

  /** The next playable part of the call of part ``from``, or -1 at the call's end: a call's
   * parts are together and in order, so the first part of another call ends it. */
  function nextPlayable(from) {
    const call = parts[from]?.call;
    for (let i = from + 1; i < parts.length && parts[i].call === call; i += 1) {
      if (parts[i].playable) return i;
    }
    return -1;
  }

  // --- speed ---------------------------------------------------------------------------------

  function storedSpeed() {
    try {
      const value = Number(localStorage.getItem(SPEED_KEY));
      return SPEEDS.includes(value) ? value : 1;
    } catch {
      return 1; // storage refused (privacy settings): the speed is simply not remembered
    }
  }

  function setSpeed(rate) {
    if (!SPEEDS.includes(rate)) return;
    video.defaultPlaybackRate = rate; // survives a change of part (load() resets the rate)
    video.playbackRate = rate;
    ui.speed.value = String(rate);
    try {
      localStorage.setItem(SPEED_KEY, String(rate));
    } catch {
      /* not remembered */
    }
  }

  // --- parts ---------------------------------------------------------------------------------

  /** Make ``index`` the current part; play it with {autoplay: true}, from ``time`` seconds. */
  function select(index, { autoplay = false, time = 0 } = {}) {
    if (!Number.isInteger(index) || index < 0 || index >= parts.length) return;
    const chosen = parts[index];
    const changed = index !== state.index;
    state.index = index;
    state.pendingSeek = time > 0 ? time : null;
    say("");
    if (changed) {
      video.pause();
      video.removeAttribute("src");
      video.load();
      if (chosen.poster) video.poster = chosen.poster;
      else video.removeAttribute("poster");
      if (chosen.url) {
        // The link was handed out (and audited) with the page: read the part's length and
        // show the frame of ?t= at once.
        video.preload = "metadata";
        video.src = chosen.url;
      }
    }
    renderPart();
    if (changed) {
      document.dispatchEvent(
        new CustomEvent("opvideo:part", { detail: { index, id: chosen.id } }),
      );
    }
    if (!chosen.playable) say(text.unplayable);
    else if (autoplay) play();
  }

  function renderPart() {
    const current = part();
    ui.label.textContent = current.label || "";
    ui.page.href = current.page;
    ui.page.hidden = current.page === window.location.pathname;
    root.querySelectorAll(".reviewer-parts button").forEach((button) => {
      if (Number(button.dataset.index) === state.index) button.setAttribute("aria-current", "true");
      else button.removeAttribute("aria-current");
    });
    ui.next.disabled = nextPlayable(state.index) < 0; // the call's last part: none to go to
    ui.thumb.hidden = true;
    renderTime();
    renderLink(true);
  }

  /** The part's signed link: the one it came with, else a fresh one from its play URL. */
  async function partUrl(current) {
    if (current.url) return current.url;
    const { response, data } = await postJson(current.play);
    if (!response.ok) {
      if (response.status === 401) throw new Error(text.signed_out);
      if (response.status === 404 || response.status === 410) current.playable = false;
      throw new Error(data.error || text.failed);
    }
    // The play answer may carry what a listing did not: previews, the length, the notes.
    for (const key of ["url", "poster", "sprite", "preview", "duration", "notes"]) {
      if (data[key] != null) current[key] = data[key];
    }
    return current.url;
  }

  const hasSource = () => Boolean(video.getAttribute("src"));

  /** Give the video the current part's link (asking for one if need be); false if it has
   * none to give, the reason said. */
  async function ensureSource() {
    const current = part();
    if (!current || !current.playable) {
      say(text.unplayable);
      return false;
    }
    if (hasSource()) return true;
    const index = state.index;
    let url;
    try {
      url = await partUrl(current);
    } catch (error) {
      if (index === state.index) say(error.message);
      return false;
    }
    if (index !== state.index) return false; // another part was chosen meanwhile
    if (!hasSource()) {
      video.preload = "auto";
      video.src = url;
      if (current.poster && !video.poster) video.poster = current.poster;
    }
    return true;
  }

  async function play() {
    const index = state.index;
    if (!(await ensureSource()) || index !== state.index) return;
    video.playbackRate = video.defaultPlaybackRate;
    try {
      await video.play();
    } catch (error) {
      // AbortError: the source changed under it (another part); NotAllowedError: autoplay
      // refused until the user clicks; either way the play button is there.
      if (error.name !== "AbortError" && error.name !== "NotAllowedError") say(text.failed);
    }
  }

  function togglePlay() {
    if (video.paused || video.ended) play();
    else video.pause();
  }

  function seekTo(seconds) {
    const length = duration();
    const target = length ? clamp(seconds, 0, Math.max(0, length - 0.05)) : Math.max(0, seconds);
    if (video.readyState >= HTMLMediaElement.HAVE_METADATA) {
      video.currentTime = target;
    } else {
      // Not loaded yet: seeking is wanting to watch there, so the part is loaded.
      state.pendingSeek = target;
      if (hasSource()) video.preload = "auto";
      else ensureSource();
    }
    renderTime(target);
    renderLink(true, target);
  }

  const skip = (delta) => seekTo(currentTime() + delta);
  const currentTime = () => (state.pendingSeek != null ? state.pendingSeek : video.currentTime);

  function step(frames) {
    video.pause();
    seekTo(currentTime() + frames * FRAME);
  }

  // --- time, seek bar and thumbnails ---------------------------------------------------------

  function renderTime(at) {
    const now = at != null ? at : currentTime();
    const length = duration();
    ui.current.textContent = clock(now);
    ui.duration.textContent = clock(length);
    const share = length ? clamp(now / length, 0, 1) : 0;
    if (!state.dragging) ui.progress.style.width = `${share * 100}%`;
    ui.bar.setAttribute("aria-valuemax", String(Math.floor(length)));
    ui.bar.setAttribute("aria-valuenow", String(Math.floor(now)));
    ui.bar.setAttribute("aria-valuetext", `${clock(now)} / ${clock(length)}`);
    let buffered = 0;
    for (let i = 0; i < video.buffered.length; i += 1) {
      buffered = Math.max(buffered, video.buffered.end(i));
    }
    ui.buffered.style.width = `${length ? clamp(buffered / length, 0, 1) * 100 : 0}%`;
  }

  function timeAt(clientX) {
    const box = ui.bar.getBoundingClientRect();
    return clamp((clientX - box.left) / box.width, 0, 1) * duration();
  }

  /** The tile of the sprite that shows ``seconds``, scaled to at most ``maxWidth`` px. */
  function spriteTile(preview, seconds, maxWidth) {
    if (!preview) return null;
    const { interval, tile_width: w, tile_height: h, columns, count } = preview;
    if (!(interval > 0 && w > 0 && h > 0 && columns > 0 && count > 0)) return null;
    const index = clamp(Math.floor(seconds / interval), 0, count - 1);
    const scale = Math.min(1, maxWidth / w);
    return {
      index,
      width: w * scale,
      height: h * scale,
      x: -(index % columns) * w * scale,
      y: -Math.floor(index / columns) * h * scale,
      sheetWidth: columns * w * scale,
      sheetHeight: Math.ceil(count / columns) * h * scale,
    };
  }

  function showThumb(clientX) {
    const length = duration();
    if (!length) return;
    const seconds = timeAt(clientX);
    const current = part();
    const tile = current.sprite ? spriteTile(current.preview, seconds, THUMB_WIDTH) : null;
    const image = ui.thumbImage;
    if (tile) {
      image.hidden = false;
      image.dataset.tile = String(tile.index);
      Object.assign(image.style, {
        width: `${tile.width}px`,
        height: `${tile.height}px`,
        backgroundImage: `url("${encodeURI(current.sprite)}")`,
        backgroundSize: `${tile.sheetWidth}px ${tile.sheetHeight}px`,
        backgroundPosition: `${tile.x}px ${tile.y}px`,
      });
    } else {
      image.hidden = true;
      delete image.dataset.tile;
    }
    ui.thumbTime.textContent = clock(seconds);
    ui.thumb.hidden = false;
    const box = ui.bar.getBoundingClientRect();
    const half = ui.thumb.offsetWidth / 2;
    const x = clamp(clientX - box.left, half, Math.max(half, box.width - half));
    ui.thumb.style.left = `${x}px`;
    if (state.dragging) ui.progress.style.width = `${(seconds / length) * 100}%`;
  }

  ui.bar.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    state.dragging = true;
    ui.bar.setPointerCapture(event.pointerId);
    showThumb(event.clientX);
    event.preventDefault();
  });
  ui.bar.addEventListener("pointermove", (event) => showThumb(event.clientX));
  ui.bar.addEventListener("pointerup", (event) => {
    if (!state.dragging) return;
    state.dragging = false;
    seekTo(timeAt(event.clientX));
    if (event.pointerType !== "mouse") ui.thumb.hidden = true;
  });
  ui.bar.addEventListener("pointercancel", () => {
    state.dragging = false;
    ui.thumb.hidden = true;
  });
  ui.bar.addEventListener("pointerleave", () => {
    if (!state.dragging) ui.thumb.hidden = true;
  });
  ui.bar.addEventListener("keydown", (event) => {
    if (event.key === "Home") seekTo(0);
    else if (event.key === "End") seekTo(duration());
    else return;
    event.preventDefault();
  });

  // --- the link to the moment ------------------------------------------------------------------

  function renderLink(force = false, at = null) {
    const seconds = Math.floor(at != null ? at : currentTime());
    if (!force && seconds === state.shownSecond) return;
    state.shownSecond = seconds;
    const url = new URL(part().page, window.location.href);
    if (seconds > 0) url.searchParams.set("t", String(seconds));
    ui.link.value = url.href;
  }

  async function copyLink() {
    renderLink(true);
    ui.copyStatus.textContent = "";
    if (navigator.clipboard && window.isSecureContext) {
      try {
        await navigator.clipboard.writeText(ui.link.value);
        ui.copyStatus.textContent = text.copied;
        return;
      } catch {
        /* refused: fall back to the selection */
      }
    }
    // Plain http on the intranet has no clipboard API: select the link for Ctrl+C.
    ui.link.focus();
    ui.link.select();
    let copied = false;
    try {
      copied = document.execCommand("copy");
    } catch {
      copied = false;
    }
    ui.copyStatus.textContent = copied ? text.copied : text.copy_select;
  }

  // --- the video's own events ------------------------------------------------------------------

  function renderPlaying() {
    const playing = !video.paused && !video.ended;
    root.classList.toggle("is-playing", playing);
    root.querySelectorAll('[data-action="play"]').forEach((button) => {
      button.setAttribute("aria-label", playing ? text.pause : text.play);
    });
    $(".reviewer-play").textContent = playing ? "❚❚" : "▶";
  }

  video.addEventListener("loadedmetadata", () => {
    if (state.pendingSeek != null) {
      video.currentTime = clamp(state.pendingSeek, 0, Math.max(0, video.duration - 0.05));
      state.pendingSeek = null;
    }
    renderTime();
  });
  video.addEventListener("timeupdate", () => {
    renderTime();
    renderLink();
  });
  video.addEventListener("progress", () => renderTime());
  video.addEventListener("play", renderPlaying);
  video.addEventListener("pause", () => {
    renderPlaying();
    renderLink(true);
  });
  video.addEventListener("ended", () => {
    renderPlaying();
    const next = nextPlayable(state.index);
    if (next >= 0) select(next, { autoplay: true }); // else the call is over: stop
  });
  video.addEventListener("error", () => {
    if (!hasSource()) return;
    // An expired or refused link: the next play asks for a fresh one.
    const current = part();
    if (current) current.url = null;
    video.removeAttribute("src");
    say(text.failed);
    renderPlaying();
  });
  video.addEventListener("ratechange", () => {
    if (SPEEDS.includes(video.playbackRate)) ui.speed.value = String(video.playbackRate);
  });
  video.addEventListener("volumechange", () => {
    ui.mute.textContent = video.muted ? text.sound_on : text.sound_off;
  });
  video.addEventListener("click", togglePlay);

  // --- controls --------------------------------------------------------------------------------

  root.addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (!button || !root.contains(button)) return;
    if (button.dataset.skip) skip(Number(button.dataset.skip));
    else if (button.dataset.index != null) select(Number(button.dataset.index), { autoplay: true });
    else if (button.dataset.action === "play") togglePlay();
    else if (button.dataset.action === "next") goNext();
    else if (button.dataset.action === "mute") video.muted = !video.muted;
    else if (button.dataset.action === "copy") copyLink();
    else if (button.dataset.action === "fullscreen") toggleFullscreen();
  });
  ui.speed.addEventListener("change", () => setSpeed(Number(ui.speed.value)));

  function goNext() {
    const next = nextPlayable(state.index);
    if (next >= 0) select(next, { autoplay: true });
  }

  function toggleFullscreen() {
    if (document.fullscreenElement) document.exitFullscreen();
    else ui.main.requestFullscreen?.();
  }

  // --- keyboard --------------------------------------------------------------------------------

  function typingIn(element) {
    if (!element) return false;
    if (element.isContentEditable) return true;
    if (element.tagName === "TEXTAREA" || element.tagName === "SELECT") return true;
    if (element.tagName !== "INPUT") return false;
    return !["button", "checkbox", "radio", "range", "submit", "reset"].includes(element.type);
  }

  const KEYS = {
    Space: togglePlay,
    KeyK: togglePlay,
    KeyJ: () => skip(-10),
    KeyL: () => skip(10),
    ArrowLeft: () => skip(-5),
    ArrowRight: () => skip(5),
    KeyN: goNext,
    Comma: () => step(-1),
    Period: () => step(1),
  };

  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    if (typingIn(target)) return;
    // Space on a control elsewhere on the page (a row's play button, a link) is that
    // control's; inside the player it plays and pauses.
    const control = target.closest?.("button, a, summary");
    if (event.code === "Space" && control && !root.contains(control)) return;
    if (event.code === "Space" && control?.tagName === "SUMMARY") return;
    const digit = /^(?:Digit|Numpad)(\d)$/.exec(event.code);
    if (digit) {
      const length = duration();
      if (length) seekTo((Number(digit[1]) / 10) * length);
    } else if (KEYS[event.code]) {
      KEYS[event.code]();
    } else {
      return;
    }
    event.preventDefault();
  });

  // --- start -----------------------------------------------------------------------------------

  window.opvideoReviewer = {
    select,
    play,
    pause: () => video.pause(),
    seek: seekTo,
    get index() {
      return state.index;
    },
    parts,
    spriteTile,
    // For notes.js: the current part, the player's moment and length, and the helpers.
    part,
    time: currentTime,
    duration,
    clock,
    postJson,
    text,
    root,
    video,
  };

  if (!parts.length) {
    root.hidden = true;
    return;
  }
  setSpeed(storedSpeed());
  const startIndex = clamp(Number(root.dataset.startIndex) || 0, 0, parts.length - 1);
  select(startIndex, { time: Number(root.dataset.startTime) || 0 });
})();
