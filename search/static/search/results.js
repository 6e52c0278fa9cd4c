// The search results table: each row's play button plays that part in the page's one
// player (search/_reviewer.html, player.js: window.opvideoReviewer), the row being played
// is marked, and a session id is copied with one click. Without the player (a page that has
// none) the play button opens the recording's own page instead.
(function () {
  "use strict";
  const table = document.querySelector(".results-table");
  if (!table) return;

  function play(button) {
    const index = Number(button.dataset.partIndex);
    const reviewer = window.opvideoReviewer;
    if (!reviewer) {
      window.location.href = button.closest("tr").dataset.page;
      return;
    }
    reviewer.select(index, { autoplay: true });
    const box = document.getElementById("review");
    if (box) {
      const rect = box.getBoundingClientRect();
      if (rect.top < 0 || rect.top > window.innerHeight) box.scrollIntoView({ block: "start" });
    }
  }

  function copy(button) {
    const text = button.dataset.copy;
    const done = () => {
      button.classList.add("done");
      button.setAttribute("title", button.dataset.done);
      setTimeout(() => button.classList.remove("done"), 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done);
      return;
    }
    // Plain http (a test stand): the old way, through a selected text field.
    const field = document.createElement("textarea");
    field.value = text;
    field.setAttribute("readonly", "");
    field.style.position = "fixed";
    field.style.opacity = "0";
    document.body.appendChild(field);
    field.select();
    if (document.execCommand("copy")) done();
    field.remove();
  }

  table.addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (!button || !table.contains(button)) return;
    if (button.classList.contains("play")) play(button);
    else if (button.classList.contains("copy")) copy(button);
  });

  // The player says which part it is on; mark that row.
  document.addEventListener("opvideo:part", (event) => {
    for (const row of table.querySelectorAll("tr.current")) {
      row.classList.remove("current");
      row.removeAttribute("aria-current");
    }
    const row = table.querySelector(`tr[data-part-index="${event.detail.index}"]`);
    if (row) {
      row.classList.add("current");
      row.setAttribute("aria-current", "true");
    }
  });
})();
