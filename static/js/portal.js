// Show a readable message when an htmx request cannot reach the server at all;
// HTTP errors themselves come back as fragments retargeted to #errors by the server.
document.addEventListener("htmx:sendError", function () {
  var box = document.getElementById("errors");
  if (box) {
    box.innerHTML = '<div class="error-box" role="alert"><strong>The portal did not answer.</strong> ' +
      'Check your connection and try again.</div>';
  }
});
// A successful swap clears an error shown by an earlier failed request.
document.addEventListener("htmx:afterSwap", function (evt) {
  var box = document.getElementById("errors");
  if (box && evt.detail.target !== box && evt.detail.xhr && evt.detail.xhr.status < 400) {
    box.innerHTML = "";
  }
});
// Forms marked data-confirm ask before they submit (inline onsubmit handlers are not
// allowed by the Content Security Policy).
document.addEventListener("submit", function (evt) {
  var message = evt.target.getAttribute && evt.target.getAttribute("data-confirm");
  if (message && !window.confirm(message)) {
    evt.preventDefault();
    evt.stopImmediatePropagation();
  }
}, true);
