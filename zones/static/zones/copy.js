// Copy buttons on the zone page. navigator.clipboard exists only on https (or localhost);
// the intranet admin may run on plain http, where the button selects the text instead so
// that Ctrl+C copies it.
"use strict";
document.addEventListener("click", (event) => {
  const button = event.target.closest("button.zone-copy");
  if (!button) return;
  const source = document.getElementById(button.dataset.copyTarget);
  const status = button.parentElement.querySelector(".zone-copy-status");
  const say = (text) => { if (status) status.textContent = text; };
  const select = () => {
    const range = document.createRange();
    range.selectNodeContents(source);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    say(button.dataset.selected);
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(source.textContent).then(() => say(button.dataset.copied), select);
  } else {
    select();
  }
});
