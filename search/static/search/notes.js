/*
 * The notes of the reviewing player (search/jinja2/search/_reviewer.html): the current
 * part's notes listed beside the player and marked on its seek bar, one added at the
 * player's moment, one deleted; clicking a note's time seeks there.
 *
 * Loaded after player.js (both deferred), it knows the player only through
 * window.opvideoReviewer (see player.js): part(), time(), duration(), seek(seconds),
 * clock(seconds), postJson(url, body), text, root and video; and through the document's
 * "opvideo:part" event, when another part becomes the current one. The part's `notes` is
 * the URL its notes are read from (GET) and added at (POST).
 */
(() => {
  "use strict";

  const reviewer = window.opvideoReviewer;
  if (!reviewer || !reviewer.parts.length) return;

  const $ = (selector) => reviewer.root.querySelector(selector);
  const ui = {
    marks: $(".reviewer-marks"),
    notesList: $(".notes-list"),
    notesEmpty: $(".notes-empty"),
    notesClosed: $(".notes-closed"),
    noteForm: $(".note-form"),
    noteAt: $('.note-form [name="at"]'),
    noteText: $('.note-form [name="text"]'),
    noteError: $(".note-error"),
  };
  const state = {
    notes: [],
    notesFor: null, // the part whose notes are (being) shown
    momentPinned: false, // the note's moment stays put while a note is being written
  };

  const clamp = (value, low, high) => Math.min(high, Math.max(low, value));

  async function loadNotes(current) {
    state.notesFor = current.id;
    const url = current.notes || `${current.page}notes/`;
    try {
      const response = await fetch(url, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      const data = await response.json();
      if (state.notesFor !== current.id) return;
      if (!response.ok) throw new Error(data.error || reviewer.text.failed);
      state.notes = data.notes || [];
      renderNotes(data.add);
    } catch (error) {
      if (state.notesFor !== current.id) return;
      state.notes = [];
      renderNotes(null);
      ui.noteError.textContent = error.message || reviewer.text.failed;
      ui.noteError.hidden = false;
    }
  }

  function noteItem(note) {
    const item = document.createElement("li");
    item.className = "note";
    item.id = `note-${note.id}`;
    item.dataset.at = String(note.at);
    const time = document.createElement("a");
    time.className = "note-time";
    time.href = `${reviewer.part().page}?t=${Math.floor(note.at)}`;
    time.textContent = note.moment;
    const body = document.createElement("p");
    body.className = "note-text";
    body.textContent = note.text;
    const meta = document.createElement("p");
    meta.className = "note-meta";
    meta.textContent = `${note.author} · ${note.created}`;
    item.append(time, body, meta);
    if (note.delete) {
      const form = document.createElement("form");
      form.method = "post";
      form.action = note.delete;
      form.className = "note-delete";
      const button = document.createElement("button");
      button.type = "submit";
      button.className = "link";
      button.textContent = reviewer.text.delete;
      form.append(button);
      item.append(form);
    }
    return item;
  }

  function renderNotes(addUrl) {
    ui.notesList.replaceChildren(...state.notes.map(noteItem));
    ui.notesEmpty.hidden = state.notes.length > 0;
    ui.notesClosed.hidden = Boolean(addUrl);
    ui.noteForm.hidden = !addUrl;
    if (addUrl) ui.noteForm.action = addUrl;
    ui.noteError.hidden = true;
    renderMarks();
  }

  function renderMarks() {
    const length = reviewer.duration();
    ui.marks.replaceChildren(
      ...(length ? state.notes : []).map((note) => {
        const mark = document.createElement("span");
        mark.className = "reviewer-mark";
        mark.style.left = `${clamp(note.at / length, 0, 1) * 100}%`;
        mark.title = `${note.moment} ${note.text.slice(0, 80)}`;
        return mark;
      }),
    );
  }

  function setMoment(seconds) {
    ui.noteAt.value = reviewer.clock(seconds);
    ui.noteAt.dataset.shown = ui.noteAt.value;
    ui.noteAt.dataset.seconds = seconds.toFixed(3);
  }

  ui.noteText.addEventListener("focus", () => {
    if (!state.momentPinned) setMoment(reviewer.time());
    state.momentPinned = true;
  });
  ui.noteText.addEventListener("blur", () => {
    // Left without writing anything: the moment follows the player again.
    if (!ui.noteText.value.trim() && ui.noteAt.value === ui.noteAt.dataset.shown) {
      state.momentPinned = false;
    }
  });
  ui.noteAt.addEventListener("input", () => {
    state.momentPinned = true;
  });

  ui.noteForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = new FormData(ui.noteForm);
    // The moment as the player knows it, unless it was typed over.
    if (ui.noteAt.value === ui.noteAt.dataset.shown) body.set("at", ui.noteAt.dataset.seconds);
    const forPart = reviewer.part().id;
    let result;
    try {
      result = await reviewer.postJson(ui.noteForm.action, body);
    } catch {
      result = { response: { ok: false, status: 0 }, data: {} };
    }
    const { response, data } = result;
    if (!response.ok) {
      ui.noteError.textContent =
        response.status === 401
          ? reviewer.text.signed_out
          : data.error || reviewer.text.note_failed;
      ui.noteError.hidden = false;
      return;
    }
    if (forPart !== reviewer.part().id) return;
    state.notes = [...state.notes, data.note].sort((a, b) => a.at - b.at || a.id - b.id);
    renderNotes(ui.noteForm.action);
    ui.noteText.value = "";
    state.momentPinned = false;
    setMoment(reviewer.time());
    document.getElementById(`note-${data.note.id}`)?.scrollIntoView({ block: "nearest" });
  });

  ui.notesList.addEventListener("click", (event) => {
    const time = event.target.closest(".note-time");
    if (!time || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    reviewer.seek(Number(time.closest(".note").dataset.at));
  });

  ui.notesList.addEventListener("submit", async (event) => {
    const form = event.target.closest(".note-delete");
    if (!form) return;
    event.preventDefault();
    if (!window.confirm(reviewer.text.delete_confirm)) return;
    const { response, data } = await reviewer.postJson(form.action);
    if (!response.ok) {
      ui.noteError.textContent = data.error || reviewer.text.failed;
      ui.noteError.hidden = false;
      return;
    }
    state.notes = state.notes.filter((note) => note.id !== data.deleted);
    renderNotes(ui.noteForm.hidden ? null : ui.noteForm.action);
  });

  // --- the player's events -----------------------------------------------------------------

  document.addEventListener("opvideo:part", (event) => {
    loadNotes(reviewer.parts[event.detail.index]);
  });
  reviewer.video.addEventListener("loadedmetadata", renderMarks);
  reviewer.video.addEventListener("timeupdate", () => {
    if (!state.momentPinned && document.activeElement !== ui.noteAt) setMoment(reviewer.time());
  });

  // --- start: the player chose its first part before this script ran -------------------------

  loadNotes(reviewer.part());
  if (!state.momentPinned) setMoment(reviewer.time());
})();
