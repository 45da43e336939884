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
